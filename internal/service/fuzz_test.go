package service

import (
	"errors"
	"strings"
	"testing"

	"github.com/onetalk/onetalk-webhooks/internal/event"
	"github.com/onetalk/onetalk-webhooks/internal/netguard"
	"github.com/onetalk/onetalk-webhooks/internal/otw"
)

// FuzzParseWebhookSettings holds ParseWebhookSettings to its promises on
// any body: it never panics; what it accepts has a URL the target guard
// accepts and a non-empty list of known, distinct event types; what it
// refuses is EMALFORMED, or EINVALID naming at least one field; and
// allowPrivate only ever lifts refusals; an accepted rate limit is none (0)
// or 1 to otw.MaxRateLimit.
func FuzzParseWebhookSettings(f *testing.F) {
	for _, body := range []string{
		`{"enabled":true,"url":"https://example.com/hook","subscribedEvents":["integration_message_status","case_resolved"]}`,
		`{"enabled":false,"url":"http://93.184.215.14:8080/x?y=1","subscribedEvents":["case_resolved"]}`,
		`{"enabled":true,"url":"https://example.com/","subscribedEvents":["case_resolved","case_resolved"]}`,
		`{"enabled":true,"url":"http://127.0.0.1:9/","subscribedEvents":["case_resolved"]}`,
		`{"enabled":true,"url":"http://[::ffff:169.254.169.254]/","subscribedEvents":["case_resolved"]}`,
		`{"enabled":true,"url":"http://0x7f.1/","subscribedEvents":["case_resolved"]}`,
		`{"enabled":"yes","url":"ftp://example.com/","subscribedEvents":[]}`,
		`{"enabled":true,"url":"https://example.com/","subscribedEvents":["nope",1,null]}`,
		`{"enabled":null,"url":null,"subscribedEvents":null}`,
		`{"url":["https://example.com/"],"subscribedEvents":{"a":1}}`,
		`{"enabled":true,"url":"https://example.com/","subscribedEvents":["case_resolved"],"enabled":false}`,
		`{"enabled":true,"url":"https://ex\u0061mple.com/","subscribedEvents":["case_\u0072esolved"]}`,
		`{"enabled":true,"url":"https://example.com/","subscribedEvents":["case_resolved"],"x":` + strings.Repeat("[", 100) + strings.Repeat("]", 100) + `}`,
		`{"enabled":true,"url":"https://example.com/","subscribedEvents":["case_resolved"],"rateLimit":50}`,
		`{"enabled":true,"url":"https://example.com/","subscribedEvents":["case_resolved"],"rateLimit":2.5e1}`,
		`{"enabled":true,"url":"https://example.com/","subscribedEvents":["case_resolved"],"rateLimit":-1e300}`,
		`{"enabled":true,"url":"https://example.com/","subscribedEvents":["case_resolved"],"rateLimit":"10"}`,
		`{}`, `[]`, `null`, `"x"`, `{"a"`, ``, `{"enabled":tru}`, "\xff",
	} {
		f.Add([]byte(body), false)
		f.Add([]byte(body), true)
	}
	f.Fuzz(func(t *testing.T, body []byte, allowPrivate bool) {
		set, err := ParseWebhookSettings(body, allowPrivate)
		if err != nil {
			var e *otw.Error
			if !errors.As(err, &e) {
				t.Fatalf("error %v is a %T, not an *otw.Error", err, err)
			}
			switch e.Code {
			case otw.EMALFORMED:
			case otw.EINVALID:
				if len(e.Fields) == 0 {
					t.Fatalf("EINVALID names no field: %v", err)
				}
			default:
				t.Fatalf("code %q: %v", e.Code, err)
			}
			return
		}
		if msg := netguard.CheckURL(set.URL, allowPrivate); msg != "" {
			t.Fatalf("accepted url %q, which the guard refuses: %s", set.URL, msg)
		}
		if len(set.SubscribedEvents) == 0 {
			t.Fatalf("accepted with no subscribed events: %s", body)
		}
		if set.RateLimit < 0 || set.RateLimit > otw.MaxRateLimit {
			t.Fatalf("accepted rate limit %d: %s", set.RateLimit, body)
		}
		seen := map[string]bool{}
		for _, name := range set.SubscribedEvents {
			if !event.Known(name) || seen[name] {
				t.Fatalf("accepted events %q: %q is unknown or repeated", set.SubscribedEvents, name)
			}
			seen[name] = true
		}
		if !allowPrivate {
			if lifted, err := ParseWebhookSettings(body, true); err != nil || lifted.URL != set.URL {
				t.Fatalf("accepted without allowPrivate but with it: %+v, %v", lifted, err)
			}
		}
	})
}

// A body nested deeper than encoding/json goes is refused as malformed, not
// followed down: it must not take the server with it.
func TestParseWebhookSettingsDeepNesting(t *testing.T) {
	for _, body := range []string{
		strings.Repeat("[", 60<<10),
		`{"enabled":true,"url":"https://example.com/","subscribedEvents":["case_resolved"],"x":` + strings.Repeat(`{"a":`, 12000) + "1" + strings.Repeat("}", 12000) + "}",
		`{"enabled":true,"url":"https://example.com/","subscribedEvents":` + strings.Repeat("[", 12000) + strings.Repeat("]", 12000) + "}",
	} {
		_, err := ParseWebhookSettings([]byte(body), false)
		var e *otw.Error
		if !errors.As(err, &e) || e.Code != otw.EMALFORMED {
			t.Errorf("%.40s… (%d bytes): got %v, want EMALFORMED", body, len(body), err)
		}
	}
}
