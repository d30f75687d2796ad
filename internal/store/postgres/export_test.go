package postgres

// InsertEventsQuery is the insert statement, for the test of its plan.
const InsertEventsQuery = insertEventsQuery

// ClaimQuery is the claim statement, for the test of its plan.
const ClaimQuery = claimQuery
