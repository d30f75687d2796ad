package storetest

import (
	"testing"
	"time"

	"github.com/onetalk/onetalk-webhooks/internal/otw"
	"github.com/onetalk/onetalk-webhooks/internal/store"
)

// completionTests hold each driver to the one write of CompleteAttempts:
// outcomes, disables and operational events stored together or not at
// all, a webhook.disabled told only by the write that switched the
// webhook off, and every event stored once under its key.
var completionTests = map[string]func(*testing.T, store.Store){
	"StoresEverythingTogether": func(t *testing.T, s store.Store) {
		newOpsOrg(t, s)
		newSubscribedOrg(t, s, org1)
		sent, waiting := deliver(t, s, org1, "", t0), deliver(t, s, org1, "", t0)
		p := claimParams(t0)
		p.Limit = 1
		got := claim(t, s, p)
		if len(got) != 1 || got[0].DeliveryID != sent {
			t.Fatalf("claimed %v, want %s, the first due", claimedIDs(got), sent)
		}
		c := got[0]
		l := listen(t, s)
		disabled := opsEvent(otw.EventWebhookDisabled, org1, "dlv-a:1", t0)
		exhausted := opsEvent(otw.EventDeliveryExhausted, org2, "dlv-b:8", t0)
		completeAll(t, s, store.Completion{
			Results: []store.AttemptResult{result(c, otw.DeliveryFailed, 410, t0)},
			Disable: []store.Disable{{OrganizationID: org1, Reason: "the endpoint answered 410 Gone", Event: &disabled}},
			Events:  []otw.Event{exhausted},
			Now:     t0,
		})
		if d := getDelivery(t, s, org1, sent); d.Status != otw.DeliveryFailed || len(d.Attempts) != 1 {
			t.Fatalf("the delivery sent: status %q, %d attempts; want failed with its attempt", d.Status, len(d.Attempts))
		}
		if d := getDelivery(t, s, org1, waiting); d.Status != otw.DeliveryFailed || d.LastError != "the endpoint answered 410 Gone" {
			t.Fatalf("the delivery waiting: status %q, last error %q; want failed with the reason", d.Status, d.LastError)
		}
		if w := getWebhook(t, s, org1); w.State != otw.WebhookDisabled || w.DisabledReason != "the endpoint answered 410 Gone" {
			t.Fatalf("webhook: state %q, reason %q; want disabled with the reason", w.State, w.DisabledReason)
		}
		wantOpsEvents(t, s, otw.EventWebhookDisabled, otw.EventDeliveryExhausted)
		l.wantWoken(t, "a completion whose events made pending deliveries")
		// Due at once, for any claim.
		if got := claim(t, s, claimParams(t0)); len(got) != 2 || got[0].OrganizationID != otw.OpsOrganizationID {
			t.Fatalf("claimed %d after the completion, want the 2 operational deliveries", len(got))
		}
	},
	"RefusedStoresNothing": func(t *testing.T, s store.Store) {
		newOpsOrg(t, s)
		newSubscribedOrg(t, s, org1)
		newSubscribedOrg(t, s, org2)
		id := deliver(t, s, org1, "", t0)
		c := claimOne(t, s, t0, id)
		// An event the insert refuses, as InsertEvents refuses it: its key
		// was used with another body. The refusal comes last in the
		// write, after the outcome and the disable.
		used := event(org2, "case_resolved", "", t0)
		used.IdempotencyKey = "k-used"
		insert(t, s, t0, used)
		refused := event(org2, "case_resolved", "", t0)
		refused.IdempotencyKey = "k-used"
		l := listen(t, s)
		disabled := opsEvent(otw.EventWebhookDisabled, org1, id+":1", t0)
		comp := store.Completion{
			Results: []store.AttemptResult{result(c, otw.DeliveryFailed, 410, t0)},
			Disable: []store.Disable{{OrganizationID: org1, Reason: "the endpoint answered 410 Gone", Event: &disabled}},
			Events:  []otw.Event{opsEvent(otw.EventDeliveryExhausted, org2, "dlv-b:8", t0), refused},
			Now:     t0,
		}
		_, err := s.CompleteAttempts(t.Context(), comp)
		wantCode(t, err, otw.EINVALID, "a completion with an event whose key was used with another body")
		if d := getDelivery(t, s, org1, id); d.Status != otw.DeliveryPending || len(d.Attempts) != 0 {
			t.Fatalf("after the refused completion: status %q, %d attempts; want pending without any", d.Status, len(d.Attempts))
		}
		if w := getWebhook(t, s, org1); w.State != otw.WebhookActive {
			t.Fatalf("after the refused completion: webhook %q, want active", w.State)
		}
		wantOpsEvents(t, s)
		l.wantSilent(t, "a refused completion")
		// The lease still holds: the completion written again without the
		// event refused stores everything.
		comp.Events = comp.Events[:1]
		completeAll(t, s, comp)
		if d := getDelivery(t, s, org1, id); d.Status != otw.DeliveryFailed || len(d.Attempts) != 1 {
			t.Fatalf("written again: status %q, %d attempts; want failed with one", d.Status, len(d.Attempts))
		}
		wantOpsEvents(t, s, otw.EventWebhookDisabled, otw.EventDeliveryExhausted)
	},
	"DisabledToldOnce": func(t *testing.T, s store.Store) {
		newOpsOrg(t, s)
		newSubscribedOrg(t, s, org1)
		newSubscribedOrg(t, s, org2)
		a, b := deliver(t, s, org1, "", t0), deliver(t, s, org1, "", t0)
		got := claim(t, s, claimParams(t0))
		if len(got) != 2 {
			t.Fatalf("claimed %d, want %s and %s", len(got), a, b)
		}
		disable := func(c store.Claimed) store.Completion {
			e := opsEvent(otw.EventWebhookDisabled, org1, c.DeliveryID+":1", t0)
			return store.Completion{
				Results: []store.AttemptResult{result(c, otw.DeliveryFailed, 410, t0)},
				Disable: []store.Disable{{OrganizationID: org1, Reason: "the endpoint answered 410 Gone", Event: &e}},
				Now:     t0,
			}
		}
		completeAll(t, s, disable(got[0]))
		l := listen(t, s)
		// The second request to the same endpoint answered 410 too: its
		// write finds the webhook disabled already.
		completeAll(t, s, disable(got[1]))
		wantOpsEvents(t, s, otw.EventWebhookDisabled)
		l.wantSilent(t, "a completion disabling a webhook disabled already")
		// Disabled by another way first (DisableWebhook), then by a
		// completion: told by none.
		if err := s.DisableWebhook(t.Context(), org2, "failing for 5 days", t0); err != nil {
			t.Fatal(err)
		}
		e := opsEvent(otw.EventWebhookDisabled, org2, "dlv-c:1", t0)
		completeAll(t, s, store.Completion{Disable: []store.Disable{{OrganizationID: org2, Reason: "failing for 5 days", Event: &e}}, Now: t0})
		wantOpsEvents(t, s, otw.EventWebhookDisabled)
		// An organization without a webhook has nothing to disable: the
		// rest of the write goes on.
		newOrg(t, s, org3)
		e3 := opsEvent(otw.EventWebhookDisabled, org3, "dlv-d:1", t0)
		completeAll(t, s, store.Completion{Disable: []store.Disable{{OrganizationID: org3, Reason: "gone", Event: &e3}},
			Events: []otw.Event{opsEvent(otw.EventDeliveryExhausted, org3, "dlv-d:1", t0)}, Now: t0})
		wantOpsEvents(t, s, otw.EventWebhookDisabled, otw.EventDeliveryExhausted)
	},
	"RepeatStoresEventsOnce": func(t *testing.T, s store.Store) {
		newOpsOrg(t, s)
		newSubscribedOrg(t, s, org1)
		id := deliver(t, s, org1, "", t0)
		c := claimOne(t, s, t0, id)
		comp := store.Completion{
			Results: []store.AttemptResult{result(c, otw.DeliverySucceeded, 200, t0)},
			Events:  []otw.Event{opsEvent(otw.EventWebhookRecovered, org1, "1700000000000", t0)},
			Now:     t0,
		}
		completeAll(t, s, comp)
		// Written again, as after a commit whose answer was lost.
		completeAll(t, s, comp)
		wantOpsEvents(t, s, otw.EventWebhookRecovered)
		// The same cause told later, by another success of the same failing
		// period: another ID, another timestamp, the same key.
		later := t0.Add(time.Minute)
		l := listen(t, s)
		completeAll(t, s, store.Completion{Events: []otw.Event{opsEvent(otw.EventWebhookRecovered, org1, "1700000000000", later)}, Now: later})
		wantOpsEvents(t, s, otw.EventWebhookRecovered)
		l.wantSilent(t, "a completion whose events were stored already")
		if d := getDelivery(t, s, org1, id); d.Status != otw.DeliverySucceeded {
			t.Fatalf("delivery %q after the repeats, want succeeded", d.Status)
		}
	},
}

// newOpsOrg creates the platform's organization with a webhook subscribed
// to the operational events, as the service does when they are on.
func newOpsOrg(t *testing.T, s store.Store) {
	t.Helper()
	newSubscribedOrg(t, s, otw.OpsOrganizationID, otw.OpsEventTypes()...)
}

// opsEvent is an operational event about org, its key derived from cause.
func opsEvent(typ string, org int64, cause string, at time.Time) otw.Event {
	return otw.NewOpsEvent(otw.OpsEvent{Type: typ, OrganizationID: org}, cause, at)
}

// completeAll writes a whole completion and returns what it handed over.
func completeAll(t *testing.T, s store.Store, c store.Completion) []store.Claimed {
	t.Helper()
	taken, err := s.CompleteAttempts(t.Context(), c)
	if err != nil {
		t.Fatalf("CompleteAttempts: %v", err)
	}
	return taken
}

func getWebhook(t *testing.T, s store.Store, org int64) otw.Webhook {
	t.Helper()
	w, err := s.GetWebhook(t.Context(), org)
	if err != nil {
		t.Fatalf("GetWebhook(%d): %v", org, err)
	}
	return w
}

// wantOpsEvents fails unless the platform's organization has exactly one
// pending delivery of each of the types, oldest first.
func wantOpsEvents(t *testing.T, s store.Store, types ...string) {
	t.Helper()
	got := list(t, s, store.ListParams{OrganizationID: otw.OpsOrganizationID})
	var gotTypes []string
	for i := len(got) - 1; i >= 0; i-- { // the list is newest first
		if got[i].Status != otw.DeliveryPending {
			t.Fatalf("operational delivery %s is %q, want pending", got[i].ID, got[i].Status)
		}
		gotTypes = append(gotTypes, got[i].EventType)
	}
	wantEqualIDs(t, "the platform's deliveries", gotTypes, types)
}
