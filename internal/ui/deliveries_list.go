package ui

import (
	"net/http"
	"net/url"
	"strings"

	"github.com/onetalk/onetalk-webhooks/internal/event"
	"github.com/onetalk/onetalk-webhooks/internal/otw"
)

// deliveriesPage is the delivery log: the chart, the filters and one page
// of the table.
type deliveriesPage struct {
	Chart      chart
	Deliveries []otw.Delivery
	Status     string
	EventType  string
	Types      []event.Type
	Statuses   []string
	// Older and Newer are the paging links ("" when there is no such page).
	Older, Newer string
	Filtered     bool
	Search       search
	// Failed is how many failed deliveries the view holds (at most one
	// bulk retry's worth; More when there are more), offered to "Retry
	// all", and RetryLink the page that confirms it ("" when none).
	Failed    int
	More      bool
	RetryLink string
}

// listDeliveries reads the query with the API's own parser
// (service.ParseListParams: status, eventType, limit, cursor) and the
// search (see viewParams). The store
// pages only towards older deliveries, so the page remembers the cursors
// that led to it in "trail" and "Newer" walks back along them.
func (u *UI) listDeliveries(w http.ResponseWriter, r *http.Request, s session) {
	v, err := u.loadView(r, s.Org)
	if err != nil {
		u.fail(w, r, &s, err)
		return
	}
	params, find := v.params, v.search
	c, err := u.loadChart(r.Context(), s.Org)
	if err != nil {
		u.fail(w, r, &s, err)
		return
	}
	p := deliveriesPage{Chart: c, Deliveries: v.list, Status: params.Status, EventType: params.EventType,
		Types: event.Types(), Statuses: []string{otw.DeliveryPending, otw.DeliverySucceeded, otw.DeliveryFailed},
		Filtered: params.Status != "" || params.EventType != "" || find.Q != "" || find.From != "" || find.To != "",
		Search:   find}
	if params.Status == "" || params.Status == otw.DeliveryFailed {
		// The dry run of the bulk retry: the count the button offers is
		// the set it sends.
		n, more, err := u.svc.RetryDeliveries(r.Context(), retryParams(params, true))
		if err != nil {
			u.fail(w, r, &s, err)
			return
		}
		if p.Failed, p.More = n, more; n > 0 {
			p.RetryLink = viewLink("/deliveries/retry", r.URL.Query())
		}
	}
	p.Older, p.Newer = pageLinks("/deliveries", r.URL.Query(), searchKeep, params.Cursor, v.next)
	u.render(w, r, http.StatusOK, "deliveries", &view{Title: "Deliveries", Nav: "deliveries", Session: &s,
		Notice: notice(r), Data: p})
}

// viewLink is path with the query's view (filters and search), without its
// page.
func viewLink(path string, q url.Values) string {
	v := url.Values{}
	for _, k := range searchKeep {
		if q.Get(k) != "" {
			v.Set(k, q.Get(k))
		}
	}
	if len(v) == 0 {
		return path
	}
	return path + "?" + v.Encode()
}

// pageLinks returns the links of a list at path to the next page (older,
// for the log) and the one before (newer), keeping the query's keep
// parameters (filters, limit). The stores page only forward, so each link
// carries the cursors that led to its page in "trail", and the link back
// walks back along them.
func pageLinks(path string, q url.Values, keep []string, cursor, next string) (older, newer string) {
	var trail []string
	if t := q.Get("trail"); t != "" {
		trail = strings.Split(t, ",")
	}
	link := func(cursor string, trail []string) string {
		v := url.Values{}
		for _, k := range keep {
			if q.Get(k) != "" {
				v.Set(k, q.Get(k))
			}
		}
		if cursor != "" {
			v.Set("cursor", cursor)
		}
		if len(trail) > 0 {
			v.Set("trail", strings.Join(trail, ","))
		}
		if len(v) == 0 {
			return path
		}
		return path + "?" + v.Encode()
	}
	if next != "" {
		// The first page's cursor is "", kept in the trail as "0".
		back := cursor
		if back == "" {
			back = "0"
		}
		older = link(next, append(trail[:len(trail):len(trail)], back))
	}
	if cursor != "" {
		prev, rest := "", trail
		if n := len(trail); n > 0 {
			prev, rest = trail[n-1], trail[:n-1]
		}
		if prev == "0" {
			prev = ""
		}
		newer = link(prev, rest)
	}
	return older, newer
}
