package storetest

import (
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/onetalk/onetalk-webhooks/internal/otw"
	"github.com/onetalk/onetalk-webhooks/internal/store"
)

// filterTests hold each driver to a webhook's filters: kept as saved, and
// decided by the insert on the event's body, an event they refuse making
// no delivery and answering why.
var filterTests = map[string]func(*testing.T, store.Store){
	"SavedAndRead": func(t *testing.T, s store.Store) {
		newOrg(t, s, org1)
		want := otw.Filters{"integration_message_status": {"status": {"failed", "read"}, "channelType": {"whatsapp"}}}
		w := saveFiltered(t, s, org1, want, "integration_message_status")
		if !reflect.DeepEqual(w.Filters, want) {
			t.Errorf("SaveWebhook filters = %v, want %v", w.Filters, want)
		}
		if got, err := s.GetWebhook(t.Context(), org1); err != nil || !reflect.DeepEqual(got.Filters, want) {
			t.Errorf("GetWebhook filters = %v, %v; want %v", got.Filters, err, want)
		}
		w = saveFiltered(t, s, org1, nil, "integration_message_status")
		if len(w.Filters) != 0 || w.Filters == nil {
			t.Errorf("a save without filters kept %#v, want an empty map", w.Filters)
		}
	},
	"FilteredMakesNoDelivery": func(t *testing.T, s store.Store) {
		newOrg(t, s, org1)
		saveFiltered(t, s, org1, otw.Filters{"integration_message_status": {"status": {"failed"}}}, "integration_message_status", "case_resolved")
		in := insert(t, s, t0, statusEvent(org1, "failed", t0), statusEvent(org1, "delivered", t0),
			event(org1, "case_resolved", "", t0))
		wantNotDelivered(t, in[0], true, "")
		wantNotDelivered(t, in[1], false, store.NotDeliveredFiltered)
		wantNotDelivered(t, in[2], true, "") // no conditions for its type
		page, _, err := s.ListDeliveries(t.Context(), store.ListParams{OrganizationID: org1, Limit: 10})
		if err != nil || len(page) != 2 {
			t.Errorf("ListDeliveries = %d deliveries, %v; want 2", len(page), err)
		}
	},
	// The platform sends topicID as a number or a string: both match.
	"TopicIDNumberOrString": func(t *testing.T, s store.Store) {
		newOrg(t, s, org1)
		saveFiltered(t, s, org1, otw.Filters{"case_resolved": {"topicID": {"12"}}}, "case_resolved")
		in := insert(t, s, t0, resolvedEvent(org1, `12`, t0), resolvedEvent(org1, `"12"`, t0),
			resolvedEvent(org1, `13`, t0), resolvedEvent(org1, `null`, t0))
		wantNotDelivered(t, in[0], true, "")
		wantNotDelivered(t, in[1], true, "")
		wantNotDelivered(t, in[2], false, store.NotDeliveredFiltered)
		wantNotDelivered(t, in[3], false, store.NotDeliveredFiltered)
	},
	"NotSubscribedBeforeFiltered": func(t *testing.T, s store.Store) {
		newOrg(t, s, org1)
		saveFiltered(t, s, org1, otw.Filters{"case_resolved": {"topicID": {"12"}}}, "integration_message_status")
		wantNotDelivered(t, insert(t, s, t0, resolvedEvent(org1, `13`, t0))[0], false, store.NotDeliveredNotSubscribed)
	},
	// A webhook the service disabled records a failed delivery of what
	// it would send, not of what its filters refuse.
	"DisabledRecordsOnlyWhatPasses": func(t *testing.T, s store.Store) {
		newOrg(t, s, org1)
		saveFiltered(t, s, org1, otw.Filters{"case_resolved": {"topicID": {"12"}}}, "case_resolved")
		if err := s.DisableWebhook(t.Context(), org1, "the receiver answered 410 Gone", t0); err != nil {
			t.Fatal(err)
		}
		in := insert(t, s, t0, resolvedEvent(org1, `12`, t0), resolvedEvent(org1, `13`, t0))
		wantNotDelivered(t, in[0], true, store.NotDeliveredWebhookDisabled)
		wantNotDelivered(t, in[1], false, store.NotDeliveredWebhookDisabled)
	},
	// A change holds from the next insert, though the compiled filter of
	// the one before may still be kept.
	"ChangeHoldsAtOnce": func(t *testing.T, s store.Store) {
		newOrg(t, s, org1)
		saveFiltered(t, s, org1, otw.Filters{"case_resolved": {"topicID": {"12"}}}, "case_resolved")
		wantNotDelivered(t, insert(t, s, t0, resolvedEvent(org1, `13`, t0))[0], false, store.NotDeliveredFiltered)
		saveFiltered(t, s, org1, otw.Filters{"case_resolved": {"topicID": {"13"}}}, "case_resolved")
		wantNotDelivered(t, insert(t, s, t0, resolvedEvent(org1, `13`, t0))[0], true, "")
		saveFiltered(t, s, org1, nil, "case_resolved")
		wantNotDelivered(t, insert(t, s, t0, resolvedEvent(org1, `14`, t0))[0], true, "")
	},
	"RepeatedKeySaysFiltered": func(t *testing.T, s store.Store) {
		newOrg(t, s, org1)
		saveFiltered(t, s, org1, otw.Filters{"case_resolved": {"topicID": {"12"}}}, "case_resolved")
		first := resolvedEvent(org1, `13`, t0)
		first.IdempotencyKey = "idem-f"
		wantNotDelivered(t, insert(t, s, t0, first)[0], false, store.NotDeliveredFiltered)
		again := first
		again.ID, again.CreatedAt = otw.NewID("evt_", t0.Add(time.Minute)), t0.Add(time.Minute)
		in := insert(t, s, again.CreatedAt, again)[0]
		if !in.Existing {
			t.Fatalf("repeat = %+v, want existing", in)
		}
		wantNotDelivered(t, in, false, store.NotDeliveredFiltered)
	},
}

func saveFiltered(t *testing.T, s store.Store, org int64, f otw.Filters, types ...string) otw.Webhook {
	t.Helper()
	w, err := s.SaveWebhook(t.Context(), org, otw.WebhookSettings{
		Enabled: true, URL: fmt.Sprintf("https://hooks.example.com/%d", org), SubscribedEvents: types, Filters: f,
	}, secretA, t0)
	if err != nil {
		t.Fatalf("SaveWebhook(%d): %v", org, err)
	}
	return w
}

// statusEvent is an integration_message_status event with the status, as
// the platform publishes it (compacted).
func statusEvent(org int64, status string, at time.Time) otw.Event {
	e := event(org, "integration_message_status", "", at)
	e.Body = []byte(fmt.Sprintf(`{"type":"integration_message_status","integrationMessageStatus":{"channelID":"1","channelType":"whatsapp","contactPhone":"62","reason":"","status":%q,"timestamp":1,"trxID":%q},"organizationID":%d}`,
		status, e.ID, org))
	return e
}

// resolvedEvent is a case_resolved event whose topicID is the JSON topic.
func resolvedEvent(org int64, topic string, at time.Time) otw.Event {
	e := event(org, "case_resolved", "", at)
	e.Body = []byte(fmt.Sprintf(`{"type":"case_resolved","caseResolved":{"caseID":%q,"channelType":"whatsapp","channelID":"1","topicID":%s,"resolvedTime":1},"organizationID":%d}`,
		e.ID, topic, org))
	return e
}
