package sqlstore

import (
	"context"

	"github.com/onetalk/onetalk-webhooks/internal/store"
)

// PruneCandidates reads one step of retention (see
// store.Store.PruneEvents): of up to p.Limit events after p.After, oldest
// first, those past the retention whose key has expired too and whose
// delivery is not pending (old), and the cursor to go on from (next: the
// last event past the retention it read, else p.After). The driver then
// deletes them, checking again that no delivery became pending meanwhile
// (a retry of an old failed one). Errors are the driver's.
func PruneCandidates(ctx context.Context, q Reader, p store.PruneParams) (next int64, old []int64, err error) {
	rows, err := q.Query(ctx, `SELECT e.seq, e.created_at < $2, e.idempotency_key IS NULL OR e.created_at < $4,
			EXISTS (SELECT 1 FROM deliveries d WHERE d.event_seq = e.seq AND d.status = 'pending')
		FROM events e WHERE e.seq > $1 ORDER BY e.seq LIMIT $3`, p.After, ms(p.Before), p.Limit, ms(p.KeyedBefore))
	if err != nil {
		return p.After, nil, err
	}
	defer rows.Close()
	next = p.After
	for rows.Next() {
		var seq int64
		var expired, keyExpired, pending bool
		if err := rows.Scan(&seq, &expired, &keyExpired, &pending); err != nil {
			return p.After, nil, err
		}
		if !expired {
			break // the rest are younger
		}
		next = seq
		if keyExpired && !pending {
			old = append(old, seq)
		}
	}
	if err := rows.Err(); err != nil {
		return p.After, nil, err
	}
	return next, old, nil
}
