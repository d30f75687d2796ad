package service

import (
	"errors"
	"testing"

	"github.com/onetalk/onetalk-webhooks/internal/otw"
)

// rateLimit is optional: absent and null are no limit (a PUT replaces the
// settings); anything but a whole number from 1 to otw.MaxRateLimit is
// refused naming the field, beside the other fields' errors.
func TestParseWebhookSettingsRateLimit(t *testing.T) {
	const base = `{"enabled":true,"url":"https://example.com/hook","subscribedEvents":["case_resolved"]`
	for _, c := range []struct {
		member string
		want   int
	}{
		{``, 0},
		{`,"rateLimit":null`, 0},
		{`,"rateLimit":1`, 1},
		{`,"rateLimit":250`, 250},
		{`,"rateLimit":25.0`, 25},
		{`,"rateLimit":100000`, otw.MaxRateLimit},
	} {
		set, err := ParseWebhookSettings([]byte(base+c.member+`}`), false)
		if err != nil || set.RateLimit != c.want {
			t.Errorf("%s: RateLimit %d, %v; want %d", c.member, set.RateLimit, err, c.want)
		}
	}
	for _, member := range []string{
		`"rateLimit":0`, `"rateLimit":-5`, `"rateLimit":2.5`, `"rateLimit":100001`, `"rateLimit":1e300`,
		`"rateLimit":"10"`, `"rateLimit":true`, `"rateLimit":[10]`,
	} {
		_, err := ParseWebhookSettings([]byte(base+","+member+`}`), false)
		if !namesOnly(err, "rateLimit") {
			t.Errorf("%s: %v, want EINVALID naming rateLimit only", member, err)
		}
	}
	// Every bad field is named at once.
	_, err := ParseWebhookSettings([]byte(`{"enabled":true,"url":"ftp://x/","subscribedEvents":["case_resolved"],"rateLimit":0}`), false)
	var e *otw.Error
	if !errors.As(err, &e) || len(e.Fields) != 2 || e.Fields[0].Field != "url" || e.Fields[1].Field != "rateLimit" {
		t.Errorf("a bad url and rateLimit: %v, want both named", err)
	}
}

func namesOnly(err error, field string) bool {
	var e *otw.Error
	return errors.As(err, &e) && e.Code == otw.EINVALID && len(e.Fields) == 1 && e.Fields[0].Field == field
}

// signing is optional ("" keeps the webhook's scheme); anything but the
// two schemes is refused naming the field.
func TestParseWebhookSettingsSigning(t *testing.T) {
	const base = `{"enabled":true,"url":"https://example.com/hook","subscribedEvents":["case_resolved"]`
	for member, want := range map[string]string{``: "", `,"signing":null`: "", `,"signing":"hmac-sha256"`: otw.SigningHMAC, `,"signing":"ed25519"`: otw.SigningEd25519} {
		set, err := ParseWebhookSettings([]byte(base+member+`}`), false)
		if err != nil || set.Signing != want {
			t.Errorf("%s: Signing %q, %v; want %q", member, set.Signing, err, want)
		}
	}
	for _, member := range []string{`"signing":""`, `"signing":"ed448"`, `"signing":"ED25519"`, `"signing":1`, `"signing":["ed25519"]`} {
		_, err := ParseWebhookSettings([]byte(base+","+member+`}`), false)
		if !namesOnly(err, "signing") {
			t.Errorf("%s: %v, want EINVALID naming signing only", member, err)
		}
	}
}
