package netguard

import (
	"strings"
	"testing"
)

func TestCheckURLRefusesPrivateLiterals(t *testing.T) {
	for _, tt := range refusedURLs {
		got := CheckURL(tt.url, false)
		if !strings.HasPrefix(got, "must not point to a private or local address (") {
			t.Errorf("CheckURL(%q) = %q, want a refusal", tt.url, got)
			continue
		}
		// The message shows the address the spelling means, so the customer
		// sees why 0x7f.1 is refused.
		if !strings.Contains(got, tt.want) {
			t.Errorf("CheckURL(%q) = %q, want it to name %s", tt.url, got, tt.want)
		}
		if got := CheckURL(tt.url, true); got != "" {
			t.Errorf("CheckURL(%q, allowPrivate) = %q, want it allowed", tt.url, got)
		}
	}
	for _, u := range refusedNames {
		if got := CheckURL(u, false); !strings.Contains(got, "this machine") {
			t.Errorf("CheckURL(%q) = %q, want a localhost refusal", u, got)
		}
		if got := CheckURL(u, true); got != "" {
			t.Errorf("CheckURL(%q, allowPrivate) = %q, want it allowed", u, got)
		}
	}
}

func TestCheckURLMessages(t *testing.T) {
	tests := []struct {
		url  string
		want string
	}{
		{"http://127.0.0.1/", "must not point to a private or local address (127.0.0.1: loopback address)"},
		{"http://0x7f.1/", "must not point to a private or local address (0x7f.1 is 127.0.0.1: loopback address)"},
		{"http://169.254.169.254/", "must not point to a private or local address (169.254.169.254: link-local address (cloud metadata))"},
		{"http://localhost/", "must not point to a private or local address (localhost: this machine)"},
	}
	for _, tt := range tests {
		if got := CheckURL(tt.url, false); got != tt.want {
			t.Errorf("CheckURL(%q) =\n %q, want\n %q", tt.url, got, tt.want)
		}
	}
}

func TestCheckURLAccepts(t *testing.T) {
	for _, u := range []string{
		"https://example.com/hook",
		"http://example.com:8080/hooks/onetalk?token=abc#x",
		"https://hooks.example.com./in",
		"https://my_service.example.com/",
		"https://xn--bcher-kva.example/",
		"https://93.184.215.14/",
		"https://[2606:2800:21f:cb07:6820:80da:af6b:8b2c]:8443/",
		"https://[::ffff:93.184.215.14]/",
		"HTTPS://Example.COM/",
		"https://localhost.example.com/", // a name of its own, not under .localhost
		"https://0x7f.example/",          // not an address: inet_aton refuses it
		"https://example.com/" + strings.Repeat("a", MaxURLLength-len("https://example.com/")),
	} {
		if got := CheckURL(u, false); got != "" {
			t.Errorf("CheckURL(%.80q) = %q, want it accepted", u, got)
		}
	}
}

// TestCheckURLInvalid covers URLs refused whatever allowPrivate says, and
// checks the message says what to fix.
func TestCheckURLInvalid(t *testing.T) {
	tests := []struct {
		url  string
		want string
	}{
		{"", "is required"},
		{"https://example.com/" + strings.Repeat("a", MaxURLLength), "must be at most 2048 bytes"},
		{"ftp://example.com/", "absolute http or https URL"},
		{"ftp://example.com/", "start it with https:// or http://"},
		{"example.com/hook", "add https:// or http://"},
		{"example.com:8080/hook", "add https:// or http://"},
		{"127.0.0.1:8080/hook", "add https:// or http://"},
		{"localhost:9000", "add https:// or http://"},
		{"/hook", "absolute http or https URL"},
		{"//example.com/hook", "add https:// or http://"},
		{"http:example.com", "absolute http or https URL"},
		{"javascript:alert(1)", "absolute http or https URL"},
		{"http:///hook", "must have a host"},
		{"https://user:secret@example.com/", "user name or password"},
		{"https://user@example.com/", "user name or password"},
		{"http://example.com:0/", "port must be between 1 and 65535"},
		{"http://example.com:65536/", "port must be between 1 and 65535"},
		{"http://exa mple.com/", "is not a valid URL"},
		{"http://[127.0.0.1]/", "is not a valid URL"},
		{"http://[::ffff:0177.0.0.1]/", "is not a valid URL"},
		{"http://exa*mple.com/", `'*' is not allowed`},
		{"http://a..b/", "empty label"},
		{"http://1.2.3.256/", "not a valid IP address"},
		{"http://1.2.3.4.5/", "not a valid IP address"},
		{"http://" + strings.Repeat("a", 64) + ".example/", "longer than 63"},
		// IDNA maps these to 127.0.0.1 in the HTTP client; see checkHostname.
		{"http://１２７。０。０。１/", "ASCII (xn--) form"},
		{"http://①②⑦.0.0.1/", "ASCII (xn--) form"},
		{"https://bücher.example/", "ASCII (xn--) form"},
	}
	for _, tt := range tests {
		for _, allow := range []bool{false, true} {
			if got := CheckURL(tt.url, allow); !strings.Contains(got, tt.want) {
				t.Errorf("CheckURL(%.80q, %v) = %q, want it to contain %q", tt.url, allow, got, tt.want)
			}
		}
	}
}
