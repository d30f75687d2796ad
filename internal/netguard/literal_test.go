package netguard

import (
	"net/netip"
	"testing"
)

// TestParseLiteral pins which host spellings are read as addresses: every
// one glibc's inet_aton accepts must be, or a customer could hide 127.0.0.1
// from the save check; the ones it refuses must not be, or a valid name
// would be read as an address it is not.
func TestParseLiteral(t *testing.T) {
	tests := []struct {
		host string
		want string // "" when host is not a literal
	}{
		{"127.0.0.1", "127.0.0.1"},
		{"127.1", "127.0.0.1"},
		{"127.0.1", "127.0.0.1"},
		{"0x7f.1", "127.0.0.1"},
		{"0X7F.0X0.0X0.0X1", "127.0.0.1"},
		{"0177.0.0.1", "127.0.0.1"},
		{"127.000.000.001", "127.0.0.1"},
		{"2130706433", "127.0.0.1"},
		{"0x7f000001", "127.0.0.1"},
		{"017700000001", "127.0.0.1"},
		{"0x0000007f.1", "127.0.0.1"},
		{"127.0.0.1.", "127.0.0.1"},
		{"127.1.", "127.0.0.1"},
		{"0", "0.0.0.0"},
		{"00", "0.0.0.0"},
		{"1.16777215", "1.255.255.255"},
		{"1.2.65535", "1.2.255.255"},
		{"4294967295", "255.255.255.255"},
		{"0xffffffff", "255.255.255.255"},
		{"::1", "::1"},
		{"::ffff:127.0.0.1", "::ffff:127.0.0.1"},
		{"0:0:0:0:0:ffff:7f00:1", "::ffff:127.0.0.1"},
		{"fe80::1%eth0", "fe80::1%eth0"},

		{"", ""},
		{".", ""},
		{"example.com", ""},
		{"0x", ""},
		{"0x.1", ""},
		{"08", ""},
		{"0179.0.0.1", ""},
		{"1..2", ""},
		{".1.2.3", ""},
		{"1.2.3.4.5", ""},
		{"1.2.3.4..", ""},
		{"256.1", ""},
		{"1.256.0.0", ""},
		{"1.2.3.256", ""},
		{"1.16777216", ""},
		{"1.2.65536", ""},
		{"4294967296", ""},
		{"0x100000000", ""},
		{"99999999999999999999999", ""},
		{"+1", ""},
		{"-1", ""},
		{" 1", ""},
		{"1 ", ""},
		{"0xg", ""},
		{"127.0.0.1%eth0", ""},
		{"::1.", ""},
	}
	for _, tt := range tests {
		got, ok := parseLiteral(tt.host)
		switch {
		case tt.want == "" && ok:
			t.Errorf("parseLiteral(%q) = %s, want not a literal", tt.host, got)
		case tt.want != "" && !ok:
			t.Errorf("parseLiteral(%q) is not a literal, want %s", tt.host, tt.want)
		case tt.want != "" && got != netip.MustParseAddr(tt.want):
			t.Errorf("parseLiteral(%q) = %s, want %s", tt.host, got, tt.want)
		}
	}
}
