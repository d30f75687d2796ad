package sqlstore

import "strings"

// Dialect is what differs between the drivers in the statements of this
// package. The two are side by side here, so that the differences are read
// in one place.
type Dialect struct {
	// MigrationsTable makes the bookkeeping table of Migrate.
	MigrationsTable string
	// EventsText reads a webhook's subscribed events as one
	// comma-separated text; Events is them as their column stores them.
	EventsText string
	Events     func([]string) any
	// FiltersText reads a webhook's filters as JSON text ('' for none).
	FiltersText string
	// OrderKey is d.order_key as the index of deliveries by key holds it
	// (see store.DeliveryFilter.Where).
	OrderKey string
	// OrderIndex names deliveries p so that the index of pending
	// deliveries by order key answers the query, and Pending is the
	// condition on p that index holds: p is pending.
	OrderIndex, Pending string
}

// SQLite keeps subscribed events as comma-separated text and filters as
// text. Its planner took deliveries_key (every delivery of a key, for the
// log) for the probes of pending ones, so they name deliveries_order.
var SQLite = Dialect{
	MigrationsTable: `CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)`,
	EventsText:      `subscribed_events`,
	Events:          func(events []string) any { return strings.Join(events, ",") },
	FiltersText:     `coalesce(filters, '')`,
	OrderKey:        `d.order_key`,
	OrderIndex:      `deliveries p INDEXED BY deliveries_order`,
	Pending:         `p.status = 'pending'`,
}

// PostgreSQL keeps subscribed events as text[] and filters as jsonb. Its
// index of pending deliveries by key is partial, on next_attempt_at IS NOT
// NULL (migration 002), and its index by key is in the C collation
// (migration 010): a query must say the same to use them.
var PostgreSQL = Dialect{
	MigrationsTable: `CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)`,
	EventsText:      `array_to_string(subscribed_events, ',')`,
	Events: func(events []string) any {
		if events == nil {
			return []string{} // the column is NOT NULL
		}
		return events
	},
	FiltersText: `coalesce(filters::text, '')`,
	OrderKey:    `d.order_key COLLATE "C"`,
	OrderIndex:  `deliveries p`,
	Pending:     `p.next_attempt_at IS NOT NULL`,
}
