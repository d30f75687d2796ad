package netguard

import (
	"net"
	"net/netip"
	"net/url"
	"strings"
	"testing"
)

// FuzzCheckURL: CheckURL never panics; a URL it accepts with allowPrivate
// false has no host that the standard library's own parsers (netip.ParseAddr,
// net.ParseIP), with or without one trailing dot, read as a forbidden
// address; and allowPrivate only ever lifts refusals, never adds them.
func FuzzCheckURL(f *testing.F) {
	for _, tt := range refusedURLs {
		f.Add(tt.url)
	}
	for _, u := range refusedNames {
		f.Add(u)
	}
	for _, u := range []string{
		"https://example.com/hook",
		"https://93.184.215.14:8443/",
		"https://[2606:2800:21f:cb07:6820:80da:af6b:8b2c]/",
		"http://[fe80::1%25eth0]:80/",
		"http://[::ffff:93.184.215.14]/",
		"https://user:pw@example.com/",
		"http://１２７。０。０。１/",
		"http://1.2.3.256/",
		"ftp://x/",
		"",
	} {
		f.Add(u)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		msg := CheckURL(raw, false)
		if msg == "" {
			if lifted := CheckURL(raw, true); lifted != "" {
				t.Fatalf("CheckURL(%q, true) = %q but CheckURL(%q, false) accepts it", raw, lifted, raw)
			}
		}
		if msg != "" {
			return
		}
		u, err := url.Parse(raw)
		if err != nil {
			t.Fatalf("CheckURL accepted %q, which url.Parse refuses: %v", raw, err)
		}
		host := u.Hostname()
		for _, h := range []string{host, strings.TrimSuffix(host, ".")} {
			if a, err := netip.ParseAddr(h); err == nil {
				if r := Forbidden(a); r != "" {
					t.Fatalf("CheckURL accepted %q; its host %s is %s", raw, a, r)
				}
			}
			if ip := net.ParseIP(h); ip != nil {
				a, _ := netip.AddrFromSlice(ip)
				if r := Forbidden(a); r != "" {
					t.Fatalf("CheckURL accepted %q; its host %s is %s", raw, ip, r)
				}
			}
		}
	})
}
