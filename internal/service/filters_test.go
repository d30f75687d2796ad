package service

import (
	"errors"
	"reflect"
	"testing"

	"github.com/onetalk/onetalk-webhooks/internal/otw"
)

const filterBase = `{"enabled":true,"url":"https://example.com/hook","subscribedEvents":["integration_message_status","case_resolved"]`

// Filters are optional: absent, null and {} filter nothing; a filter keeps
// its values as strings, a number by its value (12 and "12" are one).
func TestParseWebhookSettingsFilters(t *testing.T) {
	for _, c := range []struct {
		member string
		want   otw.Filters
	}{
		{``, nil},
		{`,"filters":null`, nil},
		{`,"filters":{}`, otw.Filters{}},
		{`,"filters":{"integration_message_status":{"status":["failed","read"],"channelType":["whatsapp"]},"case_resolved":{"topicID":[12,"13",14.0,12]}}`,
			otw.Filters{"integration_message_status": {"status": {"failed", "read"}, "channelType": {"whatsapp"}},
				"case_resolved": {"topicID": {"12", "13", "14"}}}},
		{`,"filters":{"case_resolved":{"contact.fullName":["Ana"],"isJunk":["false"]}}`,
			otw.Filters{"case_resolved": {"contact.fullName": {"Ana"}, "isJunk": {"false"}}}},
	} {
		set, err := ParseWebhookSettings([]byte(filterBase+c.member+`}`), false)
		if err != nil || !reflect.DeepEqual(set.Filters, c.want) {
			t.Errorf("%s: Filters %#v, %v; want %#v", c.member, set.Filters, err, c.want)
		}
	}
}

// Every bad filter is a 422 naming its path.
func TestParseWebhookSettingsBadFilters(t *testing.T) {
	for _, c := range []struct{ member, field string }{
		{`"filters":[]`, "filters"},
		{`"filters":"status"`, "filters"},
		{`"filters":{"message_sent":{"status":["failed"]}}`, "filters.message_sent"},
		{`"filters":{"integration_message_status":{"statuss":["failed"]}}`, "filters.integration_message_status.statuss"},
		{`"filters":{"integration_message_status":{"status":[]}}`, "filters.integration_message_status.status"},
		{`"filters":{"integration_message_status":{"status":"failed"}}`, "filters.integration_message_status.status"},
		{`"filters":{"integration_message_status":{"status":["failed",true]}}`, "filters.integration_message_status.status[1]"},
		{`"filters":{"integration_message_status":{"status":[null]}}`, "filters.integration_message_status.status[0]"},
		{`"filters":{"integration_message_status":{"status":[["failed"]]}}`, "filters.integration_message_status.status[0]"},
		{`"filters":{"integration_message_status":{"status":["faild"]}}`, "filters.integration_message_status.status[0]"},
		{`"filters":{"integration_message_status":{}}`, "filters.integration_message_status"},
		{`"filters":{"integration_message_status":[]}`, "filters.integration_message_status"},
		{`"filters":{"case_resolved":{"labels":["vip"]}}`, "filters.case_resolved.labels"},
		{`"filters":{"case_resolved":{"contact":["x"]}}`, "filters.case_resolved.contact"},
		{`"filters":{"case_resolved":{"topicID":["1"],"topicID":["2"]}}`, "filters.case_resolved.topicID"},
	} {
		_, err := ParseWebhookSettings([]byte(filterBase+","+c.member+`}`), false)
		if !namesOnly(err, c.field) {
			t.Errorf("%s: %v, want EINVALID naming %s only", c.member, err, c.field)
		}
	}
	// A type the webhook is not subscribed to.
	_, err := ParseWebhookSettings([]byte(`{"enabled":true,"url":"https://example.com/hook","subscribedEvents":["case_resolved"],
		"filters":{"integration_message_status":{"status":["failed"]}}}`), false)
	if !namesOnly(err, "filters.integration_message_status") {
		t.Errorf("a type not subscribed: %v, want EINVALID naming filters.integration_message_status", err)
	}
	// A misspelt field gets a suggestion.
	_, err = ParseWebhookSettings([]byte(filterBase+`,"filters":{"integration_message_status":{"statuss":["failed"]}}}`), false)
	var e *otw.Error
	if !errors.As(err, &e) || e.Fields[0].Message != "unknown field statuss of integration_message_status (did you mean status?)" {
		t.Errorf("statuss: %v", err)
	}
}
