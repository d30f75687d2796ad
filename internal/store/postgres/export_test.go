package postgres

import (
	"context"

	"github.com/jackc/pgx/v5"

	"github.com/onetalk/onetalk-webhooks/internal/otw"
	"github.com/onetalk/onetalk-webhooks/internal/store"
)

// InsertEventsQuery is the insert statement, for the test of its plan.
const InsertEventsQuery = insertEventsQuery

// InsertAttemptsQuery records attempts, for the test of its plan.
const InsertAttemptsQuery = insertAttemptsQuery

// WithQueryTracer has the store's connections report their statements to
// tracer, so that a test may read the plans of what a call ran.
func WithQueryTracer(tracer pgx.QueryTracer) Option {
	return func(o *options) { o.tracer = tracer }
}

// OutcomesQuery moves delivered and failed deliveries, and
// PlannedByIndex is what the outcomes' write sends first, for the test of
// their plan.
const (
	OutcomesQuery  = outcomesQuery
	PlannedByIndex = plannedByIndex
)

// StillWaitsQuery is the insert's question after its commit, for the test
// of its plan.
const StillWaitsQuery = stillWaitsQuery

// NextOfKeysQuery is the completion's hand-off, for the test of its plan.
const NextOfKeysQuery = nextOfKeysQuery

// AnnounceInserted is what InsertEvents does after its commit, for the
// test of the race it closes.
func (s *Store) AnnounceInserted(ctx context.Context, events []otw.Event, out []store.Inserted) {
	s.announceInserted(ctx, events, out)
}
