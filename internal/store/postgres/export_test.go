package postgres

import "github.com/jackc/pgx/v5"

// InsertEventsQuery is the insert statement, for the test of its plan.
const InsertEventsQuery = insertEventsQuery

// WithQueryTracer has the store's connections report their statements to
// tracer, so that a test may read the plans of what a call ran.
func WithQueryTracer(tracer pgx.QueryTracer) Option {
	return func(o *options) { o.tracer = tracer }
}
