package main

import (
	"net/http"
	"net/url"
	"testing"
	"time"
)

// A message's deliveries are found by its trxID, and the failed ones sent
// again in bulk: a dry run counts them first, and the retry sends each
// message's in order. Bad filters are refused naming the field.
func TestFindAndRetryInBulk(t *testing.T) {
	t.Parallel()
	rc := newReceiver(t, func(int, http.ResponseWriter, *http.Request) int { return 500 })
	s := sqliteDB.start(t, t.TempDir(), "--retry-schedule", "20ms")
	key := s.createOrg(1111, rc.URL)
	const deliveries = "/v1/organizations/1111/deliveries"
	publish := func(trx, status string) map[string]any {
		return s.mustDo(202, "POST", "/v1/events", s.Token, messageStatus(1111, trx, status))
	}
	read, delivered, other := publish("find-A", "read"), publish("find-A", "delivered"), publish("find-B", "read")
	eventually(t, 10*time.Second, "the three deliveries to fail", func() bool {
		return len(s.mustDo(200, "GET", deliveries+"?status=failed", key, nil)["data"].([]any)) == 3
	})
	ids := func(query string) []string {
		var out []string
		for _, d := range s.mustDo(200, "GET", deliveries+"?"+query, key, nil)["data"].([]any) {
			out = append(out, d.(map[string]any)["id"].(string))
		}
		return out
	}
	if got := ids("trxID=find-A"); len(got) != 2 || got[0] != delivered["deliveryID"] || got[1] != read["deliveryID"] {
		t.Errorf("trxID=find-A lists %v, want %s and %s", got, delivered["deliveryID"], read["deliveryID"])
	}
	if got := ids("eventID=" + other["eventID"].(string)); len(got) != 1 || got[0] != other["deliveryID"] {
		t.Errorf("eventID lists %v, want %s", got, other["deliveryID"])
	}
	if got := ids("caseID=find-A"); len(got) != 0 {
		t.Errorf("caseID=find-A lists %v, a trxID", got)
	}
	if got := ids("trxID=find-A&since=" + url.QueryEscape(time.Now().Add(time.Hour).Format(time.RFC3339))); len(got) != 0 {
		t.Errorf("trxID with since in an hour lists %v", got)
	}

	for _, c := range []struct{ name, method, path, body, field string }{
		{"list since not a time", "GET", deliveries + "?since=yesterday", "", "since"},
		{"list until before since", "GET", deliveries + "?since=2026-01-02T00:00:00Z&until=2026-01-01T00:00:00Z", "", "until"},
		{"list eventID not an event's", "GET", deliveries + "?eventID=dlv_1", "", "eventID"},
		{"retry pending", "POST", deliveries + "/retry", `{"status":"pending"}`, "status"},
		{"retry an unknown status", "POST", deliveries + "/retry", `{"status":"lost"}`, "status"},
		{"retry an unknown type", "POST", deliveries + "/retry", `{"eventType":"case_opened"}`, "eventType"},
		{"retry dryRun not a boolean", "POST", deliveries + "/retry", `{"dryRun":"yes"}`, "dryRun"},
		{"retry since not a time", "POST", deliveries + "/retry", `{"since":"yesterday"}`, "since"},
		{"retry an unknown field", "POST", deliveries + "/retry", `{"trxId":"find-A"}`, "trxId"},
	} {
		var body any
		if c.body != "" {
			body = c.body
		}
		if _, fields := refusal(t, s.do(c.method, c.path, key, body), 422); fields[c.field] == "" {
			t.Errorf("%s: the 422 does not name %s: %v", c.name, c.field, fields)
		}
	}

	dry := s.mustDo(200, "POST", deliveries+"/retry", key, map[string]any{"trxID": "find-A", "dryRun": true})
	if dry["count"] != 2.0 || dry["more"] != false {
		t.Fatalf("dry run of trxID find-A: %v, want count 2", dry)
	}
	if got := ids("status=failed"); len(got) != 3 {
		t.Fatalf("a dry run queued something: %d failed left, want 3", len(got))
	}
	rc.setAnswer(func(int, http.ResponseWriter, *http.Request) int { return 200 })
	before := len(rc.requests())
	if n := s.mustDo(202, "POST", deliveries+"/retry", key, map[string]any{}); n["count"] != 3.0 {
		t.Fatalf("retry of every failed delivery: %v, want count 3", n)
	}
	got := rc.waitFor(t, 10*time.Second, "the three retried deliveries", func(r []received) bool { return len(r) >= before+3 })
	var order []string
	for _, r := range got[before:] {
		if trx, status := eventOf(t, r.Body); trx == "find-A" {
			order = append(order, status)
		}
	}
	if len(order) != 2 || order[0] != "read" || order[1] != "delivered" {
		t.Errorf("find-A's deliveries were retried in the order %v, want read, delivered", order)
	}
}
