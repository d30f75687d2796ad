package event

import (
	"bytes"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/onetalk/onetalk-webhooks/internal/otw"
)

func TestParseValid(t *testing.T) {
	ims, failed, cr := example(t, imsFile), example(t, failedFile), example(t, caseFile)
	tests := []struct {
		name     string
		input    string
		typ      string
		org      int64
		orderKey string
	}{
		{"example integration_message_status", ims, TypeIntegrationMessageStatus, 1111, "m:000000-0000-0000-0000-000000"},
		{"example failed message", failed, TypeIntegrationMessageStatus, 1111, "m:7d1f3c2a-5b7e-4f7a-9a43-0d2f6f0a9b11"},
		{"example case_resolved", cr, TypeCaseResolved, 1, "c:958CCF3BB6"},
		{"odd spacing", "\r\n\t {  \"type\" :\t\"case_resolved\" ,\n\"organizationID\"  :  7 , \"caseResolved\":{ \"caseID\" : \"a b\" ,\"channelType\":\"\",\"channelID\":\"\" , \"resolvedTime\" : 0 } }  \n",
			TypeCaseResolved, 7, "c:a b"},
		{"unicode escapes kept", edit(t, ims, `"contactPhone": "628123456789"`, `"contactPhone": "Ren\u00e9 \ud83d\ude00 \/ \"x\""`),
			TypeIntegrationMessageStatus, 1111, "m:000000-0000-0000-0000-000000"},
		{"raw UTF-8 kept", edit(t, ims, `"reason": ""`, `"reason": "René 😀"`), TypeIntegrationMessageStatus, 1111, "m:000000-0000-0000-0000-000000"},
		{"number spellings in unknown fields kept", edit(t, ims, `"reason": ""`, `"reason": "", "score": 1.0e3, "neg": -0.50E-2, "big": 123456789012345678901234567890`),
			TypeIntegrationMessageStatus, 1111, "m:000000-0000-0000-0000-000000"},
		{"escaped key is the key it decodes to", edit(t, ims, `"trxID": "000000-0000-0000-0000-000000"`, `"\u0074rxID": "t\u0031"`),
			TypeIntegrationMessageStatus, 1111, "m:t1"},
		{"reason null", edit(t, ims, `"reason": ""`, `"reason": null`), TypeIntegrationMessageStatus, 1111, "m:000000-0000-0000-0000-000000"},
		{"reason absent", edit(t, ims, `"reason": "",`, ``), TypeIntegrationMessageStatus, 1111, "m:000000-0000-0000-0000-000000"},
		{"every status", edit(t, failed, `"status": "failed"`, `"status": "acknowledge"`), TypeIntegrationMessageStatus, 1111, "m:7d1f3c2a-5b7e-4f7a-9a43-0d2f6f0a9b11"},
		{"status read", edit(t, ims, `"status": "delivered"`, `"status": "read"`), TypeIntegrationMessageStatus, 1111, "m:000000-0000-0000-0000-000000"},
		{"largest organizationID", edit(t, ims, `"organizationID": 1111`, `"organizationID": 9007199254740991`), TypeIntegrationMessageStatus, 9007199254740991, "m:000000-0000-0000-0000-000000"},
		// Escapes are UTF-16, not bytes: a lone surrogate escape is kept as
		// written, as every other escape is.
		{"lone surrogate escape kept", edit(t, ims, `"reason": ""`, `"reason": "\ud800"`), TypeIntegrationMessageStatus, 1111, "m:000000-0000-0000-0000-000000"},
		{"unknown members pass", edit(t, ims, `"type"`, `"extra": {"a": [1, {"b": null}], "c": "d"}, "type"`), TypeIntegrationMessageStatus, 1111, "m:000000-0000-0000-0000-000000"},
		{"another type's object is extra data", edit(t, ims, `"type"`, `"caseResolved": {"caseID": 5}, "type"`), TypeIntegrationMessageStatus, 1111, "m:000000-0000-0000-0000-000000"},
		{"type after its object", `{"caseResolved":{"caseID":"c1","channelType":"x","channelID":"y","resolvedTime":5},"organizationID":3,"type":"case_resolved"}`,
			TypeCaseResolved, 3, "c:c1"},
		// The seed's discrepancies, both ways.
		{"topicID a string", edit(t, cr, `"topicID": 1`, `"topicID": "1"`), TypeCaseResolved, 1, "c:958CCF3BB6"},
		{"topicID a fraction", edit(t, cr, `"topicID": 1`, `"topicID": 1.5`), TypeCaseResolved, 1, "c:958CCF3BB6"},
		{"customField singular", edit(t, cr, `"customFields"`, `"customField"`), TypeCaseResolved, 1, "c:958CCF3BB6"},
		{"customField and customFields", edit(t, cr, `"agentRemark": "",`, `"agentRemark": "", "customField": {"x": {"fieldType": "number", "value": "5"}},`), TypeCaseResolved, 1, "c:958CCF3BB6"},
		{"optional case fields null", `{"type":"case_resolved","organizationID":1,"caseResolved":{"caseID":"c","channelType":"","channelID":"","resolvedTime":1,` +
			`"topicID":null,"topicName":null,"isJunk":null,"createdTime":null,"labels":null,"contact":null}}`, TypeCaseResolved, 1, "c:c"},
		{"optional contact fields null", edit(t, edit(t, cr, `"email": ""`, `"email": null`), `"customFields": {`, `"customField": null, "customFields": {`), TypeCaseResolved, 1, "c:958CCF3BB6"},
		{"minimal case", `{"type":"case_resolved","organizationID":1,"caseResolved":{"caseID":"c","channelType":"","channelID":"","resolvedTime":1}}`, TypeCaseResolved, 1, "c:c"},
		{"empty labels and custom fields", edit(t, edit(t, cr, `"labels": [
        "follow up",
        "hello world"
      ]`, `"labels": []`), `"customFields": {`, `"customFields": {}, "x": {`), TypeCaseResolved, 1, "c:958CCF3BB6"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Parse([]byte(tt.input))
			if err != nil {
				t.Fatalf("Parse: %v (%+v)", err, asError(t, err).Fields)
			}
			if want := compacted(t, tt.input); !bytes.Equal(got.Body, want) {
				t.Errorf("Body\n got %s\nwant %s", got.Body, want)
			}
			if got.Type != tt.typ || got.OrganizationID != tt.org || got.OrderKey != tt.orderKey {
				t.Errorf("got type %q org %d orderKey %q, want %q %d %q", got.Type, got.OrganizationID, got.OrderKey, tt.typ, tt.org, tt.orderKey)
			}
		})
	}
}

// TestParseKeepsBytes spells out what "compacted" means for a receiver that
// compares bytes: escapes and numbers are not normalised.
func TestParseKeepsBytes(t *testing.T) {
	in := `{ "type" : "integration_message_status", "organizationID" : 1111,
		"integrationMessageStatus" : { "channelID" : "0\u00e9", "channelType" : "whatsapp",
		"contactPhone" : "6 2", "status" : "read", "timestamp" : 0, "trxID" : "t", "n" : 1.0e3 } }`
	want := `{"type":"integration_message_status","organizationID":1111,"integrationMessageStatus":{"channelID":"0\u00e9","channelType":"whatsapp","contactPhone":"6 2","status":"read","timestamp":0,"trxID":"t","n":1.0e3}}`
	got, err := Parse([]byte(in))
	if err != nil {
		t.Fatal(err)
	}
	if string(got.Body) != want {
		t.Errorf("Body\n got %s\nwant %s", got.Body, want)
	}
}

func TestParseInvalid(t *testing.T) {
	ims, cr := example(t, imsFile), example(t, caseFile)
	const d = "integrationMessageStatus."
	const c = "caseResolved."
	tests := []struct {
		name   string
		input  string
		fields []string
	}{
		{"type unknown", edit(t, ims, `"integration_message_status"`, `"message_status"`), []string{"type"}},
		{"type not a string", edit(t, ims, `"integration_message_status"`, `1`), []string{"type"}},
		{"type null", edit(t, ims, `"integration_message_status"`, `null`), []string{"type"}},
		{"type missing", edit(t, ims, `"type": "integration_message_status",`, ``), []string{"type"}},
		{"organizationID a string", edit(t, ims, `1111`, `"1111"`), []string{"organizationID"}},
		{"organizationID zero", edit(t, ims, `1111`, `0`), []string{"organizationID"}},
		{"organizationID negative", edit(t, ims, `1111`, `-1`), []string{"organizationID"}},
		{"organizationID a fraction", edit(t, ims, `1111`, `1111.0`), []string{"organizationID"}},
		{"organizationID an exponent", edit(t, ims, `1111`, `1e3`), []string{"organizationID"}},
		{"organizationID beyond int64", edit(t, ims, `1111`, `9223372036854775808`), []string{"organizationID"}},
		// JavaScript would read it as 9007199254740992.
		{"organizationID beyond 2^53-1", edit(t, ims, `1111`, `9007199254740993`), []string{"organizationID"}},
		{"organizationID int64's largest", edit(t, ims, `1111`, `9223372036854775807`), []string{"organizationID"}},
		{"a value not UTF-8", edit(t, ims, `"reason": ""`, "\"reason\": \"Ren\xe9\""), []string{d + "reason"}},
		{"a truncated UTF-8 sequence", edit(t, ims, `"reason": ""`, "\"reason\": \"\xf0\x9f\x98\""), []string{d + "reason"}},
		{"an unknown member not UTF-8", edit(t, ims, `"type"`, "\"note\": [\"\xff\"], \"type\""), []string{"note[0]"}},
		{"a name not UTF-8", edit(t, ims, `"type"`, "\"n\xffe\": 1, \"type\""), []string{"n\uFFFDe"}},
		{"the type not UTF-8", edit(t, ims, `"integration_message_status"`, "\"integration_message_status\xc0\""), []string{"type"}},
		{"a surrogate encoded as UTF-8", edit(t, ims, `"reason": ""`, "\"reason\": \"\xed\xa0\x80\""), []string{d + "reason"}},
		{"organizationID null", edit(t, ims, `1111`, `null`), []string{"organizationID"}},
		{"organizationID missing", edit(t, ims, `,
  "organizationID": 1111`, ``), []string{"organizationID"}},
		{"data object missing", edit(t, ims, `"integration_message_status"`, `"case_resolved"`), []string{"caseResolved"}},
		{"data object an array", edit(t, ims, `"integrationMessageStatus": {`, `"integrationMessageStatus": [], "x": {`), []string{"integrationMessageStatus"}},
		{"data object null", edit(t, ims, `"integrationMessageStatus": {`, `"integrationMessageStatus": null, "x": {`), []string{"integrationMessageStatus"}},
		{"empty object", `{}`, []string{"organizationID", "type"}},

		{"channelID a number", edit(t, ims, `"0123456"`, `123456`), []string{d + "channelID"}},
		{"channelType unknown", edit(t, ims, `"whatsapp"`, `"sms"`), []string{d + "channelType"}},
		{"channelType differs in case", edit(t, ims, `"whatsapp"`, `"WhatsApp"`), []string{d + "channelType"}},
		{"contactPhone missing", edit(t, ims, `"contactPhone": "628123456789",`, ``), []string{d + "contactPhone"}},
		{"contactPhone null", edit(t, ims, `"628123456789"`, `null`), []string{d + "contactPhone"}},
		{"reason a number", edit(t, ims, `"reason": ""`, `"reason": 1`), []string{d + "reason"}},
		{"status unknown", edit(t, ims, `"delivered"`, `"sent"`), []string{d + "status"}},
		{"status missing", edit(t, ims, `"status": "delivered",`, ``), []string{d + "status"}},
		{"timestamp a fraction", edit(t, ims, `1587352926788`, `1.5`), []string{d + "timestamp"}},
		{"timestamp a string", edit(t, ims, `1587352926788`, `"123"`), []string{d + "timestamp"}},
		{"timestamp negative", edit(t, ims, `1587352926788`, `-1`), []string{d + "timestamp"}},
		{"timestamp an exponent", edit(t, ims, `1587352926788`, `1.587e12`), []string{d + "timestamp"}},
		{"timestamp beyond int64", edit(t, ims, `1587352926788`, `99999999999999999999`), []string{d + "timestamp"}},
		{"trxID empty", edit(t, ims, `"000000-0000-0000-0000-000000"`, `""`), []string{d + "trxID"}},
		{"trxID a number", edit(t, ims, `"000000-0000-0000-0000-000000"`, `7`), []string{d + "trxID"}},
		{"trxID missing", edit(t, ims, `,
    "trxID": "000000-0000-0000-0000-000000"`, ``), []string{d + "trxID"}},

		{"duplicate data key", edit(t, ims, `"status": "delivered",`, `"status": "delivered", "status": "read",`), []string{d + "status"}},
		{"duplicate by escape", edit(t, ims, `"status": "delivered",`, `"status": "delivered", "st\u0061tus": "read",`), []string{d + "status"}},
		{"duplicate type", edit(t, ims, `"type": "integration_message_status",`, `"type": "integration_message_status", "type": "case_resolved",`), []string{"type"}},
		{"duplicate organizationID", edit(t, ims, `"organizationID": 1111`, `"organizationID": 1111, "organizationID": 2222`), []string{"organizationID"}},
		{"duplicate in unknown member", edit(t, ims, `"reason": ""`, `"reason": "", "extra": [{"a": 1, "a": 2}]`), []string{d + "extra[0].a"}},
		{"invalid data when type comes last", `{"caseResolved":{"caseID":"","channelType":"x","channelID":"y","resolvedTime":5},"organizationID":3,"type":"case_resolved"}`, []string{c + "caseID"}},

		{"caseID empty", edit(t, cr, `"958CCF3BB6"`, `""`), []string{c + "caseID"}},
		{"caseID a number", edit(t, cr, `"958CCF3BB6"`, `958`), []string{c + "caseID"}},
		{"caseID missing", edit(t, cr, `"caseID": "958CCF3BB6",`, ``), []string{c + "caseID"}},
		{"channelType a number", edit(t, cr, `"channelType": "whatsapp"`, `"channelType": 1`), []string{c + "channelType"}},
		{"channelID null", edit(t, cr, `"166090"`, `null`), []string{c + "channelID"}},
		{"resolvedTime a string", edit(t, cr, `1615305000400`, `"1615305000400"`), []string{c + "resolvedTime"}},
		{"resolvedTime null", edit(t, cr, `1615305000400`, `null`), []string{c + "resolvedTime"}},
		{"resolvedTime missing", edit(t, cr, `"resolvedTime": 1615305000400,`, ``), []string{c + "resolvedTime"}},
		{"topicID a boolean", edit(t, cr, `"topicID": 1`, `"topicID": true`), []string{c + "topicID"}},
		{"topicID an object", edit(t, cr, `"topicID": 1`, `"topicID": {}`), []string{c + "topicID"}},
		{"topicName a number", edit(t, cr, `"Finance"`, `1`), []string{c + "topicName"}},
		{"assigneeType a boolean", edit(t, cr, `"agent"`, `true`), []string{c + "assigneeType"}},
		{"chatbotID a number", edit(t, cr, `"chatbotID": ""`, `"chatbotID": 0`), []string{c + "chatbotID"}},
		{"agentEmail an array", edit(t, cr, `"john@example.com"`, `[]`), []string{c + "agentEmail"}},
		{"isJunk a string", edit(t, cr, `"isJunk": false`, `"isJunk": "false"`), []string{c + "isJunk"}},
		{"isResolvedByAgent a number", edit(t, cr, `"isResolvedByAgent": true`, `"isResolvedByAgent": 1`), []string{c + "isResolvedByAgent"}},
		{"createdTime a fraction", edit(t, cr, `"createdTime": 1589354307263`, `"createdTime": 1589354307263.5`), []string{c + "createdTime"}},
		{"firstResponseTime a string", edit(t, cr, `1589355184000`, `"x"`), []string{c + "firstResponseTime"}},
		{"labels a string", edit(t, cr, `[
        "follow up",
        "hello world"
      ]`, `"follow up"`), []string{c + "labels"}},
		{"a label a number", edit(t, cr, `"hello world"`, `2`), []string{c + "labels[1]"}},
		{"a label null", edit(t, cr, `"follow up"`, `null`), []string{c + "labels[0]"}},
		{"contact a string", edit(t, cr, `"contact": {`, `"contact": "x", "y": {`), []string{c + "contact"}},
		{"contact email a number", edit(t, cr, `"email": ""`, `"email": 0`), []string{c + "contact.email"}},
		{"contact phone an object", edit(t, cr, `"6281234567890"`, `{}`), []string{c + "contact.phone"}},
		{"custom field value a number", edit(t, cr, `"fieldType": "number",
            "value": ""`, `"fieldType": "number",
            "value": 1500`), []string{c + "contact.customFields.deal_amount.value"}},
		{"custom field not an object", edit(t, cr, `"salutation": {`, `"salutation": "mr", "s2": {`), []string{c + "contact.customFields.salutation"}},
		{"custom field fieldType a boolean", edit(t, cr, `"single_line"`, `false`), []string{c + "contact.customFields.customer_id.fieldType"}},
		{"customField singular checked too", edit(t, edit(t, cr, `"customFields"`, `"customField"`), `"single_line"`, `1`), []string{c + "contact.customField.customer_id.fieldType"}},
		{"customFields an array", edit(t, cr, `"customFields": {`, `"customFields": [], "cf": {`), []string{c + "contact.customFields"}},
		{"duplicate custom field", edit(t, cr, `"salutation": {`, `"customer_id": {}, "salutation": {`), []string{c + "contact.customFields.customer_id"}},

		{"several at once", edit(t, edit(t, edit(t, edit(t, ims,
			`1111`, `"1111"`),
			`"delivered"`, `"sent"`),
			`1587352926788`, `"123"`),
			`"000000-0000-0000-0000-000000"`, `""`),
			[]string{d + "status", d + "timestamp", d + "trxID", "organizationID"}},
		{"several in a case", edit(t, edit(t, edit(t, cr,
			`"caseID": "958CCF3BB6",`, ``),
			`"hello world"`, `2`),
			`"isJunk": false`, `"isJunk": 0`),
			[]string{c + "caseID", c + "isJunk", c + "labels[1]"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse([]byte(tt.input))
			if err == nil {
				t.Fatal("Parse accepted it")
			}
			e := asError(t, err)
			if e.Code != otw.EINVALID {
				t.Fatalf("code %q (%v), want %q", e.Code, err, otw.EINVALID)
			}
			want := slices.Clone(tt.fields)
			slices.Sort(want)
			if got := fieldNames(e); !slices.Equal(got, want) {
				t.Errorf("fields %q, want %q (%+v)", got, want, e.Fields)
			}
			for _, f := range e.Fields {
				if f.Message == "" {
					t.Errorf("field %s has no message", f.Field)
				}
			}
		})
	}
}

// TestParseMessages pins the words a user reads for the common mistakes.
func TestParseMessages(t *testing.T) {
	ims := example(t, imsFile)
	tests := []struct{ input, field, message string }{
		{edit(t, ims, `"delivered"`, `"sent"`), "integrationMessageStatus.status", "must be one of acknowledge, delivered, read, failed"},
		{edit(t, ims, `"contactPhone": "628123456789",`, ``), "integrationMessageStatus.contactPhone", "is required"},
		{edit(t, ims, `1111`, `"1111"`), "organizationID", otw.OrganizationIDRule},
		{edit(t, ims, `1111`, `9007199254740992`), "organizationID", otw.OrganizationIDRule},
		{edit(t, ims, `"reason": ""`, "\"reason\": \"\xff\""), "integrationMessageStatus.reason", "is not valid UTF-8: JSON text must be UTF-8"},
		{edit(t, ims, `"status": "delivered",`, `"status": "delivered", "status": "read",`), "integrationMessageStatus.status", "duplicate key"},
		{edit(t, ims, `"0123456"`, `1`), "integrationMessageStatus.channelID", "must be a string"},
	}
	for _, tt := range tests {
		_, err := Parse([]byte(tt.input))
		e := asError(t, err)
		if len(e.Fields) != 1 || e.Fields[0] != (otw.FieldError{Field: tt.field, Message: tt.message}) {
			t.Errorf("fields %+v, want %s: %s", e.Fields, tt.field, tt.message)
		}
	}
}

func TestParseMalformed(t *testing.T) {
	tests := []struct {
		name, input, where string
	}{
		{"empty", ``, ""},
		{"white space only", " \n", ""},
		{"cut short", `{"type":"case_resolved"`, ""},
		{"syntax error", `{"type": x}`, "after 10 bytes"},
		{"trailing comma", `{"a":1,}`, "after 8 bytes"},
		{"trailing garbage", `{"a":1} x`, "after 9 bytes"},
		{"two objects", `{} {}`, "after 4 bytes"},
		{"an array", `[{"type":"case_resolved"}]`, "an array"},
		{"a string", `"case_resolved"`, "a string"},
		{"a number", `12`, "a number"},
		{"null", `null`, "null"},
		{"control character in a string", "{\"a\":\"\x01\"}", "after 7 bytes"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse([]byte(tt.input))
			e := asError(t, err)
			if e.Code != otw.EMALFORMED {
				t.Fatalf("code %q (%v), want %q", e.Code, err, otw.EMALFORMED)
			}
			if !strings.Contains(e.Message, tt.where) {
				t.Errorf("message %q does not say %q", e.Message, tt.where)
			}
		})
	}
}

func TestParseSize(t *testing.T) {
	ims := example(t, imsFile)
	// padded returns the example with an unknown string member that makes
	// it exactly n bytes long.
	padded := func(n int) []byte {
		base := edit(t, ims, `"reason": ""`, `"reason": "", "pad": ""`)
		return []byte(edit(t, base, `"pad": ""`, `"pad": "`+strings.Repeat("x", n-len(base))+`"`))
	}
	if _, err := Parse(padded(MaxEventBytes)); err != nil {
		t.Errorf("an event of MaxEventBytes: %v", err)
	}
	_, err := Parse(padded(MaxEventBytes + 1))
	if e := asError(t, err); e.Code != otw.ETOOLARGE {
		t.Errorf("an event of MaxEventBytes+1: code %q, want %q", e.Code, otw.ETOOLARGE)
	}
}

// TestParseErrorLimit: a body full of bad values gets a bounded answer.
func TestParseErrorLimit(t *testing.T) {
	labels := strings.Repeat("1,", 2*maxFieldErrors) + "1"
	in := `{"type":"case_resolved","organizationID":1,"caseResolved":{"caseID":"c","channelType":"","channelID":"","resolvedTime":1,"labels":[` + labels + `]}}`
	_, err := Parse([]byte(in))
	e := asError(t, err)
	if len(e.Fields) != maxFieldErrors {
		t.Errorf("%d fields, want %d", len(e.Fields), maxFieldErrors)
	}
	if !strings.Contains(e.Message, fmt.Sprint(maxFieldErrors)) {
		t.Errorf("message %q does not say the list is cut", e.Message)
	}
}

// TestParseWideObject crosses the width at which duplicate keys are found
// with a map instead of a scan.
func TestParseWideObject(t *testing.T) {
	var members strings.Builder
	for i := range 3 * keySetScanMax {
		fmt.Fprintf(&members, `"k%d":%d,`, i, i)
	}
	ok := `{"type":"case_resolved","organizationID":1,"caseResolved":{` + members.String() + `"caseID":"c","channelType":"","channelID":"","resolvedTime":1}}`
	if _, err := Parse([]byte(ok)); err != nil {
		t.Fatalf("wide object: %v", err)
	}
	dup := strings.Replace(ok, `"caseID":"c"`, `"caseID":"c","k80":0`, 1)
	_, err := Parse([]byte(dup))
	e := asError(t, err)
	if got := fieldNames(e); !slices.Equal(got, []string{"caseResolved.k80"}) {
		t.Errorf("fields %q, want caseResolved.k80", got)
	}
}
