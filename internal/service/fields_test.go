package service

import (
	"testing"

	"github.com/onetalk/onetalk-webhooks/internal/otw"
)

// A management body is one object of known, distinct, UTF-8 members;
// every member that is not is named, beside the others.
func TestFields(t *testing.T) {
	known := []string{"enabled", "url", "subscribedEvents", "rateLimit"}
	for _, c := range []struct {
		body string
		want map[string]string // field: message
	}{
		{`{"enabled":true}`, nil},
		{`{"subscribed_events":[]}`, map[string]string{"subscribed_events": "unknown field subscribed_events (did you mean subscribedEvents?)"}},
		{`{"SubscribedEvents":[]}`, map[string]string{"SubscribedEvents": "unknown field SubscribedEvents (did you mean subscribedEvents?)"}},
		{`{"rateLimt":5}`, map[string]string{"rateLimt": "unknown field rateLimt (did you mean rateLimit?)"}},
		{`{"colour":1}`, map[string]string{"colour": "unknown field colour; the fields are enabled, url, subscribedEvents, rateLimit"}},
		{`{"url":"a","url":"b"}`, map[string]string{"url": "appears more than once: send it once"}},
		// Escaped, the same name is still the same member.
		{`{"url":"a","\u0075rl":"b"}`, map[string]string{"url": "appears more than once: send it once"}},
		{"{\"url\":\"\xff\"}", map[string]string{"url": "is not valid UTF-8: JSON text must be UTF-8"}},
		{"{\"url\":[\"ok\",\"\xc3\"]}", map[string]string{"url": "is not valid UTF-8: JSON text must be UTF-8"}},
		{"{\"u\xffrl\":1}", map[string]string{"u\uFFFDrl": "the name is not valid UTF-8: JSON text must be UTF-8"}},
		// A \u escape is UTF-16 written in ASCII: not a byte to refuse.
		{`{"url":"\ud800"}`, nil},
	} {
		var ch checker
		if _, err := ch.fields([]byte(c.body), known...); err != nil {
			t.Errorf("%q: %v", c.body, err)
			continue
		}
		got := map[string]string{}
		for _, e := range ch.errs {
			got[e.Field] = e.Message
		}
		if len(got) != len(c.want) {
			t.Errorf("%q: %v, want %v", c.body, got, c.want)
		}
		for f, m := range c.want {
			if got[f] != m {
				t.Errorf("%q: %s says %q, want %q", c.body, f, got[f], m)
			}
		}
	}
	for body, want := range map[string]string{
		"":         "the body is empty: send a JSON object",
		" \r\n":    "the body is empty: send a JSON object",
		`[]`:       "the body must be a JSON object, not an array",
		`null`:     "the body must be a JSON object, not null",
		`{"a":1`:   "malformed JSON at byte 6: unexpected end of JSON input",
		`{"a":1}x`: "malformed JSON at byte 8: invalid character 'x' after top-level value",
	} {
		var ch checker
		_, err := ch.fields([]byte(body), known...)
		if otw.ErrorCode(err) != otw.EMALFORMED || otw.ErrorMessage(err) != want {
			t.Errorf("%q: %v, want EMALFORMED %q", body, err, want)
		}
	}
}
