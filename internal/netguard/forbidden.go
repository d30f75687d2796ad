package netguard

import (
	"fmt"
	"net/netip"
)

// A span is a range of addresses the service must not dial, and why.
type span struct {
	prefix netip.Prefix
	reason string
}

// forbidden4 lists the IPv4 ranges refused, the more specific before the
// ranges that contain them, so the reason given is the most precise one.
// Beyond what the product promises to refuse (loopback, private, link-local, CGNAT,
// unspecified, multicast, broadcast) it refuses ranges no webhook receiver
// can live at: "this network", IETF protocol assignments (Oracle Cloud's
// metadata service answers at 192.0.0.192), documentation and benchmarking
// ranges (often routed inside data centres), and the reserved class E.
var forbidden4 = []span{
	{netip.MustParsePrefix("255.255.255.255/32"), "limited broadcast address"},
	{netip.MustParsePrefix("0.0.0.0/32"), "unspecified address"},
	{netip.MustParsePrefix("0.0.0.0/8"), `"this network" address (0.0.0.0/8)`},
	{netip.MustParsePrefix("10.0.0.0/8"), "private address (RFC 1918)"},
	{netip.MustParsePrefix("100.64.0.0/10"), "shared address space (CGNAT, RFC 6598)"},
	{netip.MustParsePrefix("127.0.0.0/8"), "loopback address"},
	{netip.MustParsePrefix("169.254.169.254/32"), "link-local address (cloud metadata)"},
	{netip.MustParsePrefix("169.254.0.0/16"), "link-local address"},
	{netip.MustParsePrefix("172.16.0.0/12"), "private address (RFC 1918)"},
	{netip.MustParsePrefix("192.0.0.0/24"), "IETF protocol assignment (RFC 6890)"},
	{netip.MustParsePrefix("192.0.2.0/24"), "documentation address (RFC 5737)"},
	{netip.MustParsePrefix("192.168.0.0/16"), "private address (RFC 1918)"},
	{netip.MustParsePrefix("198.18.0.0/15"), "benchmarking address (RFC 2544)"},
	{netip.MustParsePrefix("198.51.100.0/24"), "documentation address (RFC 5737)"},
	{netip.MustParsePrefix("203.0.113.0/24"), "documentation address (RFC 5737)"},
	{netip.MustParsePrefix("224.0.0.0/4"), "multicast address"},
	{netip.MustParsePrefix("240.0.0.0/4"), "reserved address (240.0.0.0/4)"},
}

// forbidden6 lists the IPv6 ranges refused outright. Ranges that embed an
// IPv4 address (IPv4-mapped, NAT64, 6to4) are not here: they are judged by the
// address they embed, in Forbidden. Whatever lies outside 2000::/3 and is not
// listed is refused too (see global6).
var forbidden6 = []span{
	{netip.MustParsePrefix("::/128"), "unspecified address"},
	{netip.MustParsePrefix("::1/128"), "loopback address"},
	{netip.MustParsePrefix("64:ff9b:1::/48"), "local-use NAT64 address (RFC 8215)"},
	{netip.MustParsePrefix("100::/64"), "discard-only address (RFC 6666)"},
	// Teredo embeds its server's and (obscured) its client's IPv4 address;
	// nothing a customer runs a webhook receiver on answers at one today.
	{netip.MustParsePrefix("2001::/32"), "Teredo address (RFC 4380)"},
	{netip.MustParsePrefix("2001:2::/48"), "benchmarking address (RFC 5180)"},
	{netip.MustParsePrefix("2001:db8::/32"), "documentation address (RFC 3849)"},
	{netip.MustParsePrefix("3fff::/20"), "documentation address (RFC 9637)"},
	// AWS's instance metadata service over IPv6.
	{netip.MustParsePrefix("fd00:ec2::254/128"), "unique-local address (cloud metadata)"},
	{netip.MustParsePrefix("fc00::/7"), "unique-local address"},
	{netip.MustParsePrefix("fe80::/10"), "link-local address"},
	{netip.MustParsePrefix("fec0::/10"), "site-local address (deprecated)"},
	{netip.MustParsePrefix("ff00::/8"), "multicast address"},
}

// global6 is the only IPv6 range IANA hands out for global unicast; the rest
// is reserved, and an address there is no public host.
var global6 = netip.MustParsePrefix("2000::/3")

var (
	nat64  = netip.MustParsePrefix("64:ff9b::/96")
	sixto4 = netip.MustParsePrefix("2002::/16")
	// compat4 holds the deprecated IPv4-compatible addresses (::a.b.c.d); a
	// stack that still routes them reaches the embedded IPv4 address.
	compat4 = netip.MustParsePrefix("::/96")
)

// Forbidden reports why ip must not be dialled, or "" when it may. A zone is
// ignored: fe80::1%eth0 is as link-local as fe80::1.
func Forbidden(ip netip.Addr) string {
	if !ip.IsValid() {
		return "invalid address"
	}
	ip = ip.WithZone("")
	if ip.Is4() {
		return forbidden4Reason(ip)
	}
	if ip.Is4In6() {
		return embedded("IPv4-mapped address", ip.Unmap())
	}
	for _, s := range forbidden6 {
		if s.prefix.Contains(ip) {
			return s.reason
		}
	}
	b := ip.As16()
	switch {
	case nat64.Contains(ip):
		// A NAT64 gateway translates the embedded address and connects to it.
		return embedded("NAT64 address", netip.AddrFrom4([4]byte(b[12:16])))
	case sixto4.Contains(ip):
		return embedded("6to4 address", netip.AddrFrom4([4]byte(b[2:6])))
	case compat4.Contains(ip):
		if r := embedded("IPv4-compatible address", netip.AddrFrom4([4]byte(b[12:16]))); r != "" {
			return r
		}
	}
	if !global6.Contains(ip) && !nat64.Contains(ip) {
		return "reserved address (outside 2000::/3 global unicast)"
	}
	return ""
}

func forbidden4Reason(ip netip.Addr) string {
	for _, s := range forbidden4 {
		if s.prefix.Contains(ip) {
			return s.reason
		}
	}
	return ""
}

// embedded judges an IPv6 address by the IPv4 address inside it, which is
// where the packets end up.
func embedded(kind string, v4 netip.Addr) string {
	r := forbidden4Reason(v4)
	if r == "" {
		return ""
	}
	return fmt.Sprintf("%s embedding %s: %s", kind, v4, r)
}
