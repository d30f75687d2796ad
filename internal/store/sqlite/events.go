package sqlite

import (
	"context"
	"database/sql"
	"strings"
	"time"

	"github.com/onetalk/onetalk-webhooks/internal/otw"
	"github.com/onetalk/onetalk-webhooks/internal/store"
)

func (s *Store) InsertEvents(ctx context.Context, events []otw.Event, now time.Time, take store.Take) ([]store.Inserted, []store.Claimed, error) {
	out := make([]store.Inserted, len(events))
	var taken []store.Claimed
	err := s.tx(ctx, func(tx *sql.Tx) (err error) {
		taken, err = s.insertTx(ctx, tx, events, out, now, take)
		return err
	})
	if err != nil {
		s.leases.release(store.Leases(taken))
		return nil, nil, err
	}
	s.faults.Clear() // a publish commits again
	if store.Announces(out) {
		s.announcer.Announce()
	}
	return out, taken, nil
}

// insertTx is InsertEvents within tx, for every write that stores events
// (a completion's too): it fills out and returns what it took, leased
// already, also on an error, for the caller to give back when tx does not
// commit.
func (s *Store) insertTx(ctx context.Context, tx *sql.Tx, events []otw.Event, out []store.Inserted, now time.Time, take store.Take) (taken []store.Claimed, err error) {
	fresh, err := s.resolveIdempotency(ctx, tx, events, out, now)
	if err != nil {
		return nil, err
	}
	routes, err := s.loadRoutes(ctx, tx, events, append(undelivered(out), fresh...), now)
	if err != nil {
		return taken, err
	}
	for i := range out {
		if out[i].Existing && out[i].DeliveryID == "" {
			_, out[i].NotDelivered = routes[events[i].OrganizationID].Decide(&events[i])
		}
	}
	seqs, err := s.insertEventRows(ctx, tx, events, fresh)
	if err != nil {
		return taken, err
	}
	statuses := make([]string, len(events))
	for _, i := range fresh {
		statuses[i], out[i].NotDelivered = routes[events[i].OrganizationID].Decide(&events[i])
		out[i].EventID = events[i].ID
	}
	// The hand-off rule (store.Take), asking this transaction whether
	// a key has a pending delivery: the call's own are not stored yet.
	probe := s.stmt(ctx, tx, pendingKeyQuery)
	pending := func(i int) bool { return statuses[i] == otw.DeliveryPending }
	want, err := take.Choose(events, pending, func(i int) (waiting bool, err error) {
		err = probe.QueryRowContext(ctx, events[i].OrganizationID, events[i].OrderKey).Scan(&waiting)
		// A completion that ends the delivery it waits behind commits
		// after this transaction (one writer) and hands it over from
		// there (takeNext): no need to announce it.
		out[i].Waits = waiting
		return waiting, err
	})
	if err != nil {
		return taken, err
	}
	store.MarkWaitsInCall(events, out, pending)
	var dels []pendingDelivery
	for _, i := range fresh {
		if statuses[i] == "" {
			continue
		}
		e := &events[i]
		r := routes[e.OrganizationID]
		d := pendingDelivery{id: otw.NewID("dlv_", now), eventSeq: seqs[e.ID], event: e, status: statuses[i]}
		if d.status == otw.DeliveryFailed {
			d.lastError = r.Webhook.DisabledReason
		}
		out[i].DeliveryID = d.id
		if want != nil && want[i] {
			out[i].Taken = true
			taken = append(taken, r.Taken(e, d.id, 0, take.LeaseUntil, now))
		}
		dels = append(dels, d)
	}
	if len(dels) == 0 {
		return taken, nil
	}
	if err := s.insertDeliveryRows(ctx, tx, dels, now); err != nil {
		return taken, err
	}
	// Only the few taken ones need their seq: read back by ID rather
	// than returned for every row of a large batch.
	for i := range taken {
		if err := s.stmt(ctx, tx, deliverySeqQuery).QueryRowContext(ctx, taken[i].DeliveryID).Scan(&taken[i].DeliverySeq); err != nil {
			return taken, err
		}
	}
	// Leased before the horizon moves past them (see horizon), and
	// before the commit: no claim reads them before either.
	s.leases.take(taken)
	var last int64
	if err := s.stmt(ctx, tx, lastDeliveryQuery).QueryRowContext(ctx).Scan(&last); err != nil {
		return taken, err
	}
	s.horizon.Store(max(s.horizon.Load(), last))
	return taken, nil
}

// resolveIdempotency fills out[i] for events whose key was used within the
// window and returns the indexes of the events still to insert.
func (s *Store) resolveIdempotency(ctx context.Context, tx *sql.Tx, events []otw.Event, out []store.Inserted, now time.Time) ([]int, error) {
	var found map[string]store.FirstEvent // a key without an event in the window has an empty ID
	lookup := func(key string) error {
		if _, done := found[key]; done {
			return nil
		}
		var f store.FirstEvent
		var delivery sql.NullString
		err := s.stmt(ctx, tx, idempotencyQuery).QueryRowContext(ctx,
			key, ms(now.Add(-store.IdempotencyWindow))).Scan(&f.ID, &f.Body, &delivery)
		if err != nil && !errs.NoRow(err) {
			return err
		}
		f.DeliveryID = delivery.String
		found[key] = f
		return nil
	}
	for i := range events {
		key := store.IdempotencyKey(&events[i])
		if key == "" {
			continue
		}
		if found == nil {
			found = make(map[string]store.FirstEvent)
		}
		if err := lookup(key); err != nil {
			return nil, err
		}
	}
	if found != nil {
		for _, key := range store.BatchProbes(events) {
			if err := lookup(key); err != nil {
				return nil, err
			}
		}
	}
	return store.Resolve(events, out, func(key string) (store.FirstEvent, bool) {
		f := found[key]
		return f, f.ID != ""
	})
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
func (s *Store) loadRoutes(ctx context.Context, tx *sql.Tx, events []otw.Event, idx []int, now time.Time) (map[int64]store.Route, error) {
	routes := make(map[int64]store.Route)
	stmt := s.stmt(ctx, tx, routeQuery)
	for _, i := range idx {
		org := events[i].OrganizationID
		if _, ok := routes[org]; ok {
			continue
		}
		var r store.Route
		w := &otw.Webhook{OrganizationID: org}
		var subscribed, filters string
		var failing sql.NullInt64
		err := stmt.QueryRowContext(ctx, org, ms(now)).Scan(&w.Enabled, &subscribed, &w.State, &w.DisabledReason,
			&w.URL, &w.Secret, &w.PreviousSecret, &failing, &w.RateLimit, &filters)
		switch {
		case errs.NoRow(err):
			// No webhook. Rare enough (a misrouted publish) to cost a query
			// of its own.
			if err := tx.QueryRowContext(ctx, orgExistsQuery, org).Scan(&r.Organization); err != nil {
				return nil, err
			}
		case err != nil:
			return nil, err
		default:
			// A webhook references its organization.
			r.Organization, r.Webhook, r.FailingSince = true, w, nullMs(failing)
			w.SubscribedEvents = strings.Split(subscribed, ",")
			if r.Filter, err = store.CompiledFilter(filters); err != nil {
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
