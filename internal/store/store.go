// Package store is the one boundary between the service and its database.
// Each driver (store/sqlite, store/postgres) implements Store, and
// store/storetest holds the suite that every driver must pass, so the
// engine above never asks which database it is on. The rules of the
// contract are stated here once: the drivers carry them out, and
// store/sqlstore holds what the two SQL drivers share of the doing.
//
// Times are stored as Unix milliseconds. "No rows" is otw.ENOTFOUND.
package store

import (
	"context"
	"time"

	"github.com/onetalk/onetalk-webhooks/internal/otw"
)

// Store is implemented by each database driver. Every method is safe for
// concurrent use.
type Store interface {
	// CreateOrganization inserts the organization and its first API key in
	// one transaction. ECONFLICT when the ID is taken.
	CreateOrganization(ctx context.Context, org otw.Organization, key otw.APIKey) error
	GetOrganization(ctx context.Context, id int64) (otw.Organization, error)
	// ListOrganizations returns organizations in ID order, from the one
	// after the cursor, and the cursor of the next page ("" on the last
	// one): what an admin picks from.
	ListOrganizations(ctx context.Context, p PageParams) (page []otw.Organization, next string, err error)
	// CreateAPIKey: ENOTFOUND when the organization does not exist.
	CreateAPIKey(ctx context.Context, key otw.APIKey) error
	// RevokeAPIKey: ENOTFOUND when the organization has no such live key.
	RevokeAPIKey(ctx context.Context, org int64, id string, at time.Time) error
	// ListAPIKeys returns the organization's keys, oldest first, revoked
	// ones included. ENOTFOUND when the organization does not exist.
	ListAPIKeys(ctx context.Context, org int64) ([]otw.APIKey, error)
	// TouchAPIKey records that the key was used at.
	TouchAPIKey(ctx context.Context, id string, at time.Time) error
	// RenameOrganization: ENOTFOUND when it does not exist.
	RenameOrganization(ctx context.Context, id int64, name string) (otw.Organization, error)
	// DeleteOrganization removes the organization and everything of it:
	// keys and webhook at once (its keys stop working with the first
	// step), then its events, deliveries and attempts in short steps.
	// ENOTFOUND when it does not exist.
	DeleteOrganization(ctx context.Context, id int64) error
	// FindAPIKey returns the key with this hash, revoked or not.
	FindAPIKey(ctx context.Context, hash []byte) (otw.APIKey, error)

	// RevokeSession records that the web UI session id was signed out
	// before it expires. It also forgets sessions revoked earlier whose
	// expiry has passed before now: their cookies are refused anyway.
	RevokeSession(ctx context.Context, id []byte, expires, now time.Time) error
	// SessionRevoked reports whether the session id was signed out. The
	// UI asks on every request, so it must be one indexed lookup.
	SessionRevoked(ctx context.Context, id []byte) (bool, error)

	// GetWebhook: ENOTFOUND before the first save.
	GetWebhook(ctx context.Context, org int64) (otw.Webhook, error)
	// SaveWebhook creates or updates the organization's webhook. The first
	// save stores secret (sealed); later saves keep the existing one. Saving
	// enabled makes a disabled webhook active again, with a fresh start:
	// reason and FailingSince cleared. The first save stores s.Signing ("" is
	// hmac-sha256) with the secret; later saves keep the scheme, which only
	// SwitchSigning changes, with a key of its kind.
	SaveWebhook(ctx context.Context, org int64, s otw.WebhookSettings, secret []byte, now time.Time) (otw.Webhook, error)
	// RotateSecret makes secret current and keeps the old one signing
	// until previousUntil. ENOTFOUND without a webhook.
	RotateSecret(ctx context.Context, org int64, secret []byte, previousUntil, now time.Time) (otw.Webhook, error)
	// SwitchSigning sets the webhook's signature scheme with secret (sealed,
	// a key of that scheme) current, and keeps the old key signing until
	// previousUntil, as RotateSecret does. A webhook already on that scheme
	// is left as it is: a save repeated changes nothing. ENOTFOUND without
	// a webhook.
	SwitchSigning(ctx context.Context, org int64, signing string, secret []byte, previousUntil, now time.Time) (otw.Webhook, error)
	// SealedSecret returns one webhook's current signing secret as stored
	// (sealed), or ENOTFOUND when no webhook exists yet: a starting node
	// opens it to learn, before it serves, whether its secret key is the
	// one the stored secrets were sealed with.
	SealedSecret(ctx context.Context) ([]byte, error)
	// DisableWebhook sets state disabled with the reason, and records every
	// pending delivery of the organization as failed with the reason as its
	// last error, so nothing waits unseen.
	DisableWebhook(ctx context.Context, org int64, reason string, now time.Time) error

	// InsertEvents stores the events and, in the same transaction, one
	// delivery each for those whose organization's webhook takes them
	// (see Route.Decide), due now. All or nothing. An event whose
	// IdempotencyKey was used in the last IdempotencyWindow returns the
	// first event (Existing) when the body is the same, and EINVALID
	// naming the header when it is not (the platform's operational events
	// excepted: see Resolve).
	//
	// take leases, in the same transaction, fresh deliveries for the
	// caller to send at once (see Take); they are returned claimed, in
	// input order.
	InsertEvents(ctx context.Context, events []otw.Event, now time.Time, take Take) ([]Inserted, []Claimed, error)

	// ClaimDeliveries leases due deliveries as p says (see ClaimParams).
	ClaimDeliveries(ctx context.Context, p ClaimParams) ([]Claimed, error)
	// CompleteAttempts writes what the dispatcher's attempts did, all in
	// one transaction: every part is stored, or (an error) none.
	//
	// The results record their attempts and the deliveries' new state,
	// and keep each webhook's FailingSince: cleared by a success, set by
	// the first failure after one. A result whose lease was taken over in
	// the meantime still records its attempt (it happened) but leaves the
	// delivery alone.
	//
	// Then each Disable disables its organization's webhook as
	// DisableWebhook does (nothing for an organization without one), after
	// the results, so a result of the same write that keeps its delivery
	// pending is recorded failed with the rest. Its Event is stored only
	// when this write switched the webhook from active to disabled: a
	// webhook disabled already, by an earlier write or by another node,
	// is told about once.
	//
	// Then the Events, and the switching disables' events, are stored and
	// routed as InsertEvents stores them (taking none): an event whose
	// key was used in the IdempotencyWindow stores nothing new (for the
	// platform's events whatever its body: see Resolve). A completion
	// repeated (its first commit's answer was lost) thus stores its
	// events once. Such an event that made a pending delivery
	// is announced (see Listen).
	//
	// With neither disables nor events it writes the results alone, at the
	// cost it always had: it is the hottest write.
	//
	// Last, it hands over what the results let go (Completion.Take): the
	// next delivery of each order key whose delivery a result ended,
	// leased to the caller and returned with everything a claim gives.
	CompleteAttempts(ctx context.Context, c Completion) ([]Claimed, error)
	// ReleaseDeliveries ends the leases that are still current, without an
	// attempt: the deliveries are due again at once, for any claim. The
	// dispatcher gives back what it will not send (it stops, or a lease no
	// longer covers a whole request).
	ReleaseDeliveries(ctx context.Context, leases []Lease) error
	// ExtendLeases moves each lease that is still current (no outcome
	// written, not taken over, not ended) to until, and reports in input
	// order which were moved. The dispatcher keeps the deliveries whose
	// outcomes it could not write yet, so that a slow write never lets
	// another claim send them a second time.
	ExtendLeases(ctx context.Context, leases []Lease, until time.Time) ([]bool, error)

	// ListDeliveries returns the organization's deliveries newest first,
	// and the cursor of the next page ("" on the last one).
	ListDeliveries(ctx context.Context, p ListParams) (page []otw.Delivery, next string, err error)
	// GetDelivery returns the delivery with its payload and attempts.
	GetDelivery(ctx context.Context, org int64, id string) (otw.Delivery, error)
	// RetryDelivery makes a delivery pending and due now. Unlike a
	// scheduled retry it adds one attempt beyond the schedule.
	RetryDelivery(ctx context.Context, org int64, id string, now time.Time) error
	// RecoverDeliveries makes every failed delivery created since then
	// pending and due now; it returns how many.
	RecoverDeliveries(ctx context.Context, org int64, since, now time.Time) (int, error)
	// RetryDeliveries makes the deliveries p selects, up to p.Limit
	// oldest first, pending and due now, and returns how many and whether
	// more match; with p.DryRun it only counts them, the same set. The
	// order rule (see ClaimParams) then sends each order key's earliest
	// first.
	// EINVALID naming status when p.Status is pending or empty.
	RetryDeliveries(ctx context.Context, p RetryParams) (n int, more bool, err error)

	// DeliveryStats counts the organization's deliveries created since
	// then, per hour (UTC, truncated) and status, oldest hour first; hours
	// without deliveries are left out.
	DeliveryStats(ctx context.Context, org int64, since time.Time) ([]HourStats, error)

	// CountPending counts pending deliveries across all organizations:
	// due, being sent, or waiting for a retry (the metrics' gauge).
	CountPending(ctx context.Context) (int64, error)

	// PruneEvents removes, oldest first, the events that p says are past
	// the retention and whose delivery is not pending, with their
	// deliveries and attempts. It looks at up to p.Limit events after the
	// cursor p.After (0 from the start) and returns the cursor to go on
	// from and how many it removed; a cursor that does not move means
	// that nothing older than p.Before is left after it. A pending
	// delivery is never removed, nor its event.
	PruneEvents(ctx context.Context, p PruneParams) (next int64, removed int, err error)

	// Listen calls wake soon after a write that makes work due now has
	// committed: on this store, and on a store that several nodes share,
	// on any node's. It is how a dispatcher polls rarely and still starts
	// on new work within milliseconds. These writes announce, and no
	// others:
	//   - InsertEvents that made a pending delivery it did not take and
	//     that does not wait behind another of its key (see Announces): an
	//     insert whose deliveries were all taken or wait, or that made
	//     none, or only failed ones, is silent. A claim would not find one
	//     that waits; the write that ends the one before it hands it over
	//     or wakes a claim (see Completion.Take). Where that write may
	//     commit between the insert's read and its commit, so that neither
	//     sees the other (PostgreSQL), the insert asks again after its
	//     commit and announces what no longer waits;
	//   - RetryDelivery;
	//   - RecoverDeliveries and RetryDeliveries (not a dry run) that made
	//     a delivery pending;
	//   - SaveWebhook saving the webhook enabled: what waited while it was
	//     off is due;
	//   - ReleaseDeliveries that ended a lease: the delivery is due again;
	//   - CompleteAttempts whose events made a pending delivery (the
	//     platform's operational events).
	// A retry that comes due with the clock announces nothing: the
	// dispatcher's poll finds it.
	//
	// Listen calls wake once when it starts listening, and again whenever
	// it may have missed announcements (PostgreSQL: after its connection
	// came back), so that the caller looks for work then. wake must not
	// block: a non-blocking send on a channel of capacity one is the
	// intended shape, so that a burst of announcements costs one claim.
	// Listen returns ctx.Err() once ctx is done.
	Listen(ctx context.Context, wake func()) error

	// Ping checks that the database answers a read.
	Ping(ctx context.Context) error
	// CheckWrite reports whether a publish would commit now: nil, or
	// EUNAVAILABLE saying what is wrong (out of disk space, does not
	// answer, read-only). It commits a small write of its own and answers
	// a publish that failed for want of the database in the last
	// FaultMemory (see Faults); a driver may check more (SQLite: free disk
	// space). /readyz polls it, so it must stay cheap.
	CheckWrite(ctx context.Context) error
	Close() error
}

// PruneParams selects a step of retention.
type PruneParams struct {
	// Before is the retention's cutoff: events created before it go. A
	// driver that removes by partitions of time (PostgreSQL) first rounds
	// it down to the start of the partition that holds it, so an event
	// may stay up to one partition width longer.
	Before time.Time
	// KeyedBefore is the cutoff for events published with an
	// Idempotency-Key, which stay until their key has expired too, so
	// that a retention shorter than IdempotencyWindow never lets a
	// repeated publish store an event twice.
	KeyedBefore time.Time
	After       int64
	Limit       int
}

// IdempotencyWindow is how long an Idempotency-Key is remembered.
const IdempotencyWindow = 24 * time.Hour

// Inserted is the outcome of one event of InsertEvents, in input order.
type Inserted struct {
	EventID    string
	DeliveryID string // "" when no delivery was created
	Existing   bool   // an earlier event with the same idempotency key
	Taken      bool   // the delivery was leased to the caller (Take)
	// Waits: the delivery is pending behind an earlier pending delivery
	// of its order key, so no claim may take it yet. Known only of the
	// deliveries the hand-off asked about (a Take with room); false says
	// nothing. It is due once the earlier one ends, and the write that
	// ends it hands it over or wakes a claim: its insert need not
	// announce it.
	Waits bool
	// NotDelivered says why the event will not be sent now, one of the
	// NotDelivered… reasons, "" when it will. It comes from the routing
	// of the same transaction, so it is what the store did, not a guess.
	// A webhook the service disabled still gets a delivery, recorded as
	// failed (recover sends it later), so a DeliveryID may come with
	// NotDeliveredWebhookDisabled. For an Existing event without a
	// delivery it is the reason as of the repeated publish.
	NotDelivered string
}

// Take hands fresh deliveries to the dispatcher of the node that stores
// them, so that a new event is sent without waiting for a claim: the
// latency of a claim is a round trip and a query on a database server, and
// at a steady rate every event would pay it. The zero Take takes nothing.
//
// The hand-off rule. An insert takes a delivery it makes when all hold:
//  1. the delivery is pending (Route.Decide): not one recorded failed for
//     a disabled webhook, nor an Existing event's;
//  2. it is first in line of its order key (the order rule, see
//     ClaimParams): no delivery of the organization's key was pending
//     before the insert (due, leased, or waiting for a retry), and no
//     earlier event of the call made a pending one of the key;
//  3. its organization has room: Room[org] bounds what the insert takes
//     of the organization, counted in input order over the deliveries
//     that 1 and 2 let through; an organization without Room takes
//     nothing.
//
// A taken delivery is leased until LeaseUntil as a claim would lease it
// (no claim takes it while the lease holds), marked Inserted.Taken and
// returned with everything a claim gives; it holds back the later
// deliveries of its key as any pending one does, and is not announced
// (see Store.Listen).
type Take struct {
	LeaseUntil time.Time
	Room       map[int64]int
	// Clock, for a completion's hand-off, tells the time by which the
	// next delivery of a key must be due, read as the hand-off reads the
	// key, after the write commits: a delivery inserted while the write
	// ran is due by then, though not by the completion's Now (nil: Now).
	Clock func() time.Time
}

// HandOverAt is when a completion's hand-off tests whether a delivery is
// due: by t.Clock now, or at the completion's Now without one.
func (t Take) HandOverAt(now time.Time) time.Time {
	if t.Clock != nil {
		return t.Clock()
	}
	return now
}

// OrderKey is an organization's order key.
type OrderKey struct {
	OrganizationID int64
	OrderKey       string
}

// Keys decides what a completion's hand-off tries, without the database
// (see Completion.Take): the order keys of the results that ended their
// delivery (ended[i], the lease still current), each once, up to each
// organization's Room, in the results' order.
func (t Take) Keys(results []AttemptResult, ended []bool) []OrderKey {
	if len(t.Room) == 0 {
		return nil
	}
	var keys []OrderKey
	seen := make(map[OrderKey]bool)
	used := make(map[int64]int)
	for i, r := range results {
		k := OrderKey{r.OrganizationID, r.OrderKey}
		if !ended[i] || r.OrderKey == "" || seen[k] || used[k.OrganizationID] >= t.Room[k.OrganizationID] {
			continue
		}
		seen[k] = true
		used[k.OrganizationID]++
		keys = append(keys, k)
	}
	return keys
}

// Candidates decides, in input order, what the hand-off rule decides
// without the database: the events whose deliveries are pending (pending
// says so), the first of their order key in the call that is, of an
// organization with room. nil when none may be taken. A driver then keeps
// those whose key had no pending delivery before, up to each
// organization's Room (or uses Choose, which does all).
func (t Take) Candidates(events []otw.Event, pending func(i int) bool) []bool {
	if len(t.Room) == 0 {
		return nil
	}
	type orderKey struct {
		org int64
		key string
	}
	candidate := make([]bool, len(events))
	seen := make(map[orderKey]bool)
	for i := range events {
		e := &events[i]
		if !pending(i) || t.Room[e.OrganizationID] <= 0 {
			continue
		}
		if e.OrderKey != "" {
			k := orderKey{e.OrganizationID, e.OrderKey}
			if seen[k] {
				continue // an earlier one of the key comes first
			}
			seen[k] = true
		}
		candidate[i] = true
	}
	return candidate
}

// MarkWaitsInCall sets out[i].Waits for the events whose deliveries are
// pending behind an earlier pending one of their order key in the same
// call: committed together, they cannot race (see Store.Listen).
func MarkWaitsInCall(events []otw.Event, out []Inserted, pending func(i int) bool) {
	seen := make(map[OrderKey]bool)
	for i := range events {
		e := &events[i]
		if e.OrderKey == "" || !pending(i) {
			continue
		}
		k := OrderKey{e.OrganizationID, e.OrderKey}
		out[i].Waits = out[i].Waits || seen[k]
		seen[k] = true
	}
}

// Choose is the whole hand-off rule, for a driver that asks from Go
// whether a delivery of a key was pending before the insert (waiting, asked
// of candidates with an order key, in input order, while their
// organization has room). It returns, in input order, the events whose
// deliveries to take, nil when none may be.
func (t Take) Choose(events []otw.Event, pending func(i int) bool, waiting func(i int) (bool, error)) ([]bool, error) {
	take := t.Candidates(events, pending)
	if take == nil {
		return nil, nil
	}
	used := make(map[int64]int, len(t.Room))
	for i, candidate := range take {
		if !candidate {
			continue
		}
		e := &events[i]
		take[i] = false
		if used[e.OrganizationID] >= t.Room[e.OrganizationID] {
			continue
		}
		if e.OrderKey != "" {
			waits, err := waiting(i)
			if err != nil {
				return nil, err
			}
			if waits {
				continue
			}
		}
		take[i] = true
		used[e.OrganizationID]++
	}
	return take, nil
}

// Announces reports whether an insert with these results announces (see
// Store.Listen): it made a pending delivery, due now, that it did not
// take and that does not wait behind another of its order key. A delivery
// is pending exactly when it comes without a reason not to send it (see
// Route.Decide).
func Announces(out []Inserted) bool {
	for i := range out {
		if in := &out[i]; in.DeliveryID != "" && !in.Existing && !in.Taken && !in.Waits && in.NotDelivered == "" {
			return true
		}
	}
	return false
}

// ClaimParams selects deliveries to lease.
//
// The claim rule. A claim leases, until LeaseUntil, deliveries that are
//  1. pending and due: next attempt at or before Now;
//  2. not leased at Now (never, or the lease ran out: a worker that died
//     gives its work back that way);
//  3. of a webhook switched on and active (not disabled by the service);
//  4. first in line of their order key (the order rule below);
//
// at most Limit in all and, of each organization, at most PerOrganization
// less Held[org] (none when that is not positive). Within an organization
// the earliest due go first (next attempt, then seq). Organizations are
// visited in a random order, so that over time a full claim is shared
// fairly; one with less work than its room leaves the rest to the others,
// so the claim is filled whenever that much is eligible.
//
// The order rule. A delivery with an order key (otw.Event.OrderKey) is
// first in line when no earlier delivery of the same organization and key
// is pending: due, being sent (leased), or waiting for a retry. Earlier is
// stored earlier, which is publish order (a batch's events in their
// order). A failed or succeeded delivery holds nothing back, and a
// delivery without a key is always first in line. So a key's deliveries
// are sent one at a time, in publish order, while other keys go on. A
// delivery made pending again (RetryDelivery, RecoverDeliveries) keeps its
// place: it holds back the later ones of its key still pending. The
// hand-off rule (Take) and WaitOf follow the order rule too.
type ClaimParams struct {
	Now        time.Time
	LeaseUntil time.Time
	// Limit bounds the whole claim: the room the dispatcher has for
	// deliveries it holds, in flight or claimed and waiting to start. It
	// claims up to a round ahead of its workers, so that a finished
	// request is followed by the next without a claim in between.
	Limit int
	// PerOrganization bounds what the dispatcher may hold for one
	// organization, and Held says how many it holds already (it may count
	// more, to hold a rate-limited webhook to less): a slow endpoint then
	// holds only its share of the claimed work.
	PerOrganization int
	Held            map[int64]int
}

// Lease identifies one claim of a delivery. LeaseUntil doubles as a
// fencing token: a write with an older lease does not touch the delivery.
type Lease struct {
	DeliverySeq int64
	LeaseUntil  time.Time
	// EventCreatedAt is the creation time of the delivery's event, to the
	// millisecond: where a driver that partitions by time (PostgreSQL)
	// keeps the delivery and its attempts, so that the writes of a lease
	// go to that one partition instead of looking in all. A driver that
	// does not partition ignores it.
	EventCreatedAt time.Time
}

// Leases returns the leases of claimed deliveries, to give them back.
func Leases(claimed []Claimed) []Lease {
	leases := make([]Lease, len(claimed))
	for i := range claimed {
		leases[i] = claimed[i].Lease
	}
	return leases
}

// Claimed is a leased delivery with everything needed to send it.
type Claimed struct {
	Lease
	DeliveryID     string
	EventID        string
	OrganizationID int64
	EventType      string
	OrderKey       string
	AttemptCount   int // attempts made before this one
	CreatedAt      time.Time
	Body           []byte
	URL            string
	// Sealed signing secrets; PreviousSecret is nil outside a rotation.
	Secret         []byte
	PreviousSecret []byte
	// FailingSince is the webhook's first failed attempt since its last
	// success (nil when the last attempt succeeded), for disabling an
	// endpoint that has failed for days.
	FailingSince *time.Time
	// RateLimit is the webhook's limit in deliveries per second; 0 is
	// none.
	RateLimit int
	// TraceParent is the event's (otw.Event.TraceParent).
	TraceParent string
}

// AttemptResult is one finished attempt and what it does to its delivery.
type AttemptResult struct {
	Lease
	OrganizationID int64
	Attempt        otw.Attempt
	// Status is the delivery's new status; NextAttemptAt is set when it
	// stays pending.
	Status        string
	NextAttemptAt time.Time
	// OrderKey is the delivery's order key ("" for none): a result that
	// ends its delivery lets the next one of the key go (Completion.Take).
	OrderKey string
}

// Completion is one write of the dispatcher's (see Store.CompleteAttempts):
// outcomes, the webhooks they disable and the operational events they
// cause, so that no crash between two writes can store one without the
// others.
type Completion struct {
	Results []AttemptResult
	Disable []Disable
	Events  []otw.Event
	// Now is when the disables and events are written: the webhook's
	// update, the deliveries' creation, the idempotency window; and what
	// Take's deliveries must be due by. Unused without them.
	Now time.Time
	// Take hands over the next delivery of each order key that a result
	// lets go, so that a message's next status is sent without waiting for
	// a claim (the order rule let it go only now). The zero Take takes
	// nothing.
	//
	// The rule. For each result, in order, that ends its delivery
	// (succeeded or failed: no longer pending) while its lease was still
	// current, with an OrderKey, of an organization with Room left, the
	// key's earliest pending delivery is taken when it is due at Now, not
	// leased, and of a webhook switched on and active; each key once, and
	// Room[org] bounds the keys tried per organization (taken or not).
	// It is leased until LeaseUntil as a claim leases, returned, and not
	// announced; a key whose next delivery is not taken is left to claims.
	Take Take
}

// Disable is a webhook to disable in a Completion, with the event that
// tells of it (nil: none), stored only by the write that switches it.
type Disable struct {
	OrganizationID int64
	Reason         string
	Event          *otw.Event
}

// Effects reports whether the completion does more than write its
// results.
func (c *Completion) Effects() bool { return len(c.Disable) > 0 || len(c.Events) > 0 }

// EffectEvents returns the events the completion stores, given which of
// its disables switched their webhook: the switching disables' events,
// then Events.
func (c *Completion) EffectEvents(switched []bool) []otw.Event {
	var events []otw.Event
	for i, d := range c.Disable {
		if switched[i] && d.Event != nil {
			events = append(events, *d.Event)
		}
	}
	return append(events, c.Events...)
}

// ListParams filters and pages a delivery list. Cursor is the opaque
// position after which to continue ("" from the top). The filters are
// those of DeliveryFilter.
type ListParams struct {
	OrganizationID int64
	Status         string
	EventType      string
	TrxID          string
	CaseID         string
	EventID        string
	Since, Until   time.Time
	Limit          int
	Cursor         string
}

// Filter is the list's selection without its paging.
func (p ListParams) Filter() DeliveryFilter {
	return DeliveryFilter{OrganizationID: p.OrganizationID, Status: p.Status, EventType: p.EventType,
		TrxID: p.TrxID, CaseID: p.CaseID, EventID: p.EventID, Since: p.Since, Until: p.Until}
}

// DeliveryFilter selects an organization's deliveries; an empty field
// selects all. A trxID or caseID is the delivery's order key ("m:" or
// "c:" and the ID), so looking one up is one range of the index on
// (organization_id, order_key, seq). Since is inclusive, Until exclusive,
// both of the delivery's creation.
type DeliveryFilter struct {
	OrganizationID int64
	Status         string
	EventType      string
	TrxID          string
	CaseID         string
	EventID        string
	Since, Until   time.Time
}

// Where is the filter as SQL conditions on deliveries d, joined by AND.
// arg adds a value to the statement's arguments and returns its
// placeholder, so that each driver writes its own; orderKey is how the
// driver's key index names d.order_key. The list and the bulk
// retry (its count and its update) share it, so that a dry run counts
// exactly what a retry then sends.
func (f DeliveryFilter) Where(arg func(v any) string, orderKey string) string {
	w := "d.organization_id = " + arg(f.OrganizationID)
	if f.Status != "" {
		w += " AND d.status = " + arg(f.Status)
	}
	if f.EventType != "" {
		w += " AND d.event_type = " + arg(f.EventType)
	}
	// A trxID and a caseID together select nothing: a delivery has one
	// order key. Both conditions are kept, so that it does.
	if f.TrxID != "" {
		w += " AND " + orderKey + " = " + arg("m:"+f.TrxID)
	}
	if f.CaseID != "" {
		w += " AND " + orderKey + " = " + arg("c:"+f.CaseID)
	}
	if f.EventID != "" {
		// events.id is unique (with its time, on PostgreSQL): a probe of
		// its index (of each partition), then deliveries_event.
		w += " AND d.event_seq IN (SELECT ev.seq FROM events ev WHERE ev.id = " + arg(f.EventID) + ")"
	}
	if !f.Since.IsZero() {
		w += " AND d.created_at >= " + arg(f.Since.UnixMilli())
	}
	if !f.Until.IsZero() {
		w += " AND d.created_at < " + arg(f.Until.UnixMilli())
	}
	return w
}

// RetryParams selects deliveries to send again in bulk: those of Filter
// (whose Status must not be pending), oldest first, at most Limit.
// DryRun only counts them.
type RetryParams struct {
	DeliveryFilter
	Limit  int
	DryRun bool
	Now    time.Time
}

// Check refuses what a bulk retry must not do: touch pending deliveries,
// which are being sent or will be (an empty status would include them).
func (p RetryParams) Check() error {
	switch p.Status {
	case otw.DeliveryFailed, otw.DeliverySucceeded:
		return nil
	}
	return otw.Invalid("bad status", otw.FieldError{Field: "status", Message: "must be failed or succeeded: pending deliveries are sent already"})
}

// WaitOf is what a delivery in status waits for, given the nearest
// earlier pending delivery of its order key ("" when none; see the order
// rule of ClaimParams) and its webhook's rate limit (0 when none): the
// earlier delivery first, since the order rule holds it back whatever the
// rate; nil when it is not pending or nothing holds it.
func WaitOf(status, earlier string, rateLimit int) *otw.Wait {
	switch {
	case status != otw.DeliveryPending:
		return nil
	case earlier != "":
		return &otw.Wait{DeliveryID: earlier}
	case rateLimit > 0:
		return &otw.Wait{RateLimit: rateLimit}
	}
	return nil
}

// PageParams pages a list: at most Limit items after Cursor, the opaque
// position a previous page returned ("" from the top).
type PageParams struct {
	Limit  int
	Cursor string
}

// HourStats is one hour of an organization's deliveries, by status.
type HourStats struct {
	Hour      time.Time
	Succeeded int
	Failed    int
	Pending   int
}
