package webhook

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"
)

// receiver is a Handler behind a real HTTP server, recording what fn got.
type receiver struct {
	srv    *httptest.Server
	secret string
	got    chan *Event
	result error // what fn returns
}

func newReceiver(t *testing.T) *receiver {
	t.Helper()
	r := &receiver{secret: newSecret(t), got: make(chan *Event, 1)}
	h, err := Handler(r.secret, func(ctx context.Context, e *Event) error {
		r.got <- e
		return r.result
	})
	if err != nil {
		t.Fatal(err)
	}
	r.srv = httptest.NewServer(h)
	t.Cleanup(r.srv.Close)
	return r
}

// post sends body signed with secret ("" sends no signature headers) and
// returns the status and answer body.
func (r *receiver) post(t *testing.T, secret, id string, body []byte) (int, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, r.srv.URL, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	if secret != "" {
		now := time.Now()
		req.Header.Set(HeaderID, id)
		req.Header.Set(HeaderTimestamp, strconv.FormatInt(now.Unix(), 10))
		req.Header.Set(HeaderSignature, NewSigner(mustKey(t, secret)).Sign(id, now, body))
	}
	resp, err := r.srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestHandlerDelivers(t *testing.T) {
	r := newReceiver(t)
	body := readExample(t, "integration_message_status.json")
	before := time.Now().Truncate(time.Second)
	if code, msg := r.post(t, r.secret, "evt_7", body); code != http.StatusNoContent {
		t.Fatalf("status %d %q, want 204", code, msg)
	}
	e := <-r.got
	if e.ID != "evt_7" {
		t.Errorf("Event.ID = %q, want evt_7", e.ID)
	}
	if e.Timestamp.Before(before) || e.Timestamp.After(time.Now()) {
		t.Errorf("Event.Timestamp = %v, want the signing time", e.Timestamp)
	}
	if e.IntegrationMessageStatus == nil || e.IntegrationMessageStatus.TrxID != "000000-0000-0000-0000-000000" {
		t.Errorf("Event = %+v, want the parsed example", e)
	}
	if !bytes.Equal(e.Raw, body) {
		t.Errorf("Event.Raw is not the body sent")
	}
}

func TestHandlerRefuses(t *testing.T) {
	valid := func(t *testing.T) []byte { return readExample(t, "case_resolved.json") }
	cases := []struct {
		name   string
		send   func(t *testing.T, r *receiver) (int, string)
		result error // fn's answer, when it is called
		want   int
		called bool
		says   string // in the answer body
	}{
		{
			name: "no signature",
			send: func(t *testing.T, r *receiver) (int, string) { return r.post(t, "", "evt_1", valid(t)) },
			want: http.StatusUnauthorized, says: "missing signature headers",
		},
		{
			name: "wrong secret",
			send: func(t *testing.T, r *receiver) (int, string) { return r.post(t, newSecret(t), "evt_1", valid(t)) },
			want: http.StatusUnauthorized, says: "no matching signature",
		},
		{
			name: "signed but not JSON",
			send: func(t *testing.T, r *receiver) (int, string) { return r.post(t, r.secret, "evt_1", []byte(`not json`)) },
			want: http.StatusBadRequest, says: "parse body",
		},
		{
			name: "too large",
			send: func(t *testing.T, r *receiver) (int, string) {
				return r.post(t, r.secret, "evt_1", bytes.Repeat([]byte(" "), MaxBodySize+1))
			},
			want: http.StatusRequestEntityTooLarge, says: "larger than",
		},
		{
			name:   "fn fails",
			send:   func(t *testing.T, r *receiver) (int, string) { return r.post(t, r.secret, "evt_1", valid(t)) },
			result: errors.New("database password rejected"),
			want:   http.StatusInternalServerError, called: true, says: "Internal Server Error",
		},
		{
			name:   "fn refuses for good",
			send:   func(t *testing.T, r *receiver) (int, string) { return r.post(t, r.secret, "evt_1", valid(t)) },
			result: fmt.Errorf("unknown organization 1: %w", ErrPermanent),
			want:   http.StatusBadRequest, called: true, says: "Bad Request",
		},
		{
			name: "GET",
			send: func(t *testing.T, r *receiver) (int, string) {
				resp, err := r.srv.Client().Get(r.srv.URL)
				if err != nil {
					t.Fatal(err)
				}
				defer resp.Body.Close()
				b, _ := io.ReadAll(resp.Body)
				return resp.StatusCode, string(b)
			},
			want: http.StatusMethodNotAllowed, says: "POST",
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := newReceiver(t)
			r.result = c.result
			code, msg := c.send(t, r)
			if code != c.want {
				t.Fatalf("status %d %q, want %d", code, msg, c.want)
			}
			if !strings.Contains(msg, c.says) {
				t.Errorf("answer %q does not say %q", msg, c.says)
			}
			if c.result != nil && strings.Contains(msg, c.result.Error()) {
				t.Errorf("answer %q leaks fn's error", msg)
			}
			select {
			case <-r.got:
				if !c.called {
					t.Error("fn was called")
				}
			default:
				if c.called {
					t.Error("fn was not called")
				}
			}
		})
	}
}

func TestHandlerBadSecret(t *testing.T) {
	h, err := Handler("whsec_%%%", func(context.Context, *Event) error { return nil })
	if err == nil || h != nil {
		t.Fatalf("Handler with a bad secret = %v, %v; want an error", h, err)
	}
}

func TestHandlerPassesContext(t *testing.T) {
	// fn runs with the request's context, so it stops when the sender
	// hangs up.
	secret := newSecret(t)
	type key struct{}
	h, err := Handler(secret, func(ctx context.Context, e *Event) error {
		if ctx.Value(key{}) != "request" {
			return errors.New("not the request's context")
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	body := readExample(t, "integration_message_status.json")
	now := time.Now()
	req := httptest.NewRequest(http.MethodPost, "/hook", bytes.NewReader(body))
	req = req.WithContext(context.WithValue(req.Context(), key{}, "request"))
	req.Header = headers("evt_1", now.Unix(), NewSigner(mustKey(t, secret)).Sign("evt_1", now, body))
	w := httptest.NewRecorder()
	h.ServeHTTP(w, req)
	if w.Code != http.StatusNoContent {
		t.Fatalf("status %d %q, want 204", w.Code, w.Body)
	}
}
