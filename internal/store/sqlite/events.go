package sqlite

import (
	"bytes"
	"context"
	"database/sql"
	"slices"
	"strings"
	"time"

	"github.com/onetalk/onetalk-webhooks/internal/event"
	"github.com/onetalk/onetalk-webhooks/internal/otw"
	"github.com/onetalk/onetalk-webhooks/internal/store"
)

// route is what InsertEvents needs to know of an organization's webhook,
// and what a taken delivery needs to be sent.
type route struct {
	org, exists, enabled bool // the organization, its webhook, switched on
	disabled             bool // state disabled: switched off by the service
	disabledReason       string
	events               []string
	filter               *event.Filter // nil: none
	endpoint
}

// decide reports whether the webhook takes e (switched on, subscribed to
// its type, and the type's filters pass it) and, if it is not sent, why
// ("" when it is). The filters are matched once, and only for a type the
// webhook subscribes to.
func (r route) decide(e *otw.Event) (wants bool, reason string) {
	subscribed := slices.Contains(r.events, e.Type)
	passes := !subscribed || r.filter.Match(e.Type, e.Body)
	return r.exists && r.enabled && subscribed && passes,
		store.Route{Organization: r.org, Webhook: r.exists, Enabled: r.enabled, Disabled: r.disabled}.NotDelivered(subscribed, passes)
}

func (s *Store) InsertEvents(ctx context.Context, events []otw.Event, now time.Time, take store.Take) ([]store.Inserted, []store.Claimed, error) {
	out := make([]store.Inserted, len(events))
	var taken []store.Claimed
	err := s.tx(ctx, func(tx *sql.Tx) error {
		taken = taken[:0]
		fresh, err := s.resolveIdempotency(ctx, tx, events, out, now)
		if err != nil {
			return err
		}
		routes, err := s.loadRoutes(ctx, tx, events, append(undelivered(out), fresh...), now)
		if err != nil {
			return err
		}
		for i := range out {
			if out[i].Existing && out[i].DeliveryID == "" {
				_, out[i].NotDelivered = routes[events[i].OrganizationID].decide(&events[i])
			}
		}
		seqs, err := s.insertEventRows(ctx, tx, events, fresh)
		if err != nil {
			return err
		}
		pending, wanted, reasons := make([]bool, len(events)), make([]bool, len(events)), make([]string, len(events))
		for _, i := range fresh {
			r := routes[events[i].OrganizationID]
			wanted[i], reasons[i] = r.decide(&events[i])
			pending[i] = wanted[i] && !r.disabled
		}
		want, err := s.firstInLine(ctx, tx, events, take, take.Candidates(events, func(i int) bool { return pending[i] }))
		if err != nil {
			return err
		}
		var dels []pendingDelivery
		for _, i := range fresh {
			e := &events[i]
			out[i].EventID = e.ID
			r := routes[e.OrganizationID]
			out[i].NotDelivered = reasons[i]
			if !wanted[i] {
				continue
			}
			d := pendingDelivery{id: otw.NewID("dlv_", now), eventSeq: seqs[e.ID], event: e, status: otw.DeliveryPending}
			if r.disabled {
				// Recorded, not dropped: the log shows it and recover
				// sends it once the webhook is active again.
				d.status, d.lastError = otw.DeliveryFailed, r.disabledReason
			}
			out[i].DeliveryID = d.id
			if want != nil && want[i] {
				out[i].Taken = true
				c := r.claimed(take.LeaseUntil)
				c.DeliveryID, c.EventID, c.EventType, c.OrderKey = d.id, e.ID, e.Type, e.OrderKey
				c.CreatedAt, c.Body, c.TraceParent = fromMs(ms(now)), e.Body, e.TraceParent
				taken = append(taken, c)
			}
			dels = append(dels, d)
		}
		if len(dels) == 0 {
			return nil
		}
		if err := s.insertDeliveryRows(ctx, tx, dels, now); err != nil {
			return err
		}
		// Only the few taken ones need their seq: read back by ID rather
		// than returned for every row of a large batch.
		for i := range taken {
			if err := s.stmt(ctx, tx, deliverySeqQuery).QueryRowContext(ctx, taken[i].DeliveryID).Scan(&taken[i].DeliverySeq); err != nil {
				return err
			}
		}
		// Leased before the horizon moves past them (see horizon), and
		// before the commit: no claim reads them before either.
		s.leases.take(taken)
		var last int64
		if err := s.stmt(ctx, tx, lastDeliveryQuery).QueryRowContext(ctx).Scan(&last); err != nil {
			return err
		}
		s.horizon.Store(max(s.horizon.Load(), last))
		return nil
	})
	if err != nil {
		s.leases.release(store.Leases(taken))
		return nil, nil, err
	}
	s.faults.Clear() // a publish commits again
	return out, taken, nil
}

// firstInLine keeps of the candidates those no earlier pending delivery of
// their order key waits before, up to each organization's room.
func (s *Store) firstInLine(ctx context.Context, tx *sql.Tx, events []otw.Event, take store.Take, candidate []bool) ([]bool, error) {
	probe := s.stmt(ctx, tx, pendingKeyQuery)
	used := make(map[int64]int)
	for i, c := range candidate {
		e := &events[i]
		if !c {
			continue
		}
		candidate[i] = false
		if used[e.OrganizationID] >= take.Room[e.OrganizationID] {
			continue
		}
		if e.OrderKey != "" {
			var waiting bool
			if err := probe.QueryRowContext(ctx, e.OrganizationID, e.OrderKey).Scan(&waiting); err != nil {
				return nil, err
			}
			if waiting {
				continue
			}
		}
		candidate[i] = true
		used[e.OrganizationID]++
	}
	return candidate, nil
}

// resolveIdempotency fills out[i] for events whose key was used within the
// window and returns the indexes of the events still to insert.
func (s *Store) resolveIdempotency(ctx context.Context, tx *sql.Tx, events []otw.Event, out []store.Inserted, now time.Time) ([]int, error) {
	type first struct {
		id, delivery string
		body         []byte
	}
	var found map[string]first
	lookup := func(key string) error {
		if _, done := found[key]; done {
			return nil
		}
		var f first
		var dlv sql.NullString
		err := s.stmt(ctx, tx, idempotencyQuery).QueryRowContext(ctx,
			key, ms(now.Add(-store.IdempotencyWindow))).Scan(&f.id, &f.body, &dlv)
		switch {
		case err == sql.ErrNoRows:
			found[key] = first{}
		case err != nil:
			return err
		default:
			f.delivery = dlv.String
			found[key] = f
		}
		return nil
	}
	fresh := make([]int, 0, len(events))
	for i := range events {
		key := store.IdempotencyKey(&events[i])
		if key == "" {
			fresh = append(fresh, i)
			continue
		}
		if found == nil {
			found = make(map[string]first)
		}
		if err := lookup(key); err != nil {
			return nil, err
		}
	}
	if found == nil {
		return fresh, nil
	}
	for _, key := range store.BatchProbes(events) {
		if err := lookup(key); err != nil {
			return nil, err
		}
	}
	if err := store.BatchRule(events, func(key string) bool { return found[key].id != "" }); err != nil {
		return nil, err
	}
	fresh = fresh[:0]
	for i := range events {
		e := &events[i]
		f := found[store.IdempotencyKey(e)]
		switch {
		case f.id == "":
			fresh = append(fresh, i)
		case !bytes.Equal(f.body, e.Body):
			return nil, store.ReusedKey()
		default:
			out[i] = store.Inserted{EventID: f.id, DeliveryID: f.delivery, Existing: true}
		}
	}
	return fresh, nil
}

// undelivered returns the indexes of the events found by their idempotency
// key that have no delivery: their answer says why, as of now.
func undelivered(out []store.Inserted) []int {
	var idx []int
	for i := range out {
		if out[i].Existing && out[i].DeliveryID == "" {
			idx = append(idx, i)
		}
	}
	return idx
}

// loadRoutes reads the routes of the organizations of events[idx].
func (s *Store) loadRoutes(ctx context.Context, tx *sql.Tx, events []otw.Event, idx []int, now time.Time) (map[int64]route, error) {
	routes := make(map[int64]route)
	stmt := s.stmt(ctx, tx, routeQuery)
	for _, i := range idx {
		org := events[i].OrganizationID
		if _, ok := routes[org]; ok {
			continue
		}
		r := route{endpoint: endpoint{org: org}}
		var subscribed, state, reason, filters string
		var failing sql.NullInt64
		err := stmt.QueryRowContext(ctx, org, ms(now)).Scan(&r.enabled, &subscribed, &state, &reason,
			&r.url, &r.secret, &r.previousSecret, &failing, &r.rateLimit, &filters)
		switch {
		case err == sql.ErrNoRows:
			// Rare enough (a misrouted publish) to cost a query of its own.
			if err := tx.QueryRowContext(ctx, orgExistsQuery, org).Scan(&r.org); err != nil {
				return nil, err
			}
		case err != nil:
			return nil, err
		default:
			// A webhook references its organization.
			r.org, r.exists, r.events, r.failingSince = true, true, strings.Split(subscribed, ","), nullMs(failing)
			if state == otw.WebhookDisabled {
				r.disabled, r.disabledReason = true, reason
			}
			if r.filter, err = store.CompiledFilter(filters); err != nil {
				return nil, err
			}
		}
		routes[org] = r
	}
	return routes, nil
}

// insertEventRows inserts events[fresh] in multi-row statements and returns
// each one's seq by event ID.
func (s *Store) insertEventRows(ctx context.Context, tx *sql.Tx, events []otw.Event, fresh []int) (map[string]int64, error) {
	seqs := make(map[string]int64, len(fresh))
	for _, n := range chunks(len(fresh)) {
		chunk := fresh[:n]
		fresh = fresh[n:]
		args := make([]any, 0, n*8)
		for _, i := range chunk {
			e := &events[i]
			var key any
			if k := store.IdempotencyKey(e); k != "" {
				key = k
			}
			args = append(args, e.ID, e.OrganizationID, e.Type, e.OrderKey, e.Body, key, ms(e.CreatedAt), e.TraceParent)
		}
		rows, err := s.stmt(ctx, tx, insertEventsSQL(n)).QueryContext(ctx, args...)
		if err := scanSeqs(rows, err, seqs); err != nil {
			return nil, err
		}
	}
	return seqs, nil
}

// scanSeqs reads the (id, seq) rows of an INSERT … RETURNING into seqs.
func scanSeqs(rows *sql.Rows, err error, seqs map[string]int64) error {
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var id string
		var seq int64
		if err := rows.Scan(&id, &seq); err != nil {
			return err
		}
		seqs[id] = seq
	}
	return rows.Err()
}

type pendingDelivery struct {
	id        string
	eventSeq  int64
	event     *otw.Event
	status    string
	lastError string
}

func (s *Store) insertDeliveryRows(ctx context.Context, tx *sql.Tx, dels []pendingDelivery, now time.Time) error {
	for _, n := range chunks(len(dels)) {
		chunk := dels[:n]
		dels = dels[n:]
		args := make([]any, 0, n*9)
		for _, d := range chunk {
			var next any = ms(now)
			if d.status != otw.DeliveryPending {
				next = nil
			}
			args = append(args, d.id, d.eventSeq, d.event.OrganizationID, d.event.Type, d.event.OrderKey, d.status, next, d.lastError, ms(now))
		}
		if _, err := s.stmt(ctx, tx, insertDeliveriesSQL(n)).ExecContext(ctx, args...); err != nil {
			return err
		}
	}
	return nil
}

// valuesList returns "(?, ?), (?, ?)" for rows × cols.
func valuesList(rows, cols int) string {
	row := "(" + placeholders(cols) + ")"
	var b strings.Builder
	b.Grow(rows * (len(row) + 2))
	for i := range rows {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(row)
	}
	return b.String()
}
