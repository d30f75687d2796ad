// Package netguard keeps webhook deliveries from reaching the service's own
// network (server-side request forgery): CheckURL refuses private literal
// addresses when a URL is saved, and Guard refuses private addresses when a
// connection is made, after resolving the name itself, so that neither a
// name pointing inside nor a DNS answer that changes between check and
// connect (rebinding) gets through.
package netguard

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strings"
	"time"
)

// ErrForbiddenAddress is wrapped by every refusal of Guard, so callers can
// tell a refused target (the customer's URL points inside) from a network
// failure with errors.Is.
var ErrForbiddenAddress = errors.New("forbidden address")

// Resolver resolves a host name to addresses; *net.Resolver satisfies it.
type Resolver interface {
	LookupNetIP(ctx context.Context, network, host string) ([]netip.Addr, error)
}

// Guard dials only addresses it has checked. Use its DialContext as an
// http.Transport's DialContext, with Proxy left nil: through a proxy the
// guard would check the proxy's address, and the proxy would connect to the
// target unchecked.
type Guard struct {
	// AllowPrivate lifts the check (--allow-private-targets), for local
	// development and tests.
	AllowPrivate bool
	// Resolver resolves host names; nil means net.DefaultResolver.
	Resolver Resolver
	// Dial connects to a checked IP:port; nil means a net.Dialer with a 10 s
	// connect timeout and 30 s keep-alive.
	Dial func(ctx context.Context, network, address string) (net.Conn, error)
}

var defaultDialer = &net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}

// DialContext connects to address (host:port) over TCP. It resolves the host
// itself (or parses it, when it is a literal address in any spelling
// inet_aton or netip accepts), checks every address with Forbidden, and
// dials the allowed ones in order by IP, so the address checked is the
// address connected to. When every address is refused the error wraps
// ErrForbiddenAddress and names them; when an allowed address was tried, the
// error is the first dial error.
func (g *Guard) DialContext(ctx context.Context, network, address string) (net.Conn, error) {
	var lookupNetwork string
	switch network {
	case "tcp":
		lookupNetwork = "ip"
	case "tcp4":
		lookupNetwork = "ip4"
	case "tcp6":
		lookupNetwork = "ip6"
	default:
		return nil, fmt.Errorf("netguard: dial %s %s: only tcp is supported", network, address)
	}
	host, port, err := net.SplitHostPort(address)
	if err != nil {
		return nil, fmt.Errorf("netguard: dial %s: %w", address, err)
	}
	if host == "" && !g.AllowPrivate {
		// An empty host makes net.Dial connect to the local system.
		return nil, &refusedError{host: address, reasons: []string{"no host: the local system"}}
	}

	addrs, err := g.resolve(ctx, lookupNetwork, host)
	if err != nil {
		return nil, err
	}
	var allowed []netip.Addr
	refused := &refusedError{host: host}
	for _, a := range addrs {
		if !g.AllowPrivate {
			if r := Forbidden(a); r != "" {
				refused.addrs = append(refused.addrs, a)
				refused.reasons = append(refused.reasons, r)
				continue
			}
		}
		a = a.Unmap() // ::ffff:a.b.c.d is dialled as the IPv4 address it is
		if network == "tcp4" && !a.Is4() || network == "tcp6" && !a.Is6() {
			continue
		}
		allowed = append(allowed, a)
	}
	if len(allowed) == 0 {
		if len(refused.addrs) > 0 {
			return nil, refused
		}
		return nil, fmt.Errorf("netguard: dial %s %s: no %s address", network, address, lookupNetwork)
	}

	dial := g.Dial
	if dial == nil {
		dial = defaultDialer.DialContext
	}
	var firstErr error
	for _, a := range allowed {
		conn, err := dial(ctx, network, net.JoinHostPort(a.String(), port))
		if err == nil {
			return conn, nil
		}
		if firstErr == nil {
			firstErr = err
		}
		if ctx.Err() != nil {
			break
		}
	}
	return nil, firstErr
}

// resolve returns the addresses of host: the literal itself, so no resolver
// sees a spelling it might read differently, or the resolver's answer.
func (g *Guard) resolve(ctx context.Context, network, host string) ([]netip.Addr, error) {
	if a, ok := parseLiteral(host); ok {
		return []netip.Addr{a}, nil
	}
	r := g.Resolver
	if r == nil {
		r = net.DefaultResolver
	}
	addrs, err := r.LookupNetIP(ctx, network, host)
	if err != nil {
		return nil, err
	}
	if len(addrs) == 0 {
		return nil, fmt.Errorf("netguard: resolve %s: no addresses", host)
	}
	return addrs, nil
}

// refusedError is a refusal: the host asked for, the addresses it resolved
// to and why each is forbidden.
type refusedError struct {
	host    string
	addrs   []netip.Addr
	reasons []string
}

// Error reads "refused to connect to 169.254.169.254: link-local address
// (cloud metadata)" for a literal address, and names the host and each
// address it resolved to otherwise.
func (e *refusedError) Error() string {
	var b strings.Builder
	b.WriteString("refused to connect to ")
	b.WriteString(e.host)
	for i, r := range e.reasons {
		if i > 0 {
			b.WriteString(";")
		}
		if i < len(e.addrs) && e.addrs[i].String() != e.host {
			if i == 0 {
				b.WriteString(" at")
			}
			b.WriteString(" ")
			b.WriteString(e.addrs[i].String())
		}
		b.WriteString(": ")
		b.WriteString(r)
	}
	return b.String()
}

func (e *refusedError) Unwrap() error { return ErrForbiddenAddress }
