package netguard

import (
	"net/netip"
	"testing"
)

// TestForbidden covers every refused range with an address inside it (at
// both ends where the range is wide) and one just outside, so a mistyped
// prefix length shows up. The reason is compared exactly: it is what the
// delivery log shows a customer.
func TestForbidden(t *testing.T) {
	const (
		private  = "private address (RFC 1918)"
		thisNet  = `"this network" address (0.0.0.0/8)`
		cgnat    = "shared address space (CGNAT, RFC 6598)"
		loopback = "loopback address"
		linkLoc  = "link-local address"
		metadata = "link-local address (cloud metadata)"
		ietf     = "IETF protocol assignment (RFC 6890)"
		doc4     = "documentation address (RFC 5737)"
		bench4   = "benchmarking address (RFC 2544)"
		multi    = "multicast address"
		class4E  = "reserved address (240.0.0.0/4)"
		reserved = "reserved address (outside 2000::/3 global unicast)"
	)
	tests := []struct {
		ip   string
		want string
	}{
		// 0.0.0.0/8
		{"0.0.0.0", "unspecified address"},
		{"0.0.0.1", thisNet},
		{"0.255.255.255", thisNet},
		{"1.0.0.0", ""},
		// 10.0.0.0/8
		{"9.255.255.255", ""},
		{"10.0.0.0", private},
		{"10.255.255.255", private},
		{"11.0.0.0", ""},
		// 100.64.0.0/10
		{"100.63.255.255", ""},
		{"100.64.0.0", cgnat},
		{"100.100.100.200", cgnat}, // Alibaba Cloud metadata
		{"100.127.255.255", cgnat},
		{"100.128.0.0", ""},
		// 127.0.0.0/8
		{"126.255.255.255", ""},
		{"127.0.0.1", loopback},
		{"127.255.255.255", loopback},
		{"128.0.0.0", ""},
		// 169.254.0.0/16
		{"169.253.255.255", ""},
		{"169.254.0.0", linkLoc},
		{"169.254.169.254", metadata},
		{"169.254.169.253", linkLoc},
		{"169.254.255.255", linkLoc},
		{"169.255.0.0", ""},
		// 172.16.0.0/12
		{"172.15.255.255", ""},
		{"172.16.0.0", private},
		{"172.31.255.255", private},
		{"172.32.0.0", ""},
		// 192.0.0.0/24
		{"191.255.255.255", ""},
		{"192.0.0.0", ietf},
		{"192.0.0.192", ietf}, // Oracle Cloud metadata
		{"192.0.1.0", ""},
		// 192.0.2.0/24
		{"192.0.1.255", ""},
		{"192.0.2.1", doc4},
		{"192.0.3.0", ""},
		// 192.168.0.0/16
		{"192.167.255.255", ""},
		{"192.168.0.0", private},
		{"192.168.255.255", private},
		{"192.169.0.0", ""},
		// 198.18.0.0/15
		{"198.17.255.255", ""},
		{"198.18.0.0", bench4},
		{"198.19.255.255", bench4},
		{"198.20.0.0", ""},
		// 198.51.100.0/24 and 203.0.113.0/24
		{"198.51.99.255", ""},
		{"198.51.100.7", doc4},
		{"198.51.101.0", ""},
		{"203.0.112.255", ""},
		{"203.0.113.7", doc4},
		{"203.0.114.0", ""},
		// 224.0.0.0/4, 240.0.0.0/4, 255.255.255.255
		{"223.255.255.255", ""},
		{"224.0.0.0", multi},
		{"239.255.255.255", multi},
		{"240.0.0.0", class4E},
		{"255.255.255.254", class4E},
		{"255.255.255.255", "limited broadcast address"},
		// Public IPv4.
		{"93.184.215.14", ""},
		{"8.8.8.8", ""},

		// ::/128, ::1/128 and the deprecated IPv4-compatible ::/96
		{"::", "unspecified address"},
		{"::1", loopback},
		{"::2", `IPv4-compatible address embedding 0.0.0.2: "this network" address (0.0.0.0/8)`},
		{"::127.0.0.1", "IPv4-compatible address embedding 127.0.0.1: loopback address"},
		{"::8.8.8.8", reserved},
		// ::ffff:0:0/96, IPv4-mapped: judged by the IPv4 address.
		{"::ffff:127.0.0.1", "IPv4-mapped address embedding 127.0.0.1: loopback address"},
		{"::ffff:169.254.169.254", "IPv4-mapped address embedding 169.254.169.254: " + metadata},
		{"::ffff:10.0.0.1", "IPv4-mapped address embedding 10.0.0.1: " + private},
		{"::ffff:255.255.255.255", "IPv4-mapped address embedding 255.255.255.255: limited broadcast address"},
		{"::ffff:93.184.215.14", ""},
		{"::fffe:7f00:1", reserved}, // just below the mapped range
		// 64:ff9b::/96, NAT64, and the local-use 64:ff9b:1::/48
		{"64:ff9b::10.0.0.1", "NAT64 address embedding 10.0.0.1: " + private},
		{"64:ff9b::169.254.169.254", "NAT64 address embedding 169.254.169.254: " + metadata},
		{"64:ff9b::93.184.215.14", ""},
		{"64:ff9b::1:0:0", reserved}, // just past the /96
		{"64:ff9a:ffff:ffff:ffff:ffff:ffff:ffff", reserved},
		{"64:ff9b:1::1", "local-use NAT64 address (RFC 8215)"},
		// 2002::/16, 6to4: the IPv4 address is bits 16–48.
		{"2002:7f00:1::", "6to4 address embedding 127.0.0.1: loopback address"},
		{"2002:a9fe:a9fe::1", "6to4 address embedding 169.254.169.254: " + metadata},
		{"2002:5db8:d70e::1", ""},
		{"2003::1", ""},
		// 100::/64, discard-only
		{"100::1", "discard-only address (RFC 6666)"},
		{"100:0:0:1::", reserved},
		// 2001::/32 Teredo, 2001:2::/48 benchmarking, 2001:db8::/32 and 3fff::/20 documentation
		{"2001::1", "Teredo address (RFC 4380)"},
		{"2001:1::1", ""},
		{"2001:2::1", "benchmarking address (RFC 5180)"},
		{"2001:2:1::", ""},
		{"2001:db8::1", "documentation address (RFC 3849)"},
		{"2001:db9::", ""},
		{"3fff::1", "documentation address (RFC 9637)"},
		{"3fff:1000::", ""},
		// fc00::/7 unique-local
		{"fbff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", reserved},
		{"fc00::", "unique-local address"},
		{"fd00:ec2::254", "unique-local address (cloud metadata)"},
		{"fdff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "unique-local address"},
		// fe80::/10 link-local, with or without a zone
		{"fe7f:ffff:ffff:ffff:ffff:ffff:ffff:ffff", reserved},
		{"fe80::1", linkLoc},
		{"fe80::1%eth0", linkLoc},
		{"febf:ffff:ffff:ffff:ffff:ffff:ffff:ffff", linkLoc},
		// fec0::/10 site-local
		{"fec0::1", "site-local address (deprecated)"},
		{"feff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "site-local address (deprecated)"},
		// ff00::/8 multicast
		{"ff02::1", multi},
		{"ff0e::1", multi},
		// 2000::/3 is global unicast; outside it is reserved.
		{"1fff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", reserved},
		{"2000::1", ""},
		{"2606:2800:21f:cb07:6820:80da:af6b:8b2c", ""},
		{"3fff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", ""},
		{"4000::1", reserved},
	}
	for _, tt := range tests {
		if got := Forbidden(netip.MustParseAddr(tt.ip)); got != tt.want {
			t.Errorf("Forbidden(%s) = %q, want %q", tt.ip, got, tt.want)
		}
	}
	if got := Forbidden(netip.Addr{}); got == "" {
		t.Error("Forbidden(zero Addr) allows it")
	}
}
