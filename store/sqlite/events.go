package sqlite

import (
	"bytes"
	"context"
	"database/sql"
	"strings"
	"time"

	otw "github.com/onetalk/onetalk-webhooks"
	"github.com/onetalk/onetalk-webhooks/store"
)

// route is what InsertEvents needs to know of an organization's webhook.
type route struct {
	exists, enabled bool
	disabledReason  string // non-empty when the service disabled it
	events          []string
}

func (r route) wants(eventType string) bool {
	if !r.exists || !r.enabled {
		return false
	}
	for _, t := range r.events {
		if t == eventType {
			return true
		}
	}
	return false
}

func (s *Store) InsertEvents(ctx context.Context, events []otw.Event, now time.Time) ([]store.Inserted, error) {
	out := make([]store.Inserted, len(events))
	err := s.tx(ctx, func(tx *sql.Tx) error {
		fresh, err := s.resolveIdempotency(ctx, tx, events, out, now)
		if err != nil {
			return err
		}
		routes, err := s.loadRoutes(ctx, tx, events, fresh)
		if err != nil {
			return err
		}
		seqs, err := s.insertEventRows(ctx, tx, events, fresh)
		if err != nil {
			return err
		}
		var dels []pendingDelivery
		for _, i := range fresh {
			e := &events[i]
			out[i].EventID = e.ID
			r := routes[e.OrganizationID]
			if !r.wants(e.Type) {
				continue
			}
			d := pendingDelivery{id: otw.NewID("dlv_", now), eventSeq: seqs[i], event: e, status: otw.DeliveryPending}
			if r.disabledReason != "" {
				// Recorded, not dropped: the log shows it and recover
				// sends it once the webhook is active again.
				d.status, d.lastError = otw.DeliveryFailed, r.disabledReason
			}
			out[i].DeliveryID = d.id
			dels = append(dels, d)
		}
		return s.insertDeliveryRows(ctx, tx, dels, now)
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// resolveIdempotency fills out[i] for events whose key was used within the
// window and returns the indexes of the events still to insert.
func (s *Store) resolveIdempotency(ctx context.Context, tx *sql.Tx, events []otw.Event, out []store.Inserted, now time.Time) ([]int, error) {
	fresh := make([]int, 0, len(events))
	for i := range events {
		e := &events[i]
		if e.IdempotencyKey == "" {
			fresh = append(fresh, i)
			continue
		}
		var id string
		var body []byte
		var dlv sql.NullString
		err := s.stmt(ctx, tx, idempotencyQuery).QueryRowContext(ctx,
			e.IdempotencyKey, ms(now.Add(-store.IdempotencyWindow))).Scan(&id, &body, &dlv)
		switch {
		case err == sql.ErrNoRows:
			fresh = append(fresh, i)
		case err != nil:
			return nil, err
		case !bytes.Equal(body, e.Body):
			return nil, otw.Invalid("this Idempotency-Key was used with another body",
				otw.FieldError{Field: "Idempotency-Key", Message: "already used with a different body in the last 24 hours"})
		default:
			out[i] = store.Inserted{EventID: id, DeliveryID: dlv.String, Existing: true}
		}
	}
	return fresh, nil
}

func (s *Store) loadRoutes(ctx context.Context, tx *sql.Tx, events []otw.Event, fresh []int) (map[int64]route, error) {
	routes := make(map[int64]route)
	stmt := s.stmt(ctx, tx, routeQuery)
	for _, i := range fresh {
		org := events[i].OrganizationID
		if _, ok := routes[org]; ok {
			continue
		}
		var r route
		var subscribed, state, reason string
		err := stmt.QueryRowContext(ctx, org).Scan(&r.enabled, &subscribed, &state, &reason)
		switch {
		case err == sql.ErrNoRows:
		case err != nil:
			return nil, err
		default:
			r.exists, r.events = true, strings.Split(subscribed, ",")
			if state == otw.WebhookDisabled {
				r.disabledReason = reason
			}
		}
		routes[org] = r
	}
	return routes, nil
}

// insertEventRows inserts events[fresh] in multi-row statements and returns
// each one's seq by input index.
func (s *Store) insertEventRows(ctx context.Context, tx *sql.Tx, events []otw.Event, fresh []int) (map[int]int64, error) {
	seqs := make(map[int]int64, len(fresh))
	byID := make(map[string]int, rowSizes[0])
	for _, n := range chunks(len(fresh)) {
		chunk := fresh[:n]
		fresh = fresh[n:]
		clear(byID)
		args := make([]any, 0, n*7)
		for _, i := range chunk {
			e := &events[i]
			var key any
			if e.IdempotencyKey != "" {
				key = e.IdempotencyKey
			}
			args = append(args, e.ID, e.OrganizationID, e.Type, e.OrderKey, e.Body, key, ms(e.CreatedAt))
			byID[e.ID] = i
		}
		rows, err := s.stmt(ctx, tx, insertEventsSQL(n)).QueryContext(ctx, args...)
		if err != nil {
			return nil, err
		}
		for rows.Next() {
			var id string
			var seq int64
			if err := rows.Scan(&id, &seq); err != nil {
				rows.Close()
				return nil, err
			}
			seqs[byID[id]] = seq
		}
		if err := rows.Close(); err != nil {
			return nil, err
		}
	}
	return seqs, nil
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
