package delivery

import "testing"

// A span's url.full holds no credential: no userinfo, no query value.
func TestRedactURL(t *testing.T) {
	for raw, want := range map[string]string{
		"https://hooks.example.com/in":                      "https://hooks.example.com/in",
		"https://user:pass@hooks.example.com/in?t=1&t=2&k=": "https://hooks.example.com/in?k=REDACTED&t=REDACTED",
		"http://127.0.0.1:9000/hook?token=s3cret#frag":      "http://127.0.0.1:9000/hook?token=REDACTED",
	} {
		if got := redactURL(raw); got != want {
			t.Errorf("redactURL(%q) = %q, want %q", raw, got, want)
		}
	}
}
