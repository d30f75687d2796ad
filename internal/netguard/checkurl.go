package netguard

import (
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
)

// MaxURLLength is the longest webhook URL accepted, in bytes.
const MaxURLLength = 2048

// CheckURL checks a webhook URL when it is saved: an absolute http or https
// URL with a host, no user name or password, at most MaxURLLength bytes. When
// allowPrivate is false it also refuses a host that is a literal address
// Forbidden refuses, in any spelling (see parseLiteral), and localhost names.
// It returns a message for a 422 on the field "url", or "" when the URL is
// fine.
//
// This check is for the person typing the URL; the guarantee is Guard, which
// checks the address actually dialled, since a name can resolve anywhere.
func CheckURL(raw string, allowPrivate bool) string {
	if raw == "" {
		return "is required"
	}
	if len(raw) > MaxURLLength {
		return fmt.Sprintf("must be at most %d bytes (this one is %d)", MaxURLLength, len(raw))
	}
	u, err := url.Parse(raw)
	if noScheme(raw, u, err) {
		return "has no scheme: add https:// or http:// in front"
	}
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // the url.Error repeats the whole URL
		}
		return "is not a valid URL: " + err.Error()
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Opaque != "" {
		return "must be an absolute http or https URL: start it with https:// or http://"
	}
	if u.User != nil {
		return "must not contain a user name or password"
	}
	host := u.Hostname()
	if host == "" {
		return "must have a host"
	}
	if p := u.Port(); p != "" {
		if n, err := strconv.Atoi(p); err != nil || n < 1 || n > 65535 {
			return fmt.Sprintf("has port %s; a port must be between 1 and 65535", p)
		}
	}
	addr, literal := parseLiteral(host)
	if !literal {
		if msg := checkHostname(host); msg != "" {
			return msg
		}
	}
	if allowPrivate {
		return ""
	}
	if literal {
		r := Forbidden(addr)
		if r == "" {
			return ""
		}
		if shown := addr.WithZone("").String(); shown != host {
			return fmt.Sprintf("must not point to a private or local address (%s is %s: %s)", host, shown, r)
		}
		return fmt.Sprintf("must not point to a private or local address (%s: %s)", host, r)
	}
	if isLocalhost(host) {
		return fmt.Sprintf("must not point to a private or local address (%s: this machine)", host)
	}
	return ""
}

// noScheme reports whether raw looks like a URL whose scheme was left out,
// as people write them: "example.com/hook", "example.com:8080/hook" (which
// url.Parse refuses, or reads as the scheme example.com), "//host/hook".
// Only a missing "://" counts, so "javascript:…" keeps its own message.
func noScheme(raw string, u *url.URL, err error) bool {
	if strings.Contains(raw, "://") || strings.HasPrefix(raw, "/") && !strings.HasPrefix(raw, "//") {
		return false
	}
	if strings.HasPrefix(raw, "//") {
		return true
	}
	// host:port/path parses as an opaque URL of scheme host, or not at all.
	return err != nil || u.Scheme == "" || u.Opaque != "" && u.Opaque[0] >= '0' && u.Opaque[0] <= '9'
}

// checkHostname refuses a host that is neither an address nor a DNS name.
// Non-ASCII names are refused because the HTTP client maps them to ASCII with
// IDNA before dialling, and that mapping (absent from the standard library)
// turns "１２７。０。０。１" or "①②⑦.0.0.1" into 127.0.0.1: a name we cannot
// map, we cannot judge. The customer writes the xn-- form instead.
func checkHostname(host string) string {
	const invalid = "has an invalid host %q: %s"
	name := strings.TrimSuffix(host, ".")
	if len(name) > 253 {
		return fmt.Sprintf(invalid, host, "longer than 253 characters")
	}
	labels := strings.Split(name, ".")
	for _, l := range labels {
		if l == "" {
			return fmt.Sprintf(invalid, host, "empty label")
		}
		if len(l) > 63 {
			return fmt.Sprintf(invalid, host, "a label is longer than 63 characters")
		}
		for i := 0; i < len(l); i++ {
			c := l[i]
			if c >= 0x80 {
				return fmt.Sprintf(invalid, host, "write an internationalized name in its ASCII (xn--) form")
			}
			if !isHostChar(c) {
				return fmt.Sprintf(invalid, host, fmt.Sprintf("%q is not allowed in a host name", c))
			}
		}
	}
	// No top-level domain is all digits: a name like 1.2.3.256 or 1.2.3.4.5
	// is a mistyped address, and some resolvers read odd ones as addresses.
	if allDigits(labels[len(labels)-1]) {
		return fmt.Sprintf(invalid, host, "not a valid IP address")
	}
	return ""
}

func isHostChar(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_'
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

// isLocalhost reports names that reach this machine without DNS: localhost
// and its subdomains (RFC 6761; Go's resolver and systemd answer them with
// loopback), and the loopback aliases distributions put in /etc/hosts.
func isLocalhost(host string) bool {
	h := strings.ToLower(strings.TrimSuffix(host, "."))
	switch h {
	case "localhost", "localhost.localdomain", "ip6-localhost", "ip6-loopback":
		return true
	}
	return strings.HasSuffix(h, ".localhost")
}
