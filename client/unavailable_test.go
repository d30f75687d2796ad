package client_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/onetalk/onetalk-webhooks/client"
)

// serve answers 503 only on a database fault (a full disk, an unreachable
// PostgreSQL), which this package's tests cannot cause; a stand-in gives
// the answers serve gives then (problem+json, Retry-After: 2), and a
// proxy's 502 page. The retries must repeat the first attempt's key.
func TestUnavailableIsRetriedUnderTheSameKey(t *testing.T) {
	var mu sync.Mutex
	var keys []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		mu.Lock()
		keys = append(keys, r.Header.Get("Idempotency-Key"))
		n := len(keys)
		mu.Unlock()
		switch n {
		case 1:
			w.Header().Set("Content-Type", "application/problem+json")
			w.Header().Set("Retry-After", "1")
			w.WriteHeader(503)
			fmt.Fprint(w, `{"type":"urn:onetalk-webhooks:problem:unavailable","title":"Service Unavailable","status":503,"detail":"the database is out of disk space"}`)
		case 2:
			w.WriteHeader(502)
			fmt.Fprint(w, "<html>bad gateway</html>")
		default:
			w.WriteHeader(202)
			fmt.Fprint(w, `{"eventID":"evt_1","deliveryID":null}`)
		}
	}))
	defer srv.Close()

	c := client.New(srv.URL, "ota_x", client.WithRetry(client.RetryPolicy{BaseDelay: time.Millisecond}))
	res, err := c.Publish(context.Background(), status(1, "a"))
	if err != nil || res.EventID != "evt_1" {
		t.Fatalf("%+v, %v", res, err)
	}
	mu.Lock()
	got := keys
	mu.Unlock()
	if len(got) != 3 || got[0] == "" || got[1] != got[0] || got[2] != got[0] {
		t.Fatalf("keys %q, want one key three times", got)
	}

	// A policy that cannot wait out the Retry-After returns the 503.
	mu.Lock()
	keys = nil
	mu.Unlock()
	c = client.New(srv.URL, "ota_x", client.WithRetry(client.RetryPolicy{MaxElapsed: 100 * time.Millisecond}))
	_, err = c.Publish(context.Background(), status(1, "a"))
	var e *client.Error
	if !errors.As(err, &e) || e.StatusCode != 503 || e.RetryAfter != time.Second || e.Detail != "the database is out of disk space" || !e.Temporary() {
		t.Fatalf("error %v (%+v)", err, e)
	}

	// The proxy's page, with retries off: an Error without a problem type.
	c = client.New(srv.URL, "ota_x", client.WithRetry(client.RetryPolicy{MaxAttempts: 1}))
	_, err = c.Publish(context.Background(), status(1, "a"))
	if !errors.As(err, &e) || e.StatusCode != 502 || e.Type != "" || e.Detail != "<html>bad gateway</html>" {
		t.Fatalf("error %v (%+v)", err, e)
	}
}
