package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/onetalk/onetalk-webhooks/internal/event"
)

// caseResolved is the example case_resolved event of org.
func caseResolved(t *testing.T, org int) string {
	t.Helper()
	b, err := event.Example(event.TypeCaseResolved, int64(org))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// wantAccepted checks one event's answer: a delivery or none, and the
// reason it is not delivered ("" for none given).
func wantAccepted(t *testing.T, what string, a map[string]any, delivery bool, reason string) {
	t.Helper()
	id, _ := a["deliveryID"].(string)
	if _, ok := a["deliveryID"]; !ok || (id != "") != delivery {
		t.Errorf("%s: deliveryID %v, want a delivery %v", what, a["deliveryID"], delivery)
	}
	got, has := a["notDelivered"]
	switch {
	case reason == "" && has:
		t.Errorf("%s: notDelivered %v, want none", what, got)
	case reason != "" && got != reason:
		t.Errorf("%s: notDelivered %v, want %q", what, got, reason)
	}
}

// A 202 that delivers nothing says why, for a single publish, each event
// of a batch and a test event; a webhook the service disabled (a 410)
// records a failed delivery and says so too.
func TestAcceptedSaysWhyNotDelivered(t *testing.T) {
	eachDB(t, func(t *testing.T, db database) {
		rc := newReceiver(t, nil)
		s := db.start(t, t.TempDir())
		key := s.createOrg(1111, rc.URL)
		hook := map[string]any{"enabled": true, "url": rc.URL, "subscribedEvents": []string{"integration_message_status"}}
		s.mustDo(200, "PUT", "/v1/organizations/1111/webhook", key, hook)
		s.createOrg(2222, "") // no webhook; 3333 does not exist

		publish := func(body string) map[string]any { return s.mustDo(202, "POST", "/v1/events", s.Token, body) }
		wantAccepted(t, "subscribed", publish(messageStatus(1111, "t1", "read")), true, "")
		wantAccepted(t, "not subscribed", publish(caseResolved(t, 1111)), false, "not subscribed")
		wantAccepted(t, "no webhook", publish(messageStatus(2222, "t1", "read")), false, "no webhook")
		wantAccepted(t, "unknown organization", publish(messageStatus(3333, "t1", "read")), false, "unknown organization")

		batch := s.mustDo(202, "POST", "/v1/events/batch", s.Token, "["+strings.Join([]string{
			messageStatus(1111, "t2", "read"), caseResolved(t, 1111), messageStatus(2222, "t2", "read"), messageStatus(3333, "t2", "read"),
		}, ",")+"]")
		ids, _ := batch["eventIDs"].([]any)
		each, _ := batch["events"].([]any)
		if len(ids) != 4 || len(each) != 4 {
			t.Fatalf("batch answer %v, want 4 eventIDs and 4 events", batch)
		}
		for i, want := range []string{"", "not subscribed", "no webhook", "unknown organization"} {
			e := each[i].(map[string]any)
			if e["eventID"] != ids[i] {
				t.Errorf("events[%d].eventID %v, eventIDs[%d] %v", i, e["eventID"], i, ids[i])
			}
			wantAccepted(t, fmt.Sprintf("batch event %d", i), e, want == "", want)
		}

		test := func(typ string) map[string]any {
			return s.mustDo(202, "POST", "/v1/organizations/1111/webhook/test", key, map[string]any{"eventType": typ})
		}
		wantAccepted(t, "test subscribed", test("integration_message_status"), true, "")
		wantAccepted(t, "test not subscribed", test("case_resolved"), false, "not subscribed")

		hook["enabled"] = false
		s.mustDo(200, "PUT", "/v1/organizations/1111/webhook", key, hook)
		wantAccepted(t, "switched off", publish(messageStatus(1111, "t3", "read")), false, "webhook disabled")
		wantAccepted(t, "test switched off", test("integration_message_status"), false, "webhook disabled")

		// Enabled, but disabled by the service after a 410.
		gone := newReceiver(t, func(int, http.ResponseWriter, *http.Request) int { return 410 })
		goneKey := s.createOrg(4444, gone.URL)
		s.mustDo(202, "POST", "/v1/events", s.Token, messageStatus(4444, "g1", "read"))
		eventually(t, 5*time.Second, "the webhook to be disabled", func() bool {
			return s.mustDo(200, "GET", "/v1/organizations/4444/webhook", goneKey, nil)["state"] == "disabled"
		})
		wantAccepted(t, "disabled by the service", publish(messageStatus(4444, "g2", "read")), true, "webhook disabled")
	})
}

// refusal reads a problem answer, failing unless it has the status.
func refusal(t *testing.T, r response, status int) (detail string, fields map[string]string) {
	t.Helper()
	if r.Status != status {
		t.Errorf("status %d, want %d: %s", r.Status, status, r.Body)
	}
	var p struct {
		Detail string
		Errors []struct{ Field, Message string }
	}
	if err := json.Unmarshal(r.Body, &p); err != nil {
		t.Fatalf("not a problem: %v: %s", err, r.Body)
	}
	fields = map[string]string{}
	for _, e := range p.Errors {
		fields[e.Field] += e.Message
	}
	return p.Detail, fields
}

// Every refusal says what to do, naming the field; management bodies take
// no unknown, repeated or non-UTF-8 member; events no string that is not
// UTF-8 and no organizationID beyond 2^53-1.
func TestRefusalsSayWhatToDo(t *testing.T) {
	t.Parallel()
	rc := newReceiver(t, nil)
	s := sqliteDB.start(t, t.TempDir())
	key := s.createOrg(1111, rc.URL)
	const hook = "/v1/organizations/1111/webhook"
	base := `"enabled":true,"url":"` + rc.URL + `","subscribedEvents":["case_resolved"]`
	ims := messageStatus(1111, "t1", "read")
	for _, c := range []struct {
		name, method, path, body string
		admin                    bool
		status                   int
		field, want              string // field "" checks the detail
	}{
		{"misspelt field", "PUT", hook, `{"enabled":true,"url":"` + rc.URL + `","subscribed_events":["case_resolved"]}`, false, 422,
			"subscribed_events", "unknown field subscribed_events (did you mean subscribedEvents?)"},
		{"unknown field", "PUT", hook, `{` + base + `,"colour":"red"}`, false, 422,
			"colour", "unknown field colour; the fields are enabled, url, subscribedEvents, rateLimit"},
		{"URL without a scheme", "PUT", hook, `{"enabled":true,"url":"example.com:8080/hook","subscribedEvents":["case_resolved"]}`, false, 422,
			"url", "add https:// or http://"},
		{"unknown event type", "PUT", hook, `{"enabled":true,"url":"` + rc.URL + `","subscribedEvents":["case_closed"]}`, false, 422,
			"subscribedEvents[0]", `unknown event type "case_closed"; the types are integration_message_status, case_resolved`},
		{"repeated field", "PUT", hook, `{` + base + `,"enabled":false}`, false, 422, "enabled", "appears more than once"},
		{"not UTF-8", "PUT", hook, "{\"enabled\":true,\"url\":\"https://ex\xe9mple.com/\",\"subscribedEvents\":[\"case_resolved\"]}", false, 422,
			"url", "is not valid UTF-8"},
		{"empty body", "PUT", hook, " \n", false, 400, "", "the body is empty"},
		{"an unknown test field", "POST", hook + "/test", `{"eventType":"case_resolved","event_type":"x"}`, false, 422,
			"event_type", "did you mean eventType?"},
		{"an unknown test type", "POST", hook + "/test", `{"eventType":"x"}`, false, 422,
			"eventType", "the types are integration_message_status, case_resolved"},
		{"an unknown recover field", "POST", "/v1/organizations/1111/deliveries/recover", `{"since":"2026-01-01T00:00:00Z","until":"x"}`, false, 422,
			"until", "unknown field until"},
		{"organization beyond 2^53-1", "POST", "/v1/organizations", `{"organizationID":9007199254740992,"name":"Big"}`, true, 422,
			"organizationID", "from 1 to 9007199254740991"},
		{"organization twice", "POST", "/v1/organizations", `{"organizationID":5,"organizationID":6,"name":"Two"}`, true, 422,
			"organizationID", "appears more than once"},
		{"organization name not UTF-8", "POST", "/v1/organizations", "{\"organizationID\":5,\"name\":\"Ren\xe9\"}", true, 422,
			"name", "is not valid UTF-8"},
		{"an array to /v1/events", "POST", "/v1/events", "[" + ims + "]", true, 400, "", "send an array to /v1/events/batch"},
		{"an object to the batch", "POST", "/v1/events/batch", ims, true, 400, "", "send one event to /v1/events"},
		{"an empty event", "POST", "/v1/events", "", true, 400, "", "the body is empty"},
		{"an event not UTF-8", "POST", "/v1/events", strings.Replace(ims, `"reason":""`, "\"reason\":\"\xff\"", 1), true, 422,
			"integrationMessageStatus.reason", "is not valid UTF-8"},
		{"a batch event not UTF-8", "POST", "/v1/events/batch", "[" + ims + "," + strings.Replace(ims, `"reason":""`, "\"re\xffson\":\"\"", 1) + "]", true, 422,
			"[1].integrationMessageStatus.re\uFFFDson", "the name is not valid UTF-8"},
		{"an event's organization beyond 2^53-1", "POST", "/v1/events", messageStatus(9007199254740992, "t1", "read"), true, 422,
			"organizationID", "from 1 to 9007199254740991"},
		// Quoted as sent: a problem is JSON, not HTML.
		{"angle brackets", "PUT", hook, `{` + base + `,"<b>":1}`, false, 422, "<b>", "unknown field <b>"},
	} {
		t.Run(c.name, func(t *testing.T) {
			token := key
			if c.admin {
				token = s.Token
			}
			r := s.do(c.method, c.path, token, c.body)
			detail, fields := refusal(t, r, c.status)
			got := detail
			if c.field != "" {
				got = fields[c.field]
			}
			if !strings.Contains(got, c.want) {
				t.Errorf("field %q says %q, want %q: %s", c.field, got, c.want, r.Body)
			}
			if bytes.Contains(r.Body, []byte(`\u003c`)) {
				t.Errorf("the problem escapes < as HTML would need: %s", r.Body)
			}
		})
	}
	// None of the refused saves changed the webhook.
	wh := s.mustDo(200, "GET", hook, key, nil)
	if wh["enabled"] != true || fmt.Sprint(wh["subscribedEvents"]) != "[integration_message_status case_resolved]" {
		t.Errorf("a refused save changed the webhook: %v", wh)
	}
}

// The CLI's flags say what to write when they are wrong.
func TestFlagsSayWhatToWrite(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"send", "--url", "http://127.0.0.1:9/", "--secret", "abc"},
			"a secret starts with whsec_ followed by base64, as GET /v1/organizations/{org}/webhook/secret returns it"},
		{append([]string{"serve", "--addr", "127.0.0.1:0", "--retry-schedule", "1,2"}, sqliteDB.args(t, t.TempDir())...),
			"durations such as 5s,1m,1h"},
	} {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		out, err := exec.CommandContext(ctx, binary, c.args...).CombinedOutput()
		cancel()
		if err == nil || !strings.Contains(string(out), c.want) {
			t.Errorf("%s %s: %v\n%s\nwant a refusal saying %q", c.args[0], c.args[1:5], err, out, c.want)
		}
	}
}
