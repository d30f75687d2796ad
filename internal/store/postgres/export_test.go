package postgres

// InsertEventsQuery is the insert statement, for the test of its plan.
const InsertEventsQuery = insertEventsQuery
