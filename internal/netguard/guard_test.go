package netguard

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
)

// These tests never open a connection outside 127.0.0.0/8: names are
// answered by fakeResolver, and connections go to recordingDial, which hands
// back one end of a net.Pipe. Only the AllowPrivate tests dial for real, to an
// httptest server on 127.0.0.1.

// fakeResolver answers from a table, case-insensitively and ignoring a
// trailing dot as DNS does. A name with several answers in turn is answered
// with the next one on each lookup (for rebinding). An unknown name fails the
// test: it would have gone to the real DNS.
type fakeResolver struct {
	t       *testing.T
	mu      sync.Mutex
	answers map[string][][]netip.Addr
	lookups []string
	// nxdomain lets unknown names fail to resolve without failing the test.
	nxdomain bool
}

func newResolver(t *testing.T, names map[string][]string) *fakeResolver {
	r := &fakeResolver{t: t, answers: map[string][][]netip.Addr{}}
	for name, addrs := range names {
		r.answers[name] = [][]netip.Addr{parseAddrs(addrs...)}
	}
	return r
}

func parseAddrs(ss ...string) []netip.Addr {
	var as []netip.Addr
	for _, s := range ss {
		as = append(as, netip.MustParseAddr(s))
	}
	return as
}

func (r *fakeResolver) LookupNetIP(ctx context.Context, network, host string) ([]netip.Addr, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	name := strings.ToLower(strings.TrimSuffix(host, "."))
	r.lookups = append(r.lookups, name)
	answers, ok := r.answers[name]
	if !ok && !r.nxdomain {
		r.t.Errorf("resolver asked for %q (%s), which the test does not know", host, network)
	}
	if !ok {
		return nil, &net.DNSError{Err: "no such host", Name: host, IsNotFound: true}
	}
	a := answers[0]
	if len(answers) > 1 {
		r.answers[name] = answers[1:]
	}
	return a, nil
}

// recordingDial stands in for the network: it records each address it is
// asked to dial, fails the test if that address is forbidden (the guard
// let it through), and returns one end of a net.Pipe, or fail's error for an
// address listed there.
type recordingDial struct {
	t     *testing.T
	mu    sync.Mutex
	calls []string
	fail  map[string]error
}

func (d *recordingDial) Dial(ctx context.Context, network, address string) (net.Conn, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.calls = append(d.calls, network+" "+address)
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		d.t.Errorf("Dial(%q): not a checked IP:port: %v", address, err)
		return nil, err
	}
	if r := Forbidden(ap.Addr()); r != "" {
		d.t.Errorf("Dial(%q) reached the network: %s", address, r)
	}
	if err := d.fail[address]; err != nil {
		return nil, err
	}
	c1, c2 := net.Pipe()
	d.t.Cleanup(func() { c1.Close(); c2.Close() })
	return c1, nil
}

func (d *recordingDial) Calls() []string {
	d.mu.Lock()
	defer d.mu.Unlock()
	return append([]string(nil), d.calls...)
}

// privateNames resolve to addresses inside; CheckURL cannot know that, the
// guard must refuse them.
var privateNames = map[string][]string{
	"localhost":             {"127.0.0.1", "::1"},
	"api.localhost":         {"127.0.0.1"},
	"localhost.localdomain": {"127.0.0.1"},
	"internal.example":      {"10.0.0.5"},
	"metadata.example":      {"169.254.169.254"},
	"127.0.0.1.nip.example": {"127.0.0.1"},
	"v6.example":            {"fd12:3456::1", "fe80::1"},
	"mapped.example":        {"::ffff:192.168.0.1"},
	"nat64.example":         {"64:ff9b::a00:5"},
}

// TestGuardRefusesThroughHTTPClient sends every refused spelling through an
// http.Client using the guard, as the dispatcher will: each fails with an
// error that wraps ErrForbiddenAddress, names the address, and never reaches
// Dial.
func TestGuardRefusesThroughHTTPClient(t *testing.T) {
	res := newResolver(t, privateNames)
	dial := &recordingDial{t: t}
	g := &Guard{Resolver: res, Dial: dial.Dial}
	client := &http.Client{Transport: &http.Transport{DialContext: g.DialContext}}

	urls := map[string]string{} // URL → the address the error must name
	for _, tt := range refusedURLs {
		urls[tt.url] = tt.want
	}
	for _, u := range refusedNames {
		urls[u] = "127.0.0.1"
	}
	for name, addrs := range privateNames {
		urls["https://"+name+"/hook"] = strings.TrimPrefix(addrs[0], "::ffff:")
	}
	if len(urls) < 25 {
		t.Fatalf("only %d refused spellings", len(urls))
	}
	for u, want := range urls {
		resp, err := client.Post(u, "application/json", strings.NewReader(`{}`))
		if err == nil {
			resp.Body.Close()
			t.Errorf("POST %s: got %s, want a refusal", u, resp.Status)
			continue
		}
		var ue *url.Error
		if !errors.As(err, &ue) || !errors.Is(ue, ErrForbiddenAddress) {
			t.Errorf("POST %s: %v, want an error wrapping ErrForbiddenAddress", u, err)
			continue
		}
		if !strings.Contains(err.Error(), "refused to connect to ") || !strings.Contains(err.Error(), want) {
			t.Errorf("POST %s: %v, want it to name %s", u, err, want)
		}
	}
	if calls := dial.Calls(); len(calls) != 0 {
		t.Errorf("Dial was called %d times: %v", len(calls), calls)
	}
}

func TestGuardRefusalMessage(t *testing.T) {
	g := &Guard{Resolver: newResolver(t, privateNames), Dial: (&recordingDial{t: t}).Dial}
	tests := []struct {
		address string
		want    string
	}{
		{"169.254.169.254:80", "refused to connect to 169.254.169.254: link-local address (cloud metadata)"},
		{"0x7f.1:80", "refused to connect to 0x7f.1 at 127.0.0.1: loopback address"},
		{"internal.example:443", "refused to connect to internal.example at 10.0.0.5: private address (RFC 1918)"},
		{"v6.example:443", "refused to connect to v6.example at fd12:3456::1: unique-local address; fe80::1: link-local address"},
		{":80", "refused to connect to :80: no host: the local system"},
	}
	for _, tt := range tests {
		_, err := g.DialContext(context.Background(), "tcp", tt.address)
		if !errors.Is(err, ErrForbiddenAddress) {
			t.Errorf("DialContext(%q) = %v, want ErrForbiddenAddress", tt.address, err)
			continue
		}
		if err.Error() != tt.want {
			t.Errorf("DialContext(%q) =\n %q, want\n %q", tt.address, err, tt.want)
		}
	}
}

// TestGuardDialsTheCheckedAddress shows an allowed address reaches Dial as
// exactly that IP:port, whether named or written literally, and that the
// connection Dial made is the one returned.
func TestGuardDialsTheCheckedAddress(t *testing.T) {
	res := newResolver(t, map[string][]string{"hooks.example": {"93.184.215.14"}})
	for _, address := range []string{"hooks.example:443", "93.184.215.14:443", "[::ffff:93.184.215.14]:443"} {
		dial := &recordingDial{t: t}
		var dialled net.Conn
		g := &Guard{Resolver: res, Dial: func(ctx context.Context, network, address string) (net.Conn, error) {
			c, err := dial.Dial(ctx, network, address)
			dialled = c
			return c, err
		}}
		conn, err := g.DialContext(context.Background(), "tcp", address)
		if err != nil {
			t.Fatalf("DialContext(%q): %v", address, err)
		}
		if conn != dialled {
			t.Errorf("DialContext(%q) returned a connection Dial did not make", address)
		}
		conn.Close()
		if got, want := dial.Calls(), []string{"tcp 93.184.215.14:443"}; !slices.Equal(got, want) {
			t.Errorf("DialContext(%q) dialled %q, want %q", address, got, want)
		}
	}
	// A literal is never handed to the resolver, which could read it differently.
	if got := res.lookups; len(got) != 1 || got[0] != "hooks.example" {
		t.Errorf("resolver lookups = %q, want only hooks.example", got)
	}
}

// TestGuardDNSRebinding: a name that answers a public address when first
// asked and a private one after must be refused the second time, because the
// guard dials what it checked on each dial and never asks again.
func TestGuardDNSRebinding(t *testing.T) {
	res := newResolver(t, nil)
	res.answers["rebind.example"] = [][]netip.Addr{parseAddrs("93.184.215.14"), parseAddrs("127.0.0.1")}
	dial := &recordingDial{t: t}
	g := &Guard{Resolver: res, Dial: dial.Dial}

	conn, err := g.DialContext(context.Background(), "tcp", "rebind.example:443")
	if err != nil {
		t.Fatalf("first dial: %v", err)
	}
	conn.Close()
	_, err = g.DialContext(context.Background(), "tcp", "rebind.example:443")
	if !errors.Is(err, ErrForbiddenAddress) {
		t.Fatalf("second dial = %v, want ErrForbiddenAddress", err)
	}
	if got, want := dial.Calls(), []string{"tcp 93.184.215.14:443"}; !slices.Equal(got, want) {
		t.Errorf("dialled %q, want %q", got, want)
	}
	if got := len(res.lookups); got != 2 {
		t.Errorf("resolved %d times, want 2 (one per dial)", got)
	}
}

// TestGuardSkipsForbiddenAnswers: a name answering both inside and outside
// addresses is dialled only outside, in the resolver's order, the next
// address tried when one fails.
func TestGuardSkipsForbiddenAnswers(t *testing.T) {
	res := newResolver(t, map[string][]string{
		"mixed.example": {"10.0.0.5", "2606:2800:21f:cb07:6820:80da:af6b:8b2c", "::1", "93.184.215.14"},
	})
	refused := errors.New("connection refused")
	dial := &recordingDial{t: t, fail: map[string]error{"[2606:2800:21f:cb07:6820:80da:af6b:8b2c]:443": refused}}
	g := &Guard{Resolver: res, Dial: dial.Dial}
	conn, err := g.DialContext(context.Background(), "tcp", "mixed.example:443")
	if err != nil {
		t.Fatalf("DialContext: %v", err)
	}
	conn.Close()
	want := []string{"tcp [2606:2800:21f:cb07:6820:80da:af6b:8b2c]:443", "tcp 93.184.215.14:443"}
	if got := dial.Calls(); !slices.Equal(got, want) {
		t.Errorf("dialled %q, want %q", got, want)
	}

	// When every allowed address fails, the error is the first dial's, not a
	// refusal: the target is allowed, just down.
	dial = &recordingDial{t: t, fail: map[string]error{
		"[2606:2800:21f:cb07:6820:80da:af6b:8b2c]:443": refused,
		"93.184.215.14:443":                            errors.New("timeout"),
	}}
	g.Dial = dial.Dial
	_, err = g.DialContext(context.Background(), "tcp", "mixed.example:443")
	if err != refused {
		t.Errorf("DialContext = %v, want the first dial error %v", err, refused)
	}
	if len(dial.Calls()) != 2 {
		t.Errorf("dialled %q, want both allowed addresses", dial.Calls())
	}
}

func TestGuardNetworks(t *testing.T) {
	res := newResolver(t, map[string][]string{"dual.example": {"2606:2800:21f:cb07:6820:80da:af6b:8b2c", "93.184.215.14"}})
	for _, tt := range []struct{ network, want string }{
		{"tcp4", "tcp4 93.184.215.14:80"},
		{"tcp6", "tcp6 [2606:2800:21f:cb07:6820:80da:af6b:8b2c]:80"},
	} {
		dial := &recordingDial{t: t}
		g := &Guard{Resolver: res, Dial: dial.Dial}
		conn, err := g.DialContext(context.Background(), tt.network, "dual.example:80")
		if err != nil {
			t.Fatalf("DialContext(%s): %v", tt.network, err)
		}
		conn.Close()
		if got := dial.Calls(); !slices.Equal(got, []string{tt.want}) {
			t.Errorf("DialContext(%s) dialled %q, want %q", tt.network, got, tt.want)
		}
	}

	dial := &recordingDial{t: t}
	g := &Guard{Resolver: res, Dial: dial.Dial}
	if _, err := g.DialContext(context.Background(), "udp", "93.184.215.14:53"); err == nil {
		t.Error("DialContext(udp) succeeded, want only tcp")
	}
	if _, err := g.DialContext(context.Background(), "tcp6", "93.184.215.14:80"); err == nil {
		t.Error("DialContext(tcp6, IPv4 literal) succeeded")
	}
	if len(dial.Calls()) != 0 {
		t.Errorf("dialled %q, want nothing", dial.Calls())
	}
}

// TestGuardResolverError: a name that does not resolve is a DNS failure the
// dispatcher retries, not a refusal.
func TestGuardResolverError(t *testing.T) {
	res := newResolver(t, nil)
	res.nxdomain = true
	g := &Guard{Resolver: res, Dial: (&recordingDial{t: t}).Dial}
	_, err := g.DialContext(context.Background(), "tcp", "nx.example:443")
	var dnsErr *net.DNSError
	if !errors.As(err, &dnsErr) || errors.Is(err, ErrForbiddenAddress) {
		t.Errorf("DialContext = %v, want the resolver's DNS error", err)
	}
}

// TestGuardAllowPrivate dials a real server on 127.0.0.1: allowed with
// AllowPrivate, refused without, through an http.Client as in production.
func TestGuardAllowPrivate(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "delivered")
	}))
	defer srv.Close()
	u, _ := url.Parse(srv.URL)
	byName := "http://localhost:" + u.Port() + "/"

	allow := &http.Client{Transport: &http.Transport{DialContext: (&Guard{AllowPrivate: true}).DialContext}}
	for _, target := range []string{srv.URL, byName} {
		resp, err := allow.Post(target, "application/json", strings.NewReader(`{}`))
		if err != nil {
			t.Fatalf("AllowPrivate: POST %s: %v", target, err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if string(body) != "delivered" {
			t.Errorf("AllowPrivate: POST %s: body %q", target, body)
		}
	}

	// The zero Guard uses the real resolver for "localhost" (from /etc/hosts)
	// and the real dialer, which it must never reach.
	deny := &http.Client{Transport: &http.Transport{DialContext: (&Guard{}).DialContext}}
	for _, target := range []string{srv.URL, byName} {
		resp, err := deny.Post(target, "application/json", strings.NewReader(`{}`))
		if err == nil {
			resp.Body.Close()
			t.Fatalf("Guard{}: POST %s: %s, want a refusal", target, resp.Status)
		}
		var ue *url.Error
		if !errors.As(err, &ue) || !errors.Is(ue, ErrForbiddenAddress) {
			t.Errorf("Guard{}: POST %s: %v, want a *url.Error wrapping ErrForbiddenAddress", target, err)
		}
	}
}
