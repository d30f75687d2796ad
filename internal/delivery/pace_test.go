package delivery

import (
	"testing"
	"time"
)

func TestPacerSpacesRequestsWithoutBurst(t *testing.T) {
	p := newPacer()
	now := time.Date(2026, 12, 2, 0, 0, 0, 0, time.UTC)
	if ok, _ := p.take(1, 50, now); !ok {
		t.Fatal("the first request of an idle webhook must go at once")
	}
	ok, at := p.take(1, 50, now.Add(5*time.Millisecond))
	if ok || !at.Equal(now.Add(20*time.Millisecond)) {
		t.Fatalf("a second request 5 ms later: %v, next at %v; want it to wait until 20 ms", ok, at)
	}
	// Idle for a while: no credit saved up, so no burst afterwards.
	later := now.Add(10 * time.Second)
	if ok, _ := p.take(1, 50, later); !ok {
		t.Fatal("after a pause the next request goes at once")
	}
	if ok, _ := p.take(1, 50, later); ok {
		t.Fatal("a burst after a pause: two requests at the same instant")
	}
	// Other webhooks and unlimited ones are not held.
	if ok, _ := p.take(2, 50, later); !ok {
		t.Fatal("another webhook waited for this one's turn")
	}
	for range 100 {
		if ok, _ := p.take(3, 0, later); !ok {
			t.Fatal("a webhook without a limit waited")
		}
	}
}
