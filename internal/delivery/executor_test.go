package delivery

import (
	"bufio"
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/onetalk/onetalk-webhooks/internal/store"
)

// hostile starts a receiver on 127.0.0.1 that reads one request's head
// and then behaves as serve says, on the raw connection.
func hostile(t *testing.T, serve func(conn net.Conn)) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	t.Cleanup(func() { close(done); ln.Close() })
	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer conn.Close()
				r := bufio.NewReader(conn)
				for {
					line, err := r.ReadString('\n')
					if err != nil || line == "\r\n" {
						break
					}
				}
				go func() { <-done; conn.Close() }()
				serve(conn)
			}()
		}
	}()
	return "http://" + ln.Addr().String() + "/"
}

func holdForever(conn net.Conn) { _, _ = conn.Read(make([]byte, 1)) }

func testExecutor(timeout time.Duration) *executor {
	return &executor{
		client:  NewClient((&net.Dialer{}).DialContext),
		timeout: timeout,
		rules:   rules{schedule: []time.Duration{time.Hour}, disableAfter: time.Hour, timeout: timeout, now: time.Now},
		signers: newSignerCache(func(b []byte) ([]byte, error) { return b, nil }),
	}
}

// Whatever a receiver does, the attempt ends within the timeout (plus the
// moment it takes to close) and is recorded with an error that says what
// came back.
func TestEveryAttemptEndsWithinTheTimeout(t *testing.T) {
	t.Parallel()
	const timeout = 100 * time.Millisecond
	for _, c := range []struct {
		name  string
		serve func(net.Conn)
		want  string
	}{
		{"101 and the socket held", func(conn net.Conn) {
			conn.Write([]byte("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n"))
			holdForever(conn)
		}, "101 Switching Protocols"},
		{"1xx for ever", func(conn net.Conn) {
			for {
				if _, err := conn.Write([]byte("HTTP/1.1 102 Processing\r\n\r\n")); err != nil {
					return
				}
				time.Sleep(5 * time.Millisecond)
			}
		}, "1xx"},
		{"never answers", holdForever, "no complete answer within 100ms"},
		{"drips its headers", func(conn net.Conn) {
			for _, b := range []byte("HTTP/1.1 200 OK\r\nX-Slow: " + strings.Repeat("a", 1000)) {
				if _, err := conn.Write([]byte{b}); err != nil {
					return
				}
				time.Sleep(20 * time.Millisecond)
			}
		}, "no complete answer within 100ms"},
		{"1 MB of headers", func(conn net.Conn) {
			conn.Write([]byte("HTTP/1.1 200 OK\r\n"))
			line := "X-Big: " + strings.Repeat("b", 1000) + "\r\n"
			for range 1000 {
				if _, err := conn.Write([]byte(line)); err != nil {
					return
				}
			}
			conn.Write([]byte("Content-Length: 0\r\n\r\n"))
			holdForever(conn)
		}, "response headers were larger than 64 KiB"},
		{"a body that never ends", func(conn net.Conn) {
			conn.Write([]byte("HTTP/1.1 200 OK\r\nContent-Length: 1000000\r\n\r\nok"))
			holdForever(conn)
		}, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			x := testExecutor(timeout)
			started := time.Now()
			o := x.execute(t.Context(), &store.Claimed{URL: hostile(t, c.serve), EventID: "evt_1", Body: []byte("{}"), Secret: []byte("k")})
			took := time.Since(started)
			if took > timeout+time.Second {
				t.Fatalf("the attempt took %s with a timeout of %s", took, timeout)
			}
			if o.aborted {
				t.Fatal("the attempt was not recorded (aborted)")
			}
			if !strings.Contains(o.result.Attempt.Error, c.want) {
				t.Fatalf("error %q, want it to say %q", o.result.Attempt.Error, c.want)
			}
			if c.want == "" && (o.result.Attempt.StatusCode == nil || *o.result.Attempt.StatusCode != 200) {
				// A status came back: the attempt is judged on it even
				// though the body broke off.
				t.Fatalf("a 200 whose body never ends: %+v", o.result.Attempt)
			}
		})
	}
}

// Shutdown aborts a request at once and records nothing: the delivery is
// given back, not failed.
func TestShutdownAbortsWithoutAnAttempt(t *testing.T) {
	t.Parallel()
	x := testExecutor(time.Minute)
	ctx, cancel := context.WithCancel(t.Context())
	time.AfterFunc(20*time.Millisecond, cancel)
	o := x.execute(ctx, &store.Claimed{URL: hostile(t, holdForever), Body: []byte("{}"), Secret: []byte("k")})
	if !o.aborted {
		t.Fatalf("an aborted request recorded %+v", o.result.Attempt)
	}
}

// What a response's body becomes in the attempt: its first 4 KiB, with
// bytes that are not UTF-8 replaced; the rest, up to 64 KiB, is read and
// dropped so that the connection is used again, and beyond that the
// connection is closed.
func TestResponseBodyKeptAndDrained(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name  string
		body  string
		want  string
		reuse bool
	}{
		{"empty", "", "", true},
		{"short", "ok", "ok", true},
		{"not UTF-8", "a\xffb\xfe\xfdc", "a\uFFFDb\uFFFDc", true},
		{"exactly 4 KiB", strings.Repeat("x", 4<<10), strings.Repeat("x", 4<<10), true},
		{"over 4 KiB", strings.Repeat("y", 4<<10) + "tail", strings.Repeat("y", 4<<10), true},
		{"4 KiB and 64 KiB", strings.Repeat("z", 4<<10+64<<10), strings.Repeat("z", 4<<10), true},
		{"beyond 64 KiB more", strings.Repeat("w", 4<<10+64<<10+1), strings.Repeat("w", 4<<10), false},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			var conns atomic.Int32
			srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Length", strconv.Itoa(len(c.body)))
				io.WriteString(w, c.body)
			}))
			srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
				if s == http.StateNew {
					conns.Add(1)
				}
			}
			srv.Start()
			t.Cleanup(srv.Close)
			x := testExecutor(5 * time.Second)
			for range 2 {
				o := x.execute(t.Context(), &store.Claimed{URL: srv.URL, EventID: "evt_1", Body: []byte("{}"), Secret: []byte("k")})
				if o.result.Attempt.Error != "" || o.result.Attempt.ResponseBody != c.want {
					t.Fatalf("error %q, body of %d bytes %.40q, want %d bytes %.40q", o.result.Attempt.Error,
						len(o.result.Attempt.ResponseBody), o.result.Attempt.ResponseBody, len(c.want), c.want)
				}
			}
			if got := conns.Load(); (got == 1) != c.reuse {
				t.Fatalf("2 attempts took %d connections; connection reused: want %v", got, c.reuse)
			}
		})
	}
}
