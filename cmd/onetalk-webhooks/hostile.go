package main

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// hostileKind is one way a receiver can hold a delivery's request. The
// end-to-end tests and `bench --hostile` point webhooks at them.
type hostileKind string

const (
	// hostileUpgrade answers 101 Switching Protocols and holds the socket.
	hostileUpgrade hostileKind = "101-upgrade"
	// hostileInfo answers 1xx informational responses (100, 102, 103), one
	// every 100 ms, for ever, and never a final one.
	hostileInfo hostileKind = "endless-1xx"
	// hostileSilent reads the request and never answers.
	hostileSilent hostileKind = "silent"
	// hostileDrip sends its status line and headers one byte every 200 ms,
	// for ever.
	hostileDrip hostileKind = "drip"
	// hostileBigHeaders answers 200 with 1 MB of headers.
	hostileBigHeaders hostileKind = "1mb-headers"
)

var hostileKinds = []hostileKind{hostileUpgrade, hostileInfo, hostileSilent, hostileDrip, hostileBigHeaders}

// hostileReceiver is a raw TCP server on 127.0.0.1 that reads each request
// (net/http's parser, so that what it counts is a whole request) and then
// misbehaves as its kind says, on every connection, until Close.
type hostileReceiver struct {
	kind     hostileKind
	URL      string
	requests atomic.Int64 // whole requests read

	ln     net.Listener
	mu     sync.Mutex
	conns  map[net.Conn]struct{}
	closed bool
}

func newHostileReceiver(kind hostileKind) (*hostileReceiver, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	h := &hostileReceiver{kind: kind, URL: "http://" + ln.Addr().String() + "/hook", ln: ln, conns: make(map[net.Conn]struct{})}
	go h.accept()
	return h, nil
}

// Close stops listening and closes every connection.
func (h *hostileReceiver) Close() {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.closed = true
	h.ln.Close()
	for c := range h.conns {
		c.Close()
	}
}

func (h *hostileReceiver) accept() {
	for {
		c, err := h.ln.Accept()
		if err != nil {
			return
		}
		h.mu.Lock()
		if h.closed {
			h.mu.Unlock()
			c.Close()
			return
		}
		h.conns[c] = struct{}{}
		h.mu.Unlock()
		go func() {
			defer func() {
				c.Close()
				h.mu.Lock()
				delete(h.conns, c)
				h.mu.Unlock()
			}()
			h.handle(c)
		}()
	}
}

// bigHeaders is a 200 answer whose header section is 1 MB.
var bigHeaders = func() []byte {
	var b strings.Builder
	b.WriteString("HTTP/1.1 200 OK\r\n")
	pad := strings.Repeat("x", 1000)
	for i := 0; b.Len() < 1<<20; i++ {
		fmt.Fprintf(&b, "X-Pad-%04d: %s\r\n", i, pad)
	}
	b.WriteString("Content-Length: 0\r\nConnection: close\r\n\r\n")
	return []byte(b.String())
}()

func (h *hostileReceiver) handle(c net.Conn) {
	br := bufio.NewReader(c)
	for {
		req, err := http.ReadRequest(br)
		if err != nil {
			return
		}
		_, _ = io.Copy(io.Discard, req.Body)
		h.requests.Add(1)
		switch h.kind {
		case hostileUpgrade:
			if _, err := io.WriteString(c, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n"); err != nil {
				return
			}
			_, _ = io.Copy(io.Discard, c) // held until the client gives up
			return
		case hostileSilent:
			_, _ = io.Copy(io.Discard, c)
			return
		case hostileInfo:
			go func() { _, _ = io.Copy(io.Discard, c) }() // notices the client closing
			for i := 0; ; i++ {
				info := [...]string{"100 Continue", "102 Processing", "103 Early Hints\r\nLink: </style.css>; rel=preload"}[i%3]
				if _, err := io.WriteString(c, "HTTP/1.1 "+info+"\r\n\r\n"); err != nil {
					return
				}
				time.Sleep(100 * time.Millisecond)
			}
		case hostileDrip:
			go func() { _, _ = io.Copy(io.Discard, c) }()
			head := "HTTP/1.1 200 OK\r\nX-Drip: "
			for i := 0; ; i++ {
				b := byte('a' + i%26)
				if i < len(head) {
					b = head[i]
				}
				if _, err := c.Write([]byte{b}); err != nil {
					return
				}
				time.Sleep(200 * time.Millisecond)
			}
		case hostileBigHeaders:
			_, _ = c.Write(bigHeaders)
			return
		}
	}
}

// hostileEvent is the i-th message status event of organization org, each
// of its own message, so that none waits for another's order.
func hostileEvent(org, i int) string {
	return fmt.Sprintf(`{"type":"integration_message_status","organizationID":%d,"integrationMessageStatus":{"channelID":"hostile-%d","channelType":"whatsapp","contactPhone":"628123456789","reason":"","status":"delivered","timestamp":1587352926788,"trxID":"hostile-%d-%d"}}`, org, i, org, i)
}

// hostileBatch is n of them as one JSON array, for POST /v1/events/batch.
func hostileBatch(org, n int) string {
	events := make([]string, n)
	for i := range events {
		events[i] = hostileEvent(org, i)
	}
	return "[" + strings.Join(events, ",") + "]"
}
