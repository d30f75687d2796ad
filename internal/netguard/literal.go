package netguard

import (
	"net/netip"
	"strings"
)

// parseLiteral reports whether host is an IP address literal and which, in
// any spelling some resolver on the path would take for one: what
// netip.ParseAddr accepts (IPv6 with or without a zone, dotted-quad IPv4),
// every form the C library's inet_aton accepts (127.1, 0x7f.1, 0177.0.0.1,
// 2130706433, 0x7f000001; a cgo or system resolver hands these to
// getaddrinfo, which reads them as addresses), and any IPv4 spelling with
// one trailing dot (127.0.0.1.), which a resolver may strip.
func parseLiteral(host string) (netip.Addr, bool) {
	if a, err := netip.ParseAddr(host); err == nil {
		return a, true
	}
	h := strings.TrimSuffix(host, ".")
	if h == "" {
		return netip.Addr{}, false
	}
	if h != host {
		if a, err := netip.ParseAddr(h); err == nil && a.Is4() {
			return a, true
		}
	}
	return parseInetAton(h)
}

// parseInetAton parses an IPv4 address as glibc's inet_aton does: one to four
// parts separated by dots, each decimal, octal (leading 0) or hexadecimal
// (leading 0x or 0X); every part but the last is one byte and the last fills
// the bytes that remain, so 127.1 is 127.0.0.1 and 2130706433 is too.
func parseInetAton(s string) (netip.Addr, bool) {
	parts := strings.Split(s, ".")
	if len(parts) > 4 {
		return netip.Addr{}, false
	}
	var v uint32
	for i, p := range parts {
		n, ok := parseAtonPart(p)
		if !ok {
			return netip.Addr{}, false
		}
		last := i == len(parts)-1
		if !last {
			if n > 0xff {
				return netip.Addr{}, false
			}
			v |= uint32(n) << (8 * (3 - i))
			continue
		}
		// The last part fills the 4-i bytes left.
		if max := uint64(1)<<(8*(4-i)) - 1; n > max {
			return netip.Addr{}, false
		}
		v |= uint32(n)
	}
	return netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)}), true
}

// parseAtonPart parses one part as strtoul with base 0 would, refusing what
// inet_aton refuses: an empty part, a sign, a bare "0x", a digit the base does
// not have, and any value over 32 bits.
func parseAtonPart(p string) (uint64, bool) {
	base := uint64(10)
	switch {
	case len(p) > 1 && p[0] == '0' && (p[1] == 'x' || p[1] == 'X'):
		base, p = 16, p[2:]
	case len(p) > 1 && p[0] == '0':
		base, p = 8, p[1:]
	}
	if p == "" {
		return 0, false
	}
	var n uint64
	for i := 0; i < len(p); i++ {
		d, ok := digitValue(p[i])
		if !ok || d >= base {
			return 0, false
		}
		n = n*base + d
		if n > 0xffffffff {
			return 0, false
		}
	}
	return n, true
}

func digitValue(c byte) (uint64, bool) {
	switch {
	case '0' <= c && c <= '9':
		return uint64(c - '0'), true
	case 'a' <= c && c <= 'f':
		return uint64(c-'a') + 10, true
	case 'A' <= c && c <= 'F':
		return uint64(c-'A') + 10, true
	}
	return 0, false
}
