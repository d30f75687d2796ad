package ui

import (
	"context"
	"net/http"
	"strings"
	"time"

	"github.com/onetalk/onetalk-webhooks/internal/otw"
	"github.com/onetalk/onetalk-webhooks/internal/service"
	"github.com/onetalk/onetalk-webhooks/internal/store"
)

// search is what the log's search box and time controls ask: q, one box
// for an event ID, a trxID or a caseID, and from and to, times of the
// browser's datetime-local controls read as UTC (the page says so).
type search struct {
	Q, From, To string
	// Matched says which ID q was taken as: "event ID", "trxID" or
	// "caseID" ("" without q).
	Matched string
}

// searchKeep are the query parameters a view is made of, kept by its
// paging links and by the bulk retry.
var searchKeep = []string{"status", "eventType", "q", "from", "to", "limit"}

// localTime is how a datetime-local control sends a time, with or without
// seconds.
var localTime = []string{"2006-01-02T15:04", "2006-01-02T15:04:05"}

// deliveryView is one view of the log: what it selects, as read from the
// query, and one page of it.
type deliveryView struct {
	params store.ListParams
	search search
	list   []otw.Delivery
	next   string // the cursor of the next page, "" on the last
}

// loadView reads the view the request's query asks for and lists it.
func (u *UI) loadView(r *http.Request, org int64) (deliveryView, error) {
	params, find, err := viewParams(r, org)
	if err != nil {
		return deliveryView{}, err
	}
	params, list, next, err := u.find(r.Context(), params, &find)
	if err != nil {
		return deliveryView{}, err
	}
	return deliveryView{params: params, search: find, list: list, next: next}, nil
}

// viewParams reads the log's view: the API's own filters, and the search.
func viewParams(r *http.Request, org int64) (store.ListParams, search, error) {
	p, err := service.ParseListParams(r.URL.Query(), org)
	if err != nil {
		return p, search{}, err
	}
	q := r.URL.Query()
	s := search{Q: strings.TrimSpace(q.Get("q")), From: q.Get("from"), To: q.Get("to")}
	var fields []otw.FieldError
	parse := func(name, v string) time.Time {
		if v == "" {
			return time.Time{}
		}
		for _, layout := range localTime {
			if t, err := time.Parse(layout, v); err == nil {
				return t
			}
		}
		fields = append(fields, otw.FieldError{Field: name, Message: "must be a date and time such as 2026-11-25T10:00"})
		return time.Time{}
	}
	p.Since, p.Until = parse("from", s.From), parse("to", s.To)
	if !p.Since.IsZero() && !p.Until.IsZero() && !p.Until.After(p.Since) {
		fields = append(fields, otw.FieldError{Field: "to", Message: "must be after from"})
	}
	if len(s.Q) > 255 {
		fields = append(fields, otw.FieldError{Field: "q", Message: "must be at most 255 characters"})
	}
	if len(fields) > 0 {
		return p, s, otw.Invalid("bad search", fields...)
	}
	return p, s, nil
}

// find lists the view. An ID that starts with evt_ is an event's; any
// other is tried as a trxID and, when no message has it, as a caseID: the
// two are different kinds of ID and one box is simpler than a choice. It
// returns the params it listed with, so that a bulk retry selects the
// same deliveries.
func (u *UI) find(ctx context.Context, p store.ListParams, s *search) (store.ListParams, []otw.Delivery, string, error) {
	switch {
	case s.Q == "":
	case strings.HasPrefix(s.Q, "evt_"):
		p.EventID, s.Matched = s.Q, "event ID"
	default:
		p.TrxID, s.Matched = s.Q, "trxID"
		list, next, err := u.svc.ListDeliveries(ctx, p)
		if err != nil || len(list) > 0 {
			return p, list, next, err
		}
		p.TrxID, p.CaseID, s.Matched = "", s.Q, "caseID"
	}
	list, next, err := u.svc.ListDeliveries(ctx, p)
	return p, list, next, err
}

// retryParams selects the failed deliveries of a view, as many as one
// bulk retry takes.
func retryParams(p store.ListParams, dryRun bool) store.RetryParams {
	f := p.Filter()
	f.Status = otw.DeliveryFailed
	return store.RetryParams{DeliveryFilter: f, Limit: service.MaxBulkRetry, DryRun: dryRun}
}
