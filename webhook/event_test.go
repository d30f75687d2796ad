package webhook

import (
	"bytes"
	"encoding/json"
	"io/fs"
	"reflect"
	"strings"
	"testing"
)

// readExample reads one of the service's own example events, the ones it
// sends on a test delivery.
func readExample(t *testing.T, name string) []byte {
	t.Helper()
	b, err := fs.ReadFile(Examples, name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestParseIntegrationMessageStatus(t *testing.T) {
	cases := map[string]IntegrationMessageStatus{
		"integration_message_status.json": {
			ChannelID: "0123456", ChannelType: "whatsapp", ContactPhone: "628123456789",
			Status: "delivered", Timestamp: 1587352926788, TrxID: "000000-0000-0000-0000-000000",
		},
		"integration_message_status_failed.json": {
			ChannelID: "0123456", ChannelType: "whatsappba", ContactPhone: "628123456789",
			Reason: "recipient phone number is not a WhatsApp user",
			Status: "failed", Timestamp: 1587352927001, TrxID: "7d1f3c2a-5b7e-4f7a-9a43-0d2f6f0a9b11",
		},
	}
	for file, want := range cases {
		t.Run(file, func(t *testing.T) {
			body := readExample(t, file)
			e, err := Parse(body)
			if err != nil {
				t.Fatal(err)
			}
			if e.Type != TypeIntegrationMessageStatus || e.OrganizationID != 1111 {
				t.Fatalf("envelope = %q, %d", e.Type, e.OrganizationID)
			}
			if e.CaseResolved != nil {
				t.Fatal("caseResolved set on an integration_message_status event")
			}
			if *e.IntegrationMessageStatus != want {
				t.Fatalf("integrationMessageStatus = %+v, want %+v", *e.IntegrationMessageStatus, want)
			}
			if !bytes.Equal(e.Raw, body) {
				t.Fatal("Raw is not the body")
			}
		})
	}
}

func TestParseCaseResolved(t *testing.T) {
	example := readExample(t, "case_resolved.json")
	wantFields := map[string]CustomField{
		"customer_id": {FieldType: "single_line"},
		"deal_amount": {FieldType: "number"},
		"salutation":  {FieldType: "dropdown"},
	}
	// The seed's two discrepancies: topicID a number (its example) or a
	// string (its table); customFields (example) or customField (table).
	cases := []struct {
		name      string
		body      []byte
		topicJSON string
		fieldsKey string
	}{
		{"as the example", example, `1`, `"customFields":`},
		{"as the table", replace(t, replace(t, example, `"topicID": 1`, `"topicID": "1"`), `"customFields"`, `"customField"`), `"1"`, `"customField":`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e, err := Parse(c.body)
			if err != nil {
				t.Fatal(err)
			}
			if e.Type != TypeCaseResolved || e.OrganizationID != 1 || e.IntegrationMessageStatus != nil {
				t.Fatalf("envelope = %q, %d, %v", e.Type, e.OrganizationID, e.IntegrationMessageStatus)
			}
			cr := e.CaseResolved
			if cr.CaseID != "958CCF3BB6" || cr.ChannelType != "whatsapp" || cr.ChannelID != "166090" ||
				cr.TopicName != "Finance" || cr.AssigneeType != "agent" || cr.AgentEmail != "john@example.com" ||
				cr.AgentFullName != "John" || cr.IsJunk || cr.AgentRemark != "Hello world 3" ||
				cr.CreatedTime != 1589354307263 || cr.CounterStartTime != 1589354307263 ||
				cr.FirstResponseTime != 1589355184000 || cr.ResolvedTime != 1615305000400 ||
				!cr.IsResolvedByAgent || cr.IsResolvedByChatbot || cr.IsResolvedByContact || cr.IsResolvedBySystem ||
				!reflect.DeepEqual(cr.Labels, []string{"follow up", "hello world"}) {
				t.Fatalf("caseResolved = %+v", cr)
			}
			if got := cr.TopicID.String(); got != "1" {
				t.Fatalf("TopicID.String() = %q, want 1", got)
			}
			// The topic ID encodes back as it came.
			out, err := json.Marshal(cr)
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(string(out), `"topicID":`+c.topicJSON+`,`) {
				t.Fatalf("re-encoded caseResolved lost topicID %s: %s", c.topicJSON, out)
			}
			ct := cr.Contact
			if ct == nil || ct.ID != "e148aa04-3e8f-4dd9-82c1-e53c1a93eac1" || ct.FullName != "John Doe" ||
				ct.Alias != "John" || ct.Phone != "6281234567890" || ct.CustomerUserID != "johndoe" {
				t.Fatalf("contact = %+v", ct)
			}
			if got := ct.CustomFieldMap(); !reflect.DeepEqual(got, wantFields) {
				t.Fatalf("CustomFieldMap() = %v, want %v", got, wantFields)
			}
			// Re-encoded, the custom fields keep the name they came under.
			if !strings.Contains(string(out), c.fieldsKey) {
				t.Fatalf("re-encoded caseResolved lacks %s: %s", c.fieldsKey, out)
			}
		})
	}
}

func TestTopicID(t *testing.T) {
	cases := []struct{ json, text, back string }{
		{`{"topicID":42}`, "42", `42`},
		{`{"topicID":"t-42"}`, "t-42", `"t-42"`},
		{`{"topicID":"a\/b"}`, "a/b", `"a\/b"`},
		{`{"topicID":null}`, "", `null`},
		{`{}`, "", `null`},
	}
	for _, c := range cases {
		var v struct {
			TopicID TopicID `json:"topicID"`
		}
		if err := json.Unmarshal([]byte(c.json), &v); err != nil {
			t.Fatalf("%s: %v", c.json, err)
		}
		if got := v.TopicID.String(); got != c.text {
			t.Errorf("%s: String() = %q, want %q", c.json, got, c.text)
		}
		out, _ := json.Marshal(v.TopicID)
		if string(out) != c.back {
			t.Errorf("%s: encodes as %s, want %s", c.json, out, c.back)
		}
	}
	var v struct {
		TopicID TopicID `json:"topicID"`
	}
	if err := json.Unmarshal([]byte(`{"topicID":true}`), &v); err == nil || !strings.Contains(err.Error(), "topicID") {
		t.Errorf("topicID true: error %v, want one naming topicID", err)
	}
}

func TestParseRejects(t *testing.T) {
	cases := map[string]struct{ body, field string }{
		"malformed":         {`{"type":`, "parse body"},
		"not an object":     {`[1,2]`, "parse body"},
		"no type":           {`{"organizationID":1}`, "type"},
		"no organization":   {`{"type":"case_resolved","caseResolved":{}}`, "organizationID"},
		"no object":         {`{"type":"case_resolved","organizationID":1}`, "caseResolved"},
		"other object only": {`{"type":"integration_message_status","organizationID":1,"caseResolved":{}}`, "integrationMessageStatus"},
		"wrong JSON type":   {`{"type":"integration_message_status","organizationID":1,"integrationMessageStatus":{"timestamp":"soon"}}`, "timestamp"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			e, err := Parse([]byte(c.body))
			if err == nil {
				t.Fatalf("Parse(%s) = %+v, want an error", c.body, e)
			}
			if !strings.Contains(err.Error(), c.field) {
				t.Fatalf("Parse(%s) error %q does not name %s", c.body, err, c.field)
			}
		})
	}
}

func TestParseUnknownType(t *testing.T) {
	// A type added after this receiver was built still parses.
	body := []byte(`{"type":"case_assigned","organizationID":7,"caseAssigned":{"caseID":"X"}}`)
	e, err := Parse(body)
	if err != nil {
		t.Fatal(err)
	}
	if e.Type != "case_assigned" || e.OrganizationID != 7 || e.CaseResolved != nil || e.IntegrationMessageStatus != nil {
		t.Fatalf("Parse = %+v", e)
	}
	if !bytes.Equal(e.Raw, body) {
		t.Fatalf("Raw = %s, want the body", e.Raw)
	}
}

func replace(t *testing.T, b []byte, old, new string) []byte {
	t.Helper()
	if !bytes.Contains(b, []byte(old)) {
		t.Fatalf("example lacks %s", old)
	}
	return bytes.ReplaceAll(b, []byte(old), []byte(new))
}
