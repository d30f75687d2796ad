package storetest

import (
	"testing"
	"time"

	"github.com/onetalk/onetalk-webhooks/internal/otw"
	"github.com/onetalk/onetalk-webhooks/internal/store"
)

// notDeliveredTests hold each driver to the same reason for every event
// it stores without sending: the API answers it to the publisher.
var notDeliveredTests = map[string]func(*testing.T, store.Store){
	"UnknownOrganization": func(t *testing.T, s store.Store) {
		wantNotDelivered(t, insert(t, s, t0, event(org1, "case_resolved", "", t0))[0], false, store.NotDeliveredUnknownOrganization)
	},
	"NoWebhook": func(t *testing.T, s store.Store) {
		newOrg(t, s, org1)
		wantNotDelivered(t, insert(t, s, t0, event(org1, "case_resolved", "", t0))[0], false, store.NotDeliveredNoWebhook)
	},
	"SwitchedOffIsDisabled": func(t *testing.T, s store.Store) {
		newOrg(t, s, org1)
		saveWebhook(t, s, org1, false, "case_resolved")
		wantNotDelivered(t, insert(t, s, t0, event(org1, "case_resolved", "", t0))[0], false, store.NotDeliveredWebhookDisabled)
	},
	// Switched off and not subscribed: switching on comes first.
	"SwitchedOffBeforeNotSubscribed": func(t *testing.T, s store.Store) {
		newOrg(t, s, org1)
		saveWebhook(t, s, org1, false, "integration_message_status")
		wantNotDelivered(t, insert(t, s, t0, event(org1, "case_resolved", "", t0))[0], false, store.NotDeliveredWebhookDisabled)
	},
	// Enabled by the organization, disabled by the service (a 410, or
	// failing too long): the delivery is recorded failed, and not sent.
	"DisabledByServiceIsDisabled": func(t *testing.T, s store.Store) {
		newSubscribedOrg(t, s, org1)
		if err := s.DisableWebhook(t.Context(), org1, "the receiver answered 410 Gone", t0); err != nil {
			t.Fatal(err)
		}
		wantNotDelivered(t, insert(t, s, t0, event(org1, "case_resolved", "", t0))[0], true, store.NotDeliveredWebhookDisabled)
	},
	"NotSubscribed": func(t *testing.T, s store.Store) {
		newSubscribedOrg(t, s, org1, "integration_message_status")
		wantNotDelivered(t, insert(t, s, t0, event(org1, "case_resolved", "", t0))[0], false, store.NotDeliveredNotSubscribed)
	},
	"DeliveredHasNoReason": func(t *testing.T, s store.Store) {
		newSubscribedOrg(t, s, org1)
		wantNotDelivered(t, insert(t, s, t0, event(org1, "case_resolved", "", t0))[0], true, "")
	},
	// One batch, one reason per event, in input order.
	"EachEventOfABatch": func(t *testing.T, s store.Store) {
		newSubscribedOrg(t, s, org1)
		newOrg(t, s, org2)
		in := insert(t, s, t0, event(org1, "case_resolved", "", t0), event(org2, "case_resolved", "", t0),
			event(org1, "integration_message_status", "", t0), event(org3, "case_resolved", "", t0))
		wantNotDelivered(t, in[0], true, "")
		wantNotDelivered(t, in[1], false, store.NotDeliveredNoWebhook)
		wantNotDelivered(t, in[2], false, store.NotDeliveredNotSubscribed)
		wantNotDelivered(t, in[3], false, store.NotDeliveredUnknownOrganization)
	},
	// A repeated Idempotency-Key answers the first event, and why it is
	// not sent as of the repeat.
	"RepeatedKeySaysWhy": func(t *testing.T, s store.Store) {
		newOrg(t, s, org1)
		first := event(org1, "case_resolved", "", t0)
		first.IdempotencyKey = "idem-1"
		insert(t, s, t0, first)
		again := first
		again.ID, again.CreatedAt = otw.NewID("evt_", t0.Add(time.Minute)), t0.Add(time.Minute)
		in := insert(t, s, again.CreatedAt, again)[0]
		if !in.Existing {
			t.Fatalf("repeat = %+v, want existing", in)
		}
		wantNotDelivered(t, in, false, store.NotDeliveredNoWebhook)
	},
}

func wantNotDelivered(t *testing.T, in store.Inserted, delivery bool, reason string) {
	t.Helper()
	if (in.DeliveryID != "") != delivery || in.NotDelivered != reason {
		t.Errorf("InsertEvents = %+v, want a delivery %v and NotDelivered %q", in, delivery, reason)
	}
}
