package ui

import (
	"net/http"
	"net/url"
)

// bulkRetryPage confirms "Retry all failed in this view" with the count a
// dry run gives, before anything is sent: a page of its own, since the
// CSP allows no script to ask.
type bulkRetryPage struct {
	Count  int
	More   bool
	Search search
	Status string
	Type   string
	// Action posts the view's query back; Back is the view.
	Action, Back string
}

func (u *UI) confirmBulkRetry(w http.ResponseWriter, r *http.Request, s session) {
	v, err := u.loadView(r, s.Org)
	if err != nil {
		u.fail(w, r, &s, err)
		return
	}
	n, more, err := u.svc.RetryDeliveries(r.Context(), retryParams(v.params, true))
	if err != nil {
		u.fail(w, r, &s, err)
		return
	}
	p := bulkRetryPage{Count: n, More: more, Search: v.search, Status: v.params.Status, Type: v.params.EventType,
		Action: viewLink("/deliveries/retry", r.URL.Query()), Back: viewLink("/deliveries", r.URL.Query())}
	u.render(w, r, http.StatusOK, "deliveries_retry", &view{Title: "Retry failed deliveries", Nav: "deliveries", Session: &s, Data: p})
}

// bulkRetry sends the failed deliveries of the view again: the view's
// query is the form's action, so the filters are read as the log reads
// them.
func (u *UI) bulkRetry(w http.ResponseWriter, r *http.Request, s session) {
	v, err := u.loadView(r, s.Org)
	if err != nil {
		u.fail(w, r, &s, err)
		return
	}
	if _, _, err := u.svc.RetryDeliveries(r.Context(), retryParams(v.params, false)); err != nil {
		u.fail(w, r, &s, err)
		return
	}
	q := url.Values{}
	for _, k := range searchKeep {
		if v := r.URL.Query().Get(k); v != "" {
			q.Set(k, v)
		}
	}
	q.Set("notice", "bulk-retried")
	http.Redirect(w, r, "/deliveries?"+q.Encode(), http.StatusSeeOther)
}
