package client_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/onetalk/onetalk-webhooks/client"
	"github.com/onetalk/onetalk-webhooks/webhook"
)

// nextOrg hands each test organizations of its own on the shared server.
var nextOrg atomic.Int64

func init() { nextOrg.Store(time.Now().Unix() % 1_000_000 * 1000) }

// newOrg creates an organization with a webhook to a receiver that
// answers 200, and returns its ID and API key.
func newOrg(t *testing.T, s *server) (int64, string) {
	t.Helper()
	org := nextOrg.Add(1)
	key, err := client.New(s.URL, s.Token).CreateOrganization(context.Background(), org, t.Name())
	if err != nil {
		t.Fatal(err)
	}
	rc := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	t.Cleanup(rc.Close)
	s.setWebhook(t, org, key.Key, rc.URL)
	return org, key.Key
}

func status(org int64, trxID string) client.Event {
	return client.MessageStatus(org, webhook.IntegrationMessageStatus{
		ChannelID: "0123456", ChannelType: "whatsapp", ContactPhone: "628123456789",
		Status: "delivered", Timestamp: 1587352926788, TrxID: trxID})
}

func statuses(org int64, prefix string, n int) []client.Event {
	events := make([]client.Event, n)
	for i := range events {
		events[i] = status(org, fmt.Sprintf("%s-%d", prefix, i))
	}
	return events
}

// checkStored checks that the organization's deliveries are exactly the
// events of results: each stored once, none missing.
func checkStored(t *testing.T, s *server, org int64, key string, results []client.Result) {
	t.Helper()
	want := make([]string, len(results))
	for i, r := range results {
		want[i] = r.EventID
	}
	slices.Sort(want)
	if i := slices.IndexFunc(want, func(id string) bool { return !strings.HasPrefix(id, "evt_") }); i >= 0 {
		t.Fatalf("result with event ID %q", want[i])
	}
	if len(slices.Compact(slices.Clone(want))) != len(want) {
		t.Fatal("two results have the same event ID")
	}
	got := s.eventIDs(t, org, key)
	slices.Sort(got)
	if !slices.Equal(got, want) {
		t.Fatalf("stored %d events, published %d (or other IDs)", len(got), len(want))
	}
}

// Each kind of event is stored as built, and the result names its event
// and delivery; an organization without a webhook gets no delivery.
func TestPublish(t *testing.T) {
	ctx := context.Background()
	org, key := newOrg(t, shared)
	c := client.New(shared.URL, shared.Token)

	msg := webhook.IntegrationMessageStatus{ChannelID: "0123456", ChannelType: "whatsappba", ContactPhone: "628123456789",
		Reason: "recipient phone number is not a WhatsApp user", Status: "failed", Timestamp: 1587352927001, TrxID: "trx-1"}
	cr := webhook.CaseResolved{CaseID: "958CCF3BB6", ChannelType: "whatsapp", ChannelID: "166090",
		TopicID: client.TopicNumber(1), TopicName: "Finance", ResolvedTime: 1615305000400, IsResolvedByAgent: true,
		Labels: []string{"follow up"}, Contact: &webhook.Contact{ID: "e148", FullName: "John Doe",
			CustomFields: map[string]webhook.CustomField{"customer_id": {FieldType: "single_line", Value: "42"}}}}
	raw := fmt.Sprintf(`{"type": "case_resolved", "organizationID": %d, "caseResolved": {"caseID": "C2", "channelType": "whatsapp", "channelID": "1", "topicID": "7", "resolvedTime": 1}}`, org)

	for _, tc := range []struct {
		name  string
		event client.Event
		check func(*webhook.Event) bool
	}{
		{"message status", client.MessageStatus(org, msg), func(e *webhook.Event) bool { return *e.IntegrationMessageStatus == msg }},
		{"case resolved", client.CaseResolved(org, cr), func(e *webhook.Event) bool {
			got := e.CaseResolved
			return got.CaseID == cr.CaseID && got.TopicID.String() == "1" && got.Contact.CustomFieldMap()["customer_id"].Value == "42" &&
				slices.Equal(got.Labels, cr.Labels) && got.IsResolvedByAgent
		}},
		{"raw", client.Raw(json.RawMessage(raw)), func(e *webhook.Event) bool { return e.CaseResolved.TopicID.String() == "7" }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res, err := c.Publish(ctx, tc.event)
			if err != nil {
				t.Fatal(err)
			}
			if !strings.HasPrefix(res.EventID, "evt_") || !strings.HasPrefix(res.DeliveryID, "dlv_") || res.NotDelivered != "" {
				t.Fatalf("result %+v", res)
			}
			// What a receiver gets is what was built.
			var d struct {
				Payload json.RawMessage `json:"payload"`
			}
			shared.call(t, "GET", fmt.Sprintf("/v1/organizations/%d/deliveries/%s", org, res.DeliveryID), key, nil, &d)
			e, err := webhook.Parse(d.Payload)
			if err != nil {
				t.Fatal(err)
			}
			if e.OrganizationID != org || !tc.check(e) {
				t.Fatalf("stored payload %s", d.Payload)
			}
		})
	}

	t.Run("no webhook", func(t *testing.T) {
		bare := nextOrg.Add(1)
		if _, err := c.CreateOrganization(ctx, bare, "bare"); err != nil {
			t.Fatal(err)
		}
		res, err := c.Publish(ctx, status(bare, "trx-2"))
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(res.EventID, "evt_") || res.DeliveryID != "" {
			t.Fatalf("result %+v", res)
		}
	})
}

// A call repeated under the caller's own key answers the first result
// and stores nothing new, for one event and for a batch split in chunks.
func TestIdempotencyKeyOfTheCaller(t *testing.T) {
	org, key := newOrg(t, shared)
	c := client.New(shared.URL, shared.Token)
	ctx := client.WithIdempotencyKey(context.Background(), fmt.Sprint("caller-key-", org))

	first, err := c.Publish(ctx, status(org, "one"))
	if err != nil {
		t.Fatal(err)
	}
	again, err := c.Publish(ctx, status(org, "one"))
	if err != nil || again != first {
		t.Fatalf("again: %+v, %v; first %+v", again, err, first)
	}

	events := statuses(org, "batch", 1200)
	firstBatch, err := c.PublishBatch(ctx, events)
	if err != nil {
		t.Fatal(err)
	}
	againBatch, err := c.PublishBatch(ctx, events)
	if err != nil || !slices.Equal(againBatch, firstBatch) {
		t.Fatalf("the batch again: %v", err)
	}
	checkStored(t, shared, org, key, append([]client.Result{first}, firstBatch...))

	if _, err := c.Publish(client.WithIdempotencyKey(ctx, " spaced"), status(org, "x")); err == nil {
		t.Fatal("a key with a leading space was sent")
	}
}

// 2,500 small events go in three requests of at most 1,000; 60 events of
// ~100 KB go in two of at most 5 MiB. Each event is stored once, and the
// results are in the order of the events.
func TestPublishBatchSplits(t *testing.T) {
	for _, tc := range []struct {
		name     string
		n        int
		pad      int // bytes of reason per event
		requests int
	}{
		{"by count", 2500, 0, 3},
		{"by size", 60, 100_000, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			org, key := newOrg(t, shared)
			tr := &countingTransport{}
			c := client.New(shared.URL, shared.Token, client.WithHTTPClient(&http.Client{Transport: tr}))
			events := make([]client.Event, tc.n)
			for i := range events {
				events[i] = client.MessageStatus(org, webhook.IntegrationMessageStatus{ChannelID: "1", ChannelType: "whatsapp",
					ContactPhone: "62", Status: "failed", Reason: strings.Repeat("r", tc.pad), Timestamp: int64(i), TrxID: fmt.Sprint("t-", i)})
			}
			results, err := c.PublishBatch(context.Background(), events)
			if err != nil {
				t.Fatal(err)
			}
			if tr.count() != tc.requests {
				t.Errorf("%d requests, want %d", tr.count(), tc.requests)
			}
			if len(results) != tc.n {
				t.Fatalf("%d results for %d events", len(results), tc.n)
			}
			checkStored(t, shared, org, key, results)
			// The results are in order: the i-th names the event with
			// timestamp i.
			deliveries := shared.deliveries(t, org, key)
			for _, i := range []int{0, tc.n / 2, tc.n - 1} {
				var d struct {
					Payload json.RawMessage `json:"payload"`
				}
				shared.call(t, "GET", fmt.Sprintf("/v1/organizations/%d/deliveries/%s", org, deliveries[results[i].EventID]), key, nil, &d)
				e, err := webhook.Parse(d.Payload)
				if err != nil || e.IntegrationMessageStatus.Timestamp != int64(i) {
					t.Fatalf("result %d names %s (%v)", i, d.Payload[:min(len(d.Payload), 200)], err)
				}
			}
		})
	}
}

// A 4xx is returned at once, as an *Error with the service's problem and
// every bad field; in a batch the field names count from the start of the
// events given, and the chunks before the refused one are stored.
func TestRefused(t *testing.T) {
	org, key := newOrg(t, shared)
	tr := &countingTransport{}
	c := client.New(shared.URL, shared.Token, client.WithHTTPClient(&http.Client{Transport: tr}))

	bad := client.MessageStatus(org, webhook.IntegrationMessageStatus{ChannelID: "1", ChannelType: "telegram", ContactPhone: "62", Status: "sent", Timestamp: 1})
	_, err := c.Publish(context.Background(), bad)
	var e *client.Error
	if !errors.As(err, &e) {
		t.Fatalf("error %v, want a *client.Error", err)
	}
	if e.StatusCode != 422 || e.Type != "urn:onetalk-webhooks:problem:invalid" || e.Title == "" || e.Detail == "" {
		t.Fatalf("error %+v", e)
	}
	fields := func(e *client.Error) []string {
		var names []string
		for _, f := range e.Fields {
			names = append(names, f.Field)
		}
		slices.Sort(names)
		return names
	}
	want := []string{"integrationMessageStatus.channelType", "integrationMessageStatus.status", "integrationMessageStatus.trxID"}
	if got := fields(e); !slices.Equal(got, want) {
		t.Fatalf("fields %v, want %v", got, want)
	}
	if tr.count() != 1 {
		t.Fatalf("%d requests for a 422, want 1", tr.count())
	}

	events := statuses(org, "b", 2500)
	events[1500] = bad
	results, err := c.PublishBatch(context.Background(), events)
	if !errors.As(err, &e) || e.StatusCode != 422 {
		t.Fatalf("error %v, want a 422", err)
	}
	if got := fields(e); len(got) != 3 || !strings.HasPrefix(got[0], "[1500].") {
		t.Fatalf("fields %v, want three of [1500]", got)
	}
	if len(results) != 1000 || tr.count() != 3 {
		t.Fatalf("%d results after %d requests, want the first chunk's 1000 after 2 more", len(results), tr.count()-1)
	}
	checkStored(t, shared, org, key, results)

	_, err = client.New(shared.URL, "otk_wrong").Publish(context.Background(), status(org, "x"))
	if !errors.As(err, &e) || e.StatusCode != 401 {
		t.Fatalf("with a wrong token: %v, want a 401", err)
	}
}

// The admin calls: an organization and its key, another key, and the
// revocation that stops it.
func TestAdmin(t *testing.T) {
	ctx := context.Background()
	c := client.New(shared.URL, shared.Token)
	org := nextOrg.Add(1)
	first, err := c.CreateOrganization(ctx, org, "Acme")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(first.Key, "otk_") || !strings.HasPrefix(first.ID, "key_") || first.CreatedAt.IsZero() {
		t.Fatalf("key %+v", first)
	}
	var e *client.Error
	if _, err := c.CreateOrganization(ctx, org, "Acme"); !errors.As(err, &e) || e.StatusCode != 409 {
		t.Fatalf("the same organization again: %v, want a 409", err)
	}
	second, err := c.CreateAPIKey(ctx, org)
	if err != nil || !strings.HasPrefix(second.Key, "otk_") || second.Key == first.Key {
		t.Fatalf("second key %+v, %v", second, err)
	}
	shared.eventIDs(t, org, second.Key) // the key works
	if err := c.RevokeAPIKey(ctx, org, second.ID); err != nil {
		t.Fatal(err)
	}
	// The revoked key is refused; the first still works.
	_, err = client.New(shared.URL, second.Key).CreateAPIKey(ctx, org)
	if !errors.As(err, &e) || e.StatusCode != 401 {
		t.Fatalf("a revoked key: %v, want a 401", err)
	}
	shared.eventIDs(t, org, first.Key)
}

// A 429 is retried after the Retry-After the service sends, and a policy
// that cannot wait that long gives up at once with the 429. The 429 comes
// from serve's own limiter: 20 wrong tokens from one address block it.
func TestTooManyRequests(t *testing.T) {
	s := startT(t, t.TempDir(), "127.0.0.1:0")
	org, _ := newOrg(t, s)
	for range 21 {
		req, _ := http.NewRequest("POST", s.URL+"/v1/events", nil)
		req.Header.Set("Authorization", "Bearer otk_guess")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}

	impatient := client.New(s.URL, s.Token, client.WithRetry(client.RetryPolicy{MaxElapsed: 500 * time.Millisecond}))
	_, err := impatient.Publish(context.Background(), status(org, "a"))
	var e *client.Error
	if !errors.As(err, &e) || e.StatusCode != 429 || e.RetryAfter <= 0 {
		t.Fatalf("error %v, want a 429 with Retry-After", err)
	}

	tr := &countingTransport{}
	c := client.New(s.URL, s.Token, client.WithHTTPClient(&http.Client{Transport: tr}))
	res, err := c.Publish(context.Background(), status(org, "a"))
	if err != nil || !strings.HasPrefix(res.EventID, "evt_") {
		t.Fatalf("%+v, %v", res, err)
	}
	if tr.count() < 2 {
		t.Fatalf("%d requests: the first should have met the 429", tr.count())
	}
}
