package event_test

import (
	"encoding/json"
	"testing"

	"github.com/onetalk/onetalk-webhooks/internal/event"
	"github.com/onetalk/onetalk-webhooks/internal/otw"
)

func parsed(t *testing.T, raw string) event.Parsed {
	t.Helper()
	p, err := event.Parse([]byte(raw))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestFilterMatch(t *testing.T) {
	status := func(s, channel string) event.Parsed {
		return parsed(t, `{"type":"integration_message_status","integrationMessageStatus":{"channelID":"1","channelType":"`+channel+`",
			"contactPhone":"62","status":"`+s+`","timestamp":1,"trxID":"x"},"organizationID":1}`)
	}
	resolved := func(topic, name string) event.Parsed {
		return parsed(t, `{"type":"case_resolved","caseResolved":{"caseID":"c","channelType":"whatsapp","channelID":"1",
			"topicID":`+topic+`,"resolvedTime":1,"isJunk":false,"contact":{"fullName":`+name+`}},"organizationID":1}`)
	}
	f := event.CompileFilter(otw.Filters{
		"integration_message_status": {"status": {"failed", "read"}, "channelType": {"whatsapp"}},
		"case_resolved":              {"topicID": {"12"}, "contact.fullName": {"Ana"}, "isJunk": {"false"}},
	})
	for _, c := range []struct {
		name string
		e    event.Parsed
		want bool
	}{
		{"failed whatsapp", status("failed", "whatsapp"), true},
		{"read whatsapp", status("read", "whatsapp"), true},
		{"delivered", status("delivered", "whatsapp"), false},
		{"failed, other channel", status("failed", "whatsappba"), false},
		{"topic number", resolved("12", `"Ana"`), true},
		{"topic string", resolved(`"12"`, `"Ana"`), true},
		{"topic 12.0", resolved(`12.0`, `"Ana"`), true},
		{"escaped name", resolved(`12`, `"\u0041na"`), true},
		{"other topic", resolved(`13`, `"Ana"`), false},
		{"other name", resolved(`12`, `"Bo"`), false},
		{"null name", resolved(`12`, `null`), false},
	} {
		if got := f.Match(c.e.Type, c.e.Body); got != c.want {
			t.Errorf("%s: Match = %v, want %v", c.name, got, c.want)
		}
	}
	if !(*event.Filter)(nil).Match("case_resolved", resolved("13", `"Bo"`).Body) {
		t.Error("a nil filter refused an event")
	}
	if event.CompileFilter(otw.Filters{"case_resolved": {}}) != nil {
		t.Error("a filter without conditions compiled to one that filters")
	}
	only := event.CompileFilter(otw.Filters{"case_resolved": {"topicID": {"12"}}})
	if !only.Match(status("delivered", "whatsapp").Type, status("delivered", "whatsapp").Body) {
		t.Error("a type without conditions was filtered")
	}
}

func TestFilterValue(t *testing.T) {
	for raw, want := range map[string]string{`12`: "12", `12.0`: "12", `1.2e1`: "12", `-0`: "0", `"12"`: "12", `0.5`: "0.5"} {
		if got, ok := event.FilterValue(json.RawMessage(raw)); !ok || got != want {
			t.Errorf("FilterValue(%s) = %q, %v; want %q", raw, got, ok, want)
		}
	}
	for _, raw := range []string{`true`, `null`, `[]`, `{}`} {
		if _, ok := event.FilterValue(json.RawMessage(raw)); ok {
			t.Errorf("FilterValue(%s) accepted", raw)
		}
	}
}

func TestFilterableFields(t *testing.T) {
	if _, ok := event.LookupFilterable("case_resolved", "contact.fullName"); !ok {
		t.Error("contact.fullName is not filterable")
	}
	for _, p := range []string{"labels", "contact", "contact.customFields", "nope"} {
		if _, ok := event.LookupFilterable("case_resolved", p); ok {
			t.Errorf("%s is filterable", p)
		}
	}
	if f, ok := event.LookupFilterable("integration_message_status", "status"); !ok || len(f.Enum) != 4 {
		t.Errorf("status: %v %v", f, ok)
	}
}

// BenchmarkFilterMatch is the cost of a filter per event: two conditions
// on a message status.
func BenchmarkFilterMatch(b *testing.B) {
	p, err := event.Parse([]byte(`{"type":"integration_message_status","integrationMessageStatus":{"channelID":"0123456","channelType":"whatsapp","contactPhone":"628123456789","reason":"","status":"delivered","timestamp":1587352926788,"trxID":"000000-0000-0000-0000-000000"},"organizationID":1}`))
	if err != nil {
		b.Fatal(err)
	}
	f := event.CompileFilter(otw.Filters{"integration_message_status": {"status": {"failed", "read", "delivered"}, "trxID": {"000000-0000-0000-0000-000000"}}})
	b.ReportAllocs()
	for b.Loop() {
		if !f.Match(p.Type, p.Body) {
			b.Fatal("no match")
		}
	}
}

// Match never panics on an event Parse accepted, whatever its shape.
func FuzzFilterMatch(f *testing.F) {
	f.Add([]byte(`{"type":"case_resolved","caseResolved":{"caseID":"c","channelType":"w","channelID":"1","topicID":12,"resolvedTime":1,"contact":{"fullName":"A"}},"organizationID":1}`))
	f.Add([]byte(`{"type":"integration_message_status","integrationMessageStatus":{"channelID":"1","channelType":"whatsapp","contactPhone":"6","status":"read","timestamp":1,"trxID":"x"},"organizationID":1}`))
	filter := event.CompileFilter(otw.Filters{
		"case_resolved":              {"topicID": {"12"}, "contact.fullName": {"A"}, "isJunk": {"true"}},
		"integration_message_status": {"status": {"read"}, "reason": {""}},
	})
	f.Fuzz(func(t *testing.T, raw []byte) {
		p, err := event.Parse(raw)
		if err != nil {
			return
		}
		filter.Match(p.Type, p.Body)
	})
}
