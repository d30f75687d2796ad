package postgres

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5"
)

// Partitions. events, deliveries and attempts are range partitions on the
// creation time of the event their rows belong to (migration 012): events
// on created_at, deliveries and attempts on event_created_at. So an
// event's rows share one slot of time in the three tables, and retention
// removes a slot by dropping its three partitions, without deleting rows.
//
// A partition covers [start, start+width) in Unix milliseconds, start a
// multiple of the width, and is named <table>_<start>. Every node makes
// the partitions of now and of the next two widths at Open and then every
// quarter of a width (at most hourly), under an advisory lock; a change of
// width makes the new ones around the old ones. The DEFAULT partition of
// each table takes what no partition covers (an event of a far clock, or
// one stored while no node could make its partition), so that an insert
// never fails for want of one. A range with rows in the DEFAULT partition
// is not made (PostgreSQL would refuse it): those rows stay there, and
// retention deletes them row by row.
//
// Making or dropping a partition takes an ACCESS EXCLUSIVE lock on its
// table, which waits for the statements running on it and makes the new
// ones wait behind it; each is its own short transaction, on one table,
// and gives up after partitionLockTimeout instead of holding inserts back
// (it is tried again later).

// DefaultPartitionWidth is the width of a partition unless
// WithPartitionWidth says otherwise.
const DefaultPartitionWidth = 24 * time.Hour

// partitionsAhead is how many widths past now the partitions reach.
const partitionsAhead = 2

// partitionLockTimeout bounds how long a partition's creation or drop
// waits for its table's lock, and so how long inserts wait behind it.
const partitionLockTimeout = "500ms"

// lockPartitions serializes, per schema, the nodes' making and dropping of
// partitions.
const lockPartitions = 0x6f74_7703

// partitionedTables are the partitioned tables, in the order their
// partitions are dropped: deliveries first, since whether a slot may go
// is decided on its deliveries (see dropOldPartitions).
var partitionedTables = []string{"deliveries", "attempts", "events"}

// partitionKey is each table's partition column.
var partitionKey = map[string]string{"events": "created_at", "deliveries": "event_created_at", "attempts": "event_created_at"}

// Option configures Open.
type Option func(*options)

type options struct {
	partitionWidth time.Duration
	logger         *slog.Logger
	tracer         pgx.QueryTracer // the tests' view of the statements run
}

// WithLogger sets where the store reports what fails in the background
// (slog.Default() otherwise).
func WithLogger(l *slog.Logger) Option {
	return func(o *options) {
		if l != nil {
			o.logger = l
		}
	}
}

// WithPartitionWidth sets the time a partition of events, deliveries and
// attempts covers (DefaultPartitionWidth when not positive), a whole
// number of milliseconds.
func WithPartitionWidth(width time.Duration) Option {
	return func(o *options) {
		if width.Milliseconds() > 0 {
			o.partitionWidth = width.Truncate(time.Millisecond)
		}
	}
}

// partition is one range partition, [from, to) in Unix milliseconds.
type partition struct {
	table, name string
	from, to    int64
}

// listPartitions returns the range partitions of the partitioned tables
// (not the DEFAULT ones), by table and then start.
func listPartitions(ctx context.Context, q querier) ([]partition, error) {
	rows, err := q.Query(ctx, `
		SELECT p.relname::text, c.relname::text, b[1]::bigint, b[2]::bigint
		FROM pg_inherits i
		JOIN pg_class c ON c.oid = i.inhrelid
		JOIN pg_class p ON p.oid = i.inhparent
		CROSS JOIN LATERAL regexp_match(pg_get_expr(c.relpartbound, c.oid), 'FROM \(''?(-?\d+)''?\) TO \(''?(-?\d+)''?\)') AS b
		WHERE b IS NOT NULL AND p.relnamespace = current_schema()::regnamespace AND p.relkind = 'p'
		  AND p.relname IN ('events', 'deliveries', 'attempts')
		ORDER BY 1, 3`)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(row pgx.CollectableRow) (partition, error) {
		var p partition
		err := row.Scan(&p.table, &p.name, &p.from, &p.to)
		return p, err
	})
}

// uncovered returns the parts of [from, to) that no partition of table in
// ps covers.
func uncovered(ps []partition, table string, from, to int64) [][2]int64 {
	var gaps [][2]int64
	at := from
	for _, p := range ps {
		if p.table != table || p.to <= at || p.from >= to {
			continue
		}
		if p.from > at {
			gaps = append(gaps, [2]int64{at, p.from})
		}
		at = max(at, p.to)
	}
	if at < to {
		gaps = append(gaps, [2]int64{at, to})
	}
	return gaps
}

// floorTo is t rounded down to a multiple of width.
func floorTo(t, width int64) int64 {
	r := t % width
	if r < 0 {
		r += width
	}
	return t - r
}

// Maintain makes the partitions of the slots from now's to partitionsAhead
// widths later that are missing, on each table: the store calls it at Open
// and periodically; any node may, at any time.
func (s *Store) Maintain(ctx context.Context, now time.Time) error {
	width := s.opts.partitionWidth.Milliseconds()
	from := floorTo(ms(now), width)
	to := from + (partitionsAhead+1)*width
	for _, table := range partitionedTables {
		err := s.partitionTx(ctx, func(tx pgx.Tx) error {
			ps, err := listPartitions(ctx, tx)
			if err != nil {
				return err
			}
			for _, gap := range uncovered(ps, table, from, to) {
				// Slots of the width, clipped to the gap: partitions made
				// in another width stay as they are.
				for start := floorTo(gap[0], width); start < gap[1]; start += width {
					lo, hi := max(start, gap[0]), min(start+width, gap[1])
					if err := createPartition(ctx, tx, table, lo, hi); err != nil {
						return err
					}
				}
			}
			return nil
		})
		if err != nil {
			return fmt.Errorf("postgres: partitions of %s: %w", table, interpret(err))
		}
	}
	return nil
}

// createPartition makes table's partition [from, to), unless its DEFAULT
// partition holds rows of the range.
func createPartition(ctx context.Context, tx pgx.Tx, table string, from, to int64) error {
	key := pgx.Identifier{partitionKey[table]}.Sanitize()
	var taken bool
	if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM `+pgx.Identifier{table + "_default"}.Sanitize()+`
		WHERE `+key+` >= $1 AND `+key+` < $2)`, from, to).Scan(&taken); err != nil {
		return err
	}
	if taken {
		return nil
	}
	storage := ""
	if table == "deliveries" {
		storage = " WITH (fillfactor = 70)" // see migration 001
	}
	_, err := tx.Exec(ctx, fmt.Sprintf(`CREATE TABLE IF NOT EXISTS %s PARTITION OF %s FOR VALUES FROM (%d) TO (%d)%s`,
		pgx.Identifier{fmt.Sprintf("%s_%d", table, from)}.Sanitize(), pgx.Identifier{table}.Sanitize(), from, to, storage))
	return err
}

// partitionTx runs fn in a transaction that holds the partitions' advisory
// lock and waits at most partitionLockTimeout for a table's lock.
func (s *Store) partitionTx(ctx context.Context, fn func(pgx.Tx) error) error {
	return pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT set_config('lock_timeout', $1, true), pg_advisory_xact_lock($2, hashtext(current_schema()))`,
			partitionLockTimeout, lockPartitions); err != nil {
			return err
		}
		return fn(tx)
	})
}

// maintainPartitions calls Maintain until ctx ends, every quarter of a
// width and at most hourly. A failure is tried again at the next turn: the
// partitions reach two widths ahead, and the DEFAULT partition takes what
// comes meanwhile.
func (s *Store) maintainPartitions(ctx context.Context) {
	every := min(s.opts.partitionWidth/4, time.Hour)
	t := time.NewTicker(max(every, 100*time.Millisecond))
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if err := s.Maintain(ctx, time.Now()); err != nil && ctx.Err() == nil {
				s.opts.logger.Warn("making partitions ahead failed; trying again later", "err", err)
			}
		}
	}
}

// retentionCutoff is before rounded down to the start of the partition of
// events that holds it, if one does: retention removes a partition whole,
// once all of it is past the retention.
func retentionCutoff(ps []partition, before int64) int64 {
	for _, p := range ps {
		if p.table == "events" && p.from <= before && before < p.to {
			return p.from
		}
	}
	return before
}

// dropOldPartitions drops the partitions wholly older than cutoff whose
// slot holds no pending delivery, nor an event whose idempotency key is
// still remembered (created at or after keyedBefore), and returns how many
// events went with them. Deliveries' partitions go first, each checked
// under its table's lock, so that no delivery becomes pending (a retry)
// between the check and the drop; a slot's attempts and events then go
// once no delivery of the slot is left. A partition whose lock is not had
// in partitionLockTimeout stays for the next pass.
func (s *Store) dropOldPartitions(ctx context.Context, ps []partition, cutoff, keyedBefore int64) (removed int, err error) {
	for _, table := range partitionedTables {
		for _, p := range ps {
			if p.table != table || p.to > cutoff {
				continue
			}
			var events int
			if table == "events" {
				// Counted before the lock: no event is added to a past
				// slot.
				if err := s.pool.QueryRow(ctx, `SELECT count(*) FROM `+pgx.Identifier{p.name}.Sanitize()).Scan(&events); err != nil {
					return removed, interpret(err)
				}
			}
			dropped := false
			err := s.partitionTx(ctx, func(tx pgx.Tx) error {
				dropped = false
				var held bool
				switch table {
				case "deliveries":
					if _, err := tx.Exec(ctx, `LOCK TABLE deliveries IN ACCESS EXCLUSIVE MODE`); err != nil {
						return err
					}
					if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM deliveries
						WHERE event_created_at >= $1 AND event_created_at < $2 AND status = 'pending')
						OR EXISTS (SELECT 1 FROM events WHERE idempotency_key IS NOT NULL
						AND created_at >= greatest($1, $3) AND created_at < $2)`, p.from, p.to, keyedBefore).Scan(&held); err != nil {
						return err
					}
				default:
					if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM deliveries
						WHERE event_created_at >= $1 AND event_created_at < $2)
						OR ($3 AND EXISTS (SELECT 1 FROM events WHERE idempotency_key IS NOT NULL
						AND created_at >= greatest($1, $4) AND created_at < $2))`, p.from, p.to, table == "events", keyedBefore).Scan(&held); err != nil {
						return err
					}
				}
				if held {
					return nil
				}
				if _, err := tx.Exec(ctx, `DROP TABLE `+pgx.Identifier{p.name}.Sanitize()); err != nil {
					return err
				}
				dropped = true
				return nil
			})
			var pe interface{ SQLState() string }
			switch {
			case errors.As(err, &pe) && pe.SQLState() == "55P03": // lock_not_available: next pass
				continue
			case err != nil:
				return removed, interpret(err)
			case dropped:
				removed += events
			}
		}
	}
	return removed, nil
}
