package main

import (
	"fmt"
	"net"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"
)

// sendAndCut writes a publish of body on a connection of its own and
// returns a function that closes the connection without reading the
// answer: what a client whose connection was cut saw.
func (s *server) sendAndCut(path, key, body string) (cut func()) {
	s.t.Helper()
	u, err := url.Parse(s.URL)
	if err != nil {
		s.t.Fatal(err)
	}
	conn, err := net.Dial("tcp", u.Host)
	if err != nil {
		s.t.Fatal(err)
	}
	fmt.Fprintf(conn, "POST %s HTTP/1.1\r\nHost: %s\r\nAuthorization: Bearer %s\r\nContent-Type: application/json\r\n"+
		"Idempotency-Key: %s\r\nContent-Length: %d\r\n\r\n%s", path, u.Host, s.Token, key, len(body), body)
	return func() { conn.Close() }
}

// eventIDsOf lists the organization's deliveries' event IDs, sorted.
func (s *server) eventIDsOf(org int, key string) []string {
	s.t.Helper()
	r := s.mustDo(200, "GET", fmt.Sprintf("/v1/organizations/%d/deliveries?limit=250", org), key, nil)
	var ids []string
	for _, d := range r["data"].([]any) {
		ids = append(ids, d.(map[string]any)["eventID"].(string))
	}
	slices.Sort(ids)
	return ids
}

// A batch published under an Idempotency-Key whose client never read the
// answer (the connection cut after the commit, or before it) is published
// again with the same key: the retry answers the first eventIDs, and no
// event is stored twice. The same key with another body is refused.
func TestBatchRetriedAfterACutConnection(t *testing.T) {
	eachDB(t, func(t *testing.T, db database) {
		rc := newReceiver(t, nil)
		s := db.start(t, t.TempDir())
		orgKey := s.createOrg(1111, rc.URL)
		batch := func(name string, n int) string {
			events := make([]string, n)
			for i := range events {
				events[i] = messageStatus(1111, fmt.Sprintf("%s-%d", name, i), "delivered")
			}
			return "[" + strings.Join(events, ",") + "]"
		}
		retry := func(key, body string) []string {
			r := s.doWith("POST", "/v1/events/batch", s.Token, body, map[string]string{"Idempotency-Key": key})
			if r.Status != 202 {
				t.Fatalf("retry with %s: %d %s", key, r.Status, r.Body)
			}
			var ids []string
			for _, id := range r.json(t)["eventIDs"].([]any) {
				ids = append(ids, id.(string))
			}
			slices.Sort(ids)
			return ids
		}

		// Cut after the commit: the answer is lost, the events are not.
		first := batch("a", 20)
		cut := s.sendAndCut("/v1/events/batch", "batch-a", first)
		var stored []string
		eventually(t, 10*time.Second, "the first batch committed", func() bool {
			stored = s.eventIDsOf(1111, orgKey)
			return len(stored) == 20
		})
		cut()
		if got := retry("batch-a", first); !slices.Equal(got, stored) {
			t.Fatalf("the retry answered %v, want the first batch's %v", got, stored)
		}

		// Cut at once: committed or not, the retry leaves 20 more.
		second := batch("b", 20)
		s.sendAndCut("/v1/events/batch", "batch-b", second)()
		ids := retry("batch-b", second)
		if again := retry("batch-b", second); !slices.Equal(again, ids) {
			t.Fatalf("a second retry answered %v, the first %v", again, ids)
		}
		if all := s.eventIDsOf(1111, orgKey); len(all) != 40 {
			t.Fatalf("%d deliveries after two batches of 20 and their retries, want 40", len(all))
		}

		// The same key with another body, or another length, is refused.
		for name, body := range map[string]string{"another body": batch("c", 20), "one event less": batch("a", 19)} {
			r := s.doWith("POST", "/v1/events/batch", s.Token, body, map[string]string{"Idempotency-Key": "batch-a"})
			if r.Status != 422 || !strings.Contains(string(r.Body), `"field":"Idempotency-Key"`) {
				t.Fatalf("the key again with %s: %d %s; want 422 naming Idempotency-Key", name, r.Status, r.Body)
			}
		}
		count := rc.waitForDistinct(t, 30*time.Second, 40)
		if twice := duplicates(count); twice != 0 {
			t.Fatalf("%d events delivered twice", twice)
		}
	})
}
