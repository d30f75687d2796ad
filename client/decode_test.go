package client

import (
	"encoding/json"
	"net/http"
	"slices"
	"testing"
	"time"
)

// These tests cover what the real service cannot be made to show: answers
// in the shapes it may grow (notDelivered), and the exact limits of a
// split. Everything else is tested against serve (client_test.go).

func TestDecodeAccepted(t *testing.T) {
	for _, tc := range []struct {
		body string
		want Result
	}{
		{`{"eventID":"evt_1","deliveryID":"dlv_1"}`, Result{EventID: "evt_1", DeliveryID: "dlv_1"}},
		{`{"eventID":"evt_1","deliveryID":null}`, Result{EventID: "evt_1"}},
		{`{"eventID":"evt_1","deliveryID":null,"notDelivered":"no webhook"}`, Result{EventID: "evt_1", NotDelivered: "no webhook"}},
		{`{"eventID":"evt_1","deliveryID":"dlv_1","notDelivered":null}`, Result{EventID: "evt_1", DeliveryID: "dlv_1"}},
	} {
		var a acceptedJSON
		if err := json.Unmarshal([]byte(tc.body), &a); err != nil || a.result() != tc.want {
			t.Errorf("%s: %+v, %v; want %+v", tc.body, a.result(), err, tc.want)
		}
	}
}

func TestDecodeBatchAccepted(t *testing.T) {
	two := []Result{{EventID: "evt_1"}, {EventID: "evt_2"}}
	for _, tc := range []struct {
		body string
		want []Result // nil: an error
	}{
		{`{"eventIDs":["evt_1","evt_2"]}`, two},
		{`{"eventIDs":["evt_1"]}`, nil},
		{`{"eventIDs":["evt_1","evt_2"],"deliveryIDs":["dlv_1",null],"notDelivered":[null,"webhook disabled"]}`,
			[]Result{{EventID: "evt_1", DeliveryID: "dlv_1"}, {EventID: "evt_2", NotDelivered: "webhook disabled"}}},
		{`{"eventIDs":["evt_1","evt_2"],"notDelivered":{"evt_2":"not subscribed"}}`,
			[]Result{{EventID: "evt_1"}, {EventID: "evt_2", NotDelivered: "not subscribed"}}},
		{`{"events":[{"eventID":"evt_1","deliveryID":"dlv_1"},{"eventID":"evt_2","deliveryID":null,"notDelivered":"no webhook"}]}`,
			[]Result{{EventID: "evt_1", DeliveryID: "dlv_1"}, {EventID: "evt_2", NotDelivered: "no webhook"}}},
	} {
		var a batchAcceptedJSON
		if err := json.Unmarshal([]byte(tc.body), &a); err != nil {
			t.Fatal(err)
		}
		got, err := a.results(2)
		if (err != nil) != (tc.want == nil) || !slices.Equal(got, tc.want) {
			t.Errorf("%s: %+v, %v; want %+v", tc.body, got, err, tc.want)
		}
	}
}

func TestSplit(t *testing.T) {
	sized := func(sizes ...int) [][]byte {
		out := make([][]byte, len(sizes))
		for i, n := range sizes {
			out[i] = make([]byte, n)
		}
		return out
	}
	for _, tc := range []struct {
		name   string
		bodies [][]byte
		maxLen int
		max    int
		want   []chunk
	}{
		{"one", sized(5), 3, 100, []chunk{{0, 1}}},
		{"by count", sized(1, 1, 1, 1, 1, 1, 1), 3, 100, []chunk{{0, 3}, {3, 6}, {6, 7}}},
		// [aaaa,bbbb] is 11 bytes: it fits 11 and not 10.
		{"bytes: exactly full", sized(4, 4, 4), 10, 11, []chunk{{0, 2}, {2, 3}}},
		{"bytes: one over", sized(4, 4, 4), 10, 10, []chunk{{0, 1}, {1, 2}, {2, 3}}},
		{"an event alone at the limit", sized(8, 1), 10, 10, []chunk{{0, 1}, {1, 2}}},
	} {
		got := split(tc.bodies, tc.maxLen, tc.max)
		if !slices.Equal(got, tc.want) {
			t.Errorf("%s: %v, want %v", tc.name, got, tc.want)
		}
		for _, c := range got {
			if n := len(batchBody(tc.bodies[c.from:c.to])); n > tc.max {
				t.Errorf("%s: chunk %v is %d bytes", tc.name, c, n)
			}
		}
	}
}

func TestReindex(t *testing.T) {
	e := &Error{Fields: []FieldError{{Field: "[3].caseResolved.caseID"}, {Field: "batch"}, {Field: "[x]"}}}
	reindex(e, 1000)
	want := []FieldError{{Field: "[1003].caseResolved.caseID"}, {Field: "batch"}, {Field: "[x]"}}
	if !slices.Equal(e.Fields, want) {
		t.Fatalf("%v, want %v", e.Fields, want)
	}
}

func TestRetryAfter(t *testing.T) {
	h := http.Header{}
	if retryAfter(h) != 0 {
		t.Error("none")
	}
	h.Set("Retry-After", "2")
	if retryAfter(h) != 2*time.Second {
		t.Error("seconds")
	}
	h.Set("Retry-After", time.Now().Add(time.Hour).UTC().Format(http.TimeFormat))
	if d := retryAfter(h); d <= 0 || d > time.Hour {
		t.Errorf("date: %s", d)
	}
}

func TestBackoffStaysWithinThePolicy(t *testing.T) {
	c := New("http://x", "t", WithRetry(RetryPolicy{BaseDelay: 100 * time.Millisecond, MaxDelay: time.Second}))
	for n := 1; n < 70; n++ {
		ceiling := min(time.Second, 100*time.Millisecond<<min(n-1, 20))
		if d := c.backoff(n); d < ceiling/2 || d > ceiling {
			t.Fatalf("retry %d waits %s, want %s to %s", n, d, ceiling/2, ceiling)
		}
	}
	// Base delays that a doubling would overflow stay at the maximum.
	c = New("http://x", "t", WithRetry(RetryPolicy{BaseDelay: time.Hour, MaxDelay: 1000 * time.Hour}))
	for n := 1; n < 70; n++ {
		if d := c.backoff(n); d < time.Hour/2 || d > 1000*time.Hour {
			t.Fatalf("retry %d waits %s", n, d)
		}
	}
}
