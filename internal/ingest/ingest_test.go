package ingest

import (
	"context"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/onetalk/onetalk-webhooks/internal/otw"
	"github.com/onetalk/onetalk-webhooks/internal/store"
	"github.com/onetalk/onetalk-webhooks/internal/store/sqlite"
)

func open(t *testing.T) store.Store {
	t.Helper()
	st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "otw.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

func newEvent(i int, key string, body string) otw.Event {
	now := time.Now().UTC()
	return otw.Event{ID: otw.NewID("evt_", now), OrganizationID: 1, Type: "case_resolved", OrderKey: fmt.Sprint("c:", i),
		Body: []byte(body), CreatedAt: now, IdempotencyKey: key}
}

// Concurrent publishes each get their own outcome, whatever group they
// were committed in.
func TestConcurrentPublishesGetTheirOwnResults(t *testing.T) {
	st := open(t)
	c := New(st, Options{})
	defer c.Close()
	var wg sync.WaitGroup
	errs := make(chan error, 200)
	for i := range 200 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			events := []otw.Event{newEvent(i, "", `{"n":1}`), newEvent(i, "", `{"n":2}`)}
			got, err := c.Insert(context.Background(), events)
			if err != nil {
				errs <- err
				return
			}
			if len(got) != 2 || got[0].EventID != events[0].ID || got[1].EventID != events[1].ID {
				errs <- fmt.Errorf("publish %d got %+v for events %s, %s", i, got, events[0].ID, events[1].ID)
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

// A publish that fails in the store fails alone: the others of its group
// are committed.
func TestABadPublishFailsAlone(t *testing.T) {
	st := open(t)
	c := New(st, Options{})
	defer c.Close()
	if _, err := c.Insert(context.Background(), []otw.Event{newEvent(0, "k1", `{"a":1}`)}); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	results := make([]error, 50)
	for i := range results {
		wg.Add(1)
		go func() {
			defer wg.Done()
			e := newEvent(i, "", `{"ok":true}`)
			if i == 25 {
				e = newEvent(i, "k1", `{"a":2}`) // the key was used with another body
			}
			_, results[i] = c.Insert(context.Background(), []otw.Event{e})
		}()
	}
	wg.Wait()
	for i, err := range results {
		if i == 25 && otw.ErrorCode(err) != otw.EINVALID {
			t.Errorf("the reused key: %v, want EINVALID", err)
		}
		if i != 25 && err != nil {
			t.Errorf("publish %d failed with the bad one: %v", i, err)
		}
	}
}

// Two concurrent publishes with one idempotency key make one event.
func TestSameKeyConcurrentlyMakesOneEvent(t *testing.T) {
	st := open(t)
	c := New(st, Options{})
	defer c.Close()
	var wg sync.WaitGroup
	ids := make([]string, 20)
	for i := range ids {
		wg.Add(1)
		go func() {
			defer wg.Done()
			got, err := c.Insert(context.Background(), []otw.Event{newEvent(i, "same", `{"same":true}`)})
			if err != nil {
				t.Error(err)
				return
			}
			ids[i] = got[0].EventID
		}()
	}
	wg.Wait()
	for _, id := range ids {
		if id != ids[0] {
			t.Fatalf("one key gave several events: %v", ids)
		}
	}
}

// A publish whose caller has gone is not written.
func TestCanceledPublishWritesNothing(t *testing.T) {
	st := open(t)
	c := New(st, Options{})
	defer c.Close()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	e := newEvent(1, "gone", `{"x":1}`)
	if _, err := c.Insert(ctx, []otw.Event{e}); err == nil {
		t.Fatal("a canceled publish succeeded")
	}
	got, err := c.Insert(context.Background(), []otw.Event{newEvent(1, "gone", `{"x":2}`)})
	if err != nil || got[0].Existing {
		t.Fatalf("the canceled publish left its key behind: %+v, %v", got, err)
	}
}

// A publish after Close (a request that outlived the server's shutdown)
// is refused with 503, not a crash.
func TestPublishAfterCloseIsRefused(t *testing.T) {
	st := open(t)
	c := New(st, Options{})
	c.Close()
	c.Close() // twice is harmless
	_, err := c.Insert(context.Background(), []otw.Event{newEvent(1, "", `{"late":true}`)})
	if otw.ErrorCode(err) != otw.EUNAVAILABLE {
		t.Fatalf("publish after Close: %v, want EUNAVAILABLE", err)
	}
}
