package delivery

import (
	"context"
	"net"
	"net/http"
	"time"
)

// NewClient returns the one HTTP client every delivery shares: keep-alive
// connections pooled per receiver, redirects never followed (a 3xx is a
// failed attempt, as with Svix: following it would let a receiver point
// us anywhere), and every connection dialled through dial, the target
// guard. A receiver's headers are bounded (maxResponseHeader): Go's default
// of 10 MB each, times the requests in flight, would let receivers take
// the memory.
func NewClient(dial func(ctx context.Context, network, addr string) (net.Conn, error)) *http.Client {
	return &http.Client{
		Transport: &http.Transport{
			DialContext:            dial,
			ForceAttemptHTTP2:      true,
			MaxIdleConns:           4096,
			MaxIdleConnsPerHost:    512,
			IdleConnTimeout:        90 * time.Second,
			TLSHandshakeTimeout:    10 * time.Second,
			ExpectContinueTimeout:  time.Second,
			MaxResponseHeaderBytes: maxResponseHeader,
		},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// maxResponseHeader bounds a response's status line and headers, 1xx
// responses included; more fails the attempt.
const maxResponseHeader = 64 << 10
