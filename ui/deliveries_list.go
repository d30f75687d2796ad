package ui

import (
	"net/http"
	"net/url"
	"strings"

	otw "github.com/onetalk/onetalk-webhooks"
	"github.com/onetalk/onetalk-webhooks/api"
	"github.com/onetalk/onetalk-webhooks/event"
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
}

// listDeliveries reads the query with the API's own parser (status,
// eventType, limit, cursor). The store pages only towards older
// deliveries, so the page remembers the cursors that led to it in "trail"
// and "Newer" walks back along them.
func (u *UI) listDeliveries(w http.ResponseWriter, r *http.Request, s session) {
	params, err := api.ParseListParams(r, s.Org)
	if err != nil {
		u.fail(w, r, &s, err)
		return
	}
	list, next, err := u.cfg.Store.ListDeliveries(r.Context(), params)
	if err != nil {
		u.fail(w, r, &s, err)
		return
	}
	c, err := u.loadChart(r.Context(), s.Org)
	if err != nil {
		u.fail(w, r, &s, err)
		return
	}
	p := deliveriesPage{Chart: c, Deliveries: list, Status: params.Status, EventType: params.EventType,
		Types: event.Types(), Statuses: []string{otw.DeliveryPending, otw.DeliverySucceeded, otw.DeliveryFailed},
		Filtered: params.Status != "" || params.EventType != ""}
	p.Older, p.Newer = pageLinks("/deliveries", r.URL.Query(), []string{"status", "eventType", "limit"}, params.Cursor, next)
	u.render(w, r, http.StatusOK, "deliveries", &view{Title: "Deliveries", Nav: "deliveries", Session: &s,
		Notice: notice(r), Data: p})
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
