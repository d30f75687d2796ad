package service

import (
	"context"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/onetalk/onetalk-webhooks/internal/event"
	"github.com/onetalk/onetalk-webhooks/internal/otw"
	"github.com/onetalk/onetalk-webhooks/internal/store"
)

// ParseListParams reads the deliveries list's query: status, eventType,
// trxID, caseID, eventID, since and until (RFC 3339), limit (1 to 250,
// default 50) and cursor.
func ParseListParams(q url.Values, org int64) (store.ListParams, error) {
	p := store.ListParams{OrganizationID: org, Status: q.Get("status"), EventType: q.Get("eventType"), Limit: 50, Cursor: q.Get("cursor")}
	var c checker
	switch p.Status {
	case "", otw.DeliveryPending, otw.DeliverySucceeded, otw.DeliveryFailed:
	default:
		c.fail("status", "must be pending, succeeded or failed")
	}
	if p.EventType != "" && !event.Known(p.EventType) {
		c.fail("eventType", "unknown event type %q", p.EventType)
	}
	p.TrxID, p.CaseID, p.EventID = q.Get("trxID"), q.Get("caseID"), q.Get("eventID")
	p.Since, p.Until = c.window(q.Get("since"), q.Get("until"))
	c.ids(p.TrxID, p.CaseID, p.EventID)
	p.Limit = c.limit(q.Get("limit"), p.Limit)
	if p.Cursor != "" {
		if n, err := strconv.ParseInt(p.Cursor, 10, 64); err != nil || n <= 0 {
			c.fail("cursor", "not a cursor this API returned")
		}
	}
	return p, c.err()
}

// limit reads a list's page size, 1 to 250; "" is def.
func (c *checker) limit(v string, def int) int {
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 || n > 250 {
		c.fail("limit", "must be an integer from 1 to 250")
	}
	return n
}

// maxLookupID bounds a trxID, caseID or event ID looked up: far beyond any
// real one, short enough that no lookup carries a page of text.
const maxLookupID = 255

// ids checks the IDs a filter looks up.
func (c *checker) ids(trxID, caseID, eventID string) {
	for _, f := range []struct{ name, v string }{{"trxID", trxID}, {"caseID", caseID}, {"eventID", eventID}} {
		if len(f.v) > maxLookupID {
			c.fail(f.name, "must be at most %d characters", maxLookupID)
		}
	}
	if eventID != "" && !strings.HasPrefix(eventID, "evt_") {
		c.fail("eventID", "must be an event ID (evt_…)")
	}
}

// window reads since and until, RFC 3339 times ("" for none); until must
// come after since.
func (c *checker) window(since, until string) (from, to time.Time) {
	parse := func(name, v string) time.Time {
		if v == "" {
			return time.Time{}
		}
		t, err := time.Parse(time.RFC3339Nano, v)
		if err != nil {
			c.fail(name, "must be an RFC 3339 time such as 2026-11-25T10:00:00Z")
		}
		return t
	}
	from, to = parse("since", since), parse("until", until)
	if !from.IsZero() && !to.IsZero() && !to.After(from) {
		c.fail("until", "must be after since")
	}
	return from, to
}

// ListDeliveries returns a page of the deliveries p selects, newest
// first, and the cursor of the next page ("" on the last one).
func (s *Service) ListDeliveries(ctx context.Context, p store.ListParams) ([]otw.Delivery, string, error) {
	return s.store.ListDeliveries(ctx, p)
}

// GetDelivery returns one of org's deliveries with its payload and
// attempts. One of another organization is not found, exactly as one that
// does not exist, and one past the retention says so.
func (s *Service) GetDelivery(ctx context.Context, org int64, id string) (otw.Delivery, error) {
	d, err := s.store.GetDelivery(ctx, org, id)
	if err != nil {
		return otw.Delivery{}, s.gone(err, id)
	}
	return d, nil
}

// RetryDelivery makes one of org's deliveries pending and due now: one
// attempt beyond the schedule.
func (s *Service) RetryDelivery(ctx context.Context, org int64, id string) error {
	if err := s.store.RetryDelivery(ctx, org, id, s.now()); err != nil {
		return s.gone(err, id)
	}
	return nil
}

// ParseRecover reads a recover's body, {"since": RFC 3339 time}.
func ParseRecover(body []byte) (since time.Time, err error) {
	var c checker
	m, err := c.fields(body, "since")
	if err != nil {
		return since, err
	}
	var raw string
	if c.decode(m, "since", "an RFC 3339 time", &raw) {
		if since, err = time.Parse(time.RFC3339Nano, raw); err != nil {
			c.fail("since", "must be an RFC 3339 time such as 2026-11-25T10:00:00Z")
		}
	}
	return since, c.err()
}

// Recover makes every failed delivery of org created since then pending
// and due now, and returns how many; note is what the answer should add
// when since reaches back past the retention ("" when it does not).
func (s *Service) Recover(ctx context.Context, org int64, since time.Time) (n int, note string, err error) {
	n, err = s.store.RecoverDeliveries(ctx, org, since, s.now())
	if err != nil {
		return 0, "", err
	}
	return n, s.pastRetention(since), nil
}

// MaxBulkRetry bounds one bulk retry: the work of one request (one
// transaction) stays small; more are sent by calling again.
const MaxBulkRetry = 10000

// ParseRetryFilter reads a bulk retry's body: the list's filters (status,
// failed when left out; pending refused), and dryRun.
func ParseRetryFilter(body []byte, org int64) (store.RetryParams, error) {
	p := store.RetryParams{DeliveryFilter: store.DeliveryFilter{OrganizationID: org, Status: otw.DeliveryFailed}, Limit: MaxBulkRetry}
	var c checker
	m, err := c.fields(body, "status", "eventType", "trxID", "caseID", "eventID", "since", "until", "dryRun")
	if err != nil {
		return p, err
	}
	str := func(name string, v *string) {
		if raw, ok := m[name]; ok && string(raw) != "null" {
			c.decode(m, name, "a string", v)
		}
	}
	var since, until string
	str("status", &p.Status)
	str("eventType", &p.EventType)
	str("trxID", &p.TrxID)
	str("caseID", &p.CaseID)
	str("eventID", &p.EventID)
	str("since", &since)
	str("until", &until)
	if raw, ok := m["dryRun"]; ok && string(raw) != "null" {
		c.decode(m, "dryRun", "true or false", &p.DryRun)
	}
	switch p.Status {
	case otw.DeliveryFailed, otw.DeliverySucceeded:
	case otw.DeliveryPending:
		c.fail("status", "must be failed or succeeded: pending deliveries are being sent")
	default:
		c.fail("status", "must be failed or succeeded")
	}
	if p.EventType != "" && !event.Known(p.EventType) {
		c.fail("eventType", "unknown event type %q", p.EventType)
	}
	p.Since, p.Until = c.window(since, until)
	c.ids(p.TrxID, p.CaseID, p.EventID)
	return p, c.err()
}

// RetryDeliveries sends again the deliveries p selects, up to
// MaxBulkRetry of them oldest first, and returns how many and whether
// more match; with p.DryRun it only counts them, the same set.
func (s *Service) RetryDeliveries(ctx context.Context, p store.RetryParams) (n int, more bool, err error) {
	if p.Limit <= 0 || p.Limit > MaxBulkRetry {
		p.Limit = MaxBulkRetry
	}
	p.Now = s.now()
	if n, more, err = s.store.RetryDeliveries(ctx, p); err != nil {
		return 0, false, err
	}
	return n, more, nil
}

// DeliveryStats counts org's deliveries created since then, per hour and
// status, oldest hour first: the delivery log's chart.
func (s *Service) DeliveryStats(ctx context.Context, org int64, since time.Time) ([]store.HourStats, error) {
	return s.store.DeliveryStats(ctx, org, since)
}
