package postgres

import (
	"bytes"
	"context"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"

	otw "github.com/onetalk/onetalk-webhooks"
	"github.com/onetalk/onetalk-webhooks/store"
)

// insertEventsQuery stores a whole batch in one statement: the columns
// arrive as arrays, one element per event, the delivery's columns NULL for
// an event without one. Delivery seqs are handed out in event order (the
// ORDER BY), because the order rule compares seqs.
const insertEventsQuery = `
WITH input AS (
	SELECT * FROM unnest($1::text[], $2::bigint[], $3::text[], $4::text[], $5::bytea[], $6::text[], $7::bigint[],
	                     $8::text[], $9::text[], $10::bigint[], $11::text[]) WITH ORDINALITY
		AS i(id, organization_id, type, order_key, body, idempotency_key, created_at,
		     delivery_id, status, next_attempt_at, last_error, n)
), ev AS (
	INSERT INTO events (id, organization_id, type, order_key, body, idempotency_key, created_at)
	SELECT id, organization_id, type, order_key, body, idempotency_key, created_at FROM input ORDER BY n
	RETURNING seq, id
)
INSERT INTO deliveries (id, event_seq, organization_id, event_type, order_key, status, next_attempt_at, last_error, created_at)
SELECT i.delivery_id, ev.seq, i.organization_id, i.type, i.order_key, i.status, i.next_attempt_at, i.last_error, $12
FROM input i JOIN ev ON ev.id = i.id
WHERE i.delivery_id IS NOT NULL
ORDER BY ev.seq`

// route is what InsertEvents needs to know of an organization's webhook.
type route struct {
	enabled        bool
	disabledReason string // non-empty when the service disabled it
	events         []string
}

func (r route) wants(eventType string) bool {
	return r.enabled && slices.Contains(r.events, eventType)
}

func (s *Store) InsertEvents(ctx context.Context, events []otw.Event, now time.Time) ([]store.Inserted, error) {
	out := make([]store.Inserted, len(events))
	err := s.tx(ctx, func(tx pgx.Tx) error {
		fresh, err := resolveIdempotency(ctx, tx, events, out, now)
		if err != nil || len(fresh) == 0 {
			return err
		}
		routes, err := loadRoutes(ctx, tx, events, fresh)
		if err != nil {
			return err
		}
		n := len(fresh)
		var (
			ids, types, orderKeys = make([]string, n), make([]string, n), make([]string, n)
			orgs, created         = make([]int64, n), make([]int64, n)
			bodies                = make([][]byte, n)
			keys                  = make([]*string, n)
			dlvIDs, statuses      = make([]*string, n), make([]*string, n)
			nexts                 = make([]*int64, n)
			lastErrors            = make([]*string, n)
			due                   bool
		)
		nowMs := ms(now)
		for j, i := range fresh {
			e := &events[i]
			ids[j], orgs[j], types[j], orderKeys[j], bodies[j], created[j] = e.ID, e.OrganizationID, e.Type, e.OrderKey, e.Body, ms(e.CreatedAt)
			if e.IdempotencyKey != "" {
				keys[j] = &e.IdempotencyKey
			}
			out[i].EventID = e.ID
			r := routes[e.OrganizationID]
			if !r.wants(e.Type) {
				continue
			}
			id, status, lastError := otw.NewID("dlv_", now), otw.DeliveryPending, ""
			if r.disabledReason != "" {
				// Recorded, not dropped: the log shows it and recover
				// sends it once the webhook is active again.
				status, lastError = otw.DeliveryFailed, r.disabledReason
			} else {
				nexts[j], due = &nowMs, true
			}
			out[i].DeliveryID = id
			dlvIDs[j], statuses[j], lastErrors[j] = &id, &status, &lastError
		}
		if _, err := tx.Exec(ctx, insertEventsQuery, ids, orgs, types, orderKeys, bodies, keys, created,
			dlvIDs, statuses, nexts, lastErrors, nowMs); err != nil {
			return err
		}
		if due {
			return notify(ctx, tx)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// resolveIdempotency fills out[i] for events whose key was used within the
// window and returns the indexes of the events still to insert.
//
// Two nodes may take the same key at the same moment. Each first takes a
// transaction-scoped advisory lock on every key of the batch, so the second
// waits until the first commits and then finds its event: the lookup is a
// later statement, and in READ COMMITTED each statement sees what was
// committed before it began. The locks are taken in one sorted pass so two
// batches sharing keys cannot deadlock.
func resolveIdempotency(ctx context.Context, tx pgx.Tx, events []otw.Event, out []store.Inserted, now time.Time) ([]int, error) {
	fresh := make([]int, 0, len(events))
	var keys []string
	for i := range events {
		if k := events[i].IdempotencyKey; k != "" {
			keys = append(keys, k)
		} else {
			fresh = append(fresh, i)
		}
	}
	if len(keys) == 0 {
		return fresh, nil
	}
	if _, err := tx.Exec(ctx, `SELECT count(pg_advisory_xact_lock($1, h))
		FROM (SELECT DISTINCT hashtext(k) AS h FROM unnest($2::text[]) AS k ORDER BY 1) AS sorted`, lockIdempotency, keys); err != nil {
		return nil, err
	}
	type first struct {
		id, delivery string
		body         []byte
	}
	found := make(map[string]first, len(keys))
	rows, err := tx.Query(ctx, `
		SELECT DISTINCT ON (e.idempotency_key) e.idempotency_key, e.id, e.body, coalesce(d.id, '')
		FROM events e LEFT JOIN deliveries d ON d.event_seq = e.seq
		WHERE e.idempotency_key = ANY($1) AND e.created_at > $2
		ORDER BY e.idempotency_key, e.seq, d.seq`, keys, ms(now.Add(-store.IdempotencyWindow)))
	if err != nil {
		return nil, err
	}
	for rows.Next() {
		var key string
		var f first
		if err := rows.Scan(&key, &f.id, &f.body, &f.delivery); err != nil {
			rows.Close()
			return nil, err
		}
		found[key] = f
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	fresh = fresh[:0]
	for i := range events {
		e := &events[i]
		f, ok := found[e.IdempotencyKey]
		switch {
		case e.IdempotencyKey == "" || !ok:
			fresh = append(fresh, i)
		case !bytes.Equal(f.body, e.Body):
			return nil, otw.Invalid("this Idempotency-Key was used with another body",
				otw.FieldError{Field: "Idempotency-Key", Message: "already used with a different body in the last 24 hours"})
		default:
			out[i] = store.Inserted{EventID: f.id, DeliveryID: f.delivery, Existing: true}
		}
	}
	return fresh, nil
}

// loadRoutes reads the webhooks of every organization in the batch in one
// query.
func loadRoutes(ctx context.Context, tx pgx.Tx, events []otw.Event, fresh []int) (map[int64]route, error) {
	seen := make(map[int64]bool)
	var orgs []int64
	for _, i := range fresh {
		if org := events[i].OrganizationID; !seen[org] {
			seen[org] = true
			orgs = append(orgs, org)
		}
	}
	rows, err := tx.Query(ctx, `SELECT organization_id, enabled, subscribed_events, state, disabled_reason
		FROM webhooks WHERE organization_id = ANY($1)`, orgs)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	routes := make(map[int64]route)
	for rows.Next() {
		var org int64
		var r route
		var state string
		if err := rows.Scan(&org, &r.enabled, &r.events, &state, &r.disabledReason); err != nil {
			return nil, err
		}
		if state != otw.WebhookDisabled {
			r.disabledReason = ""
		}
		routes[org] = r
	}
	return routes, rows.Err()
}
