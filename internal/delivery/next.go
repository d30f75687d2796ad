package delivery

import (
	"github.com/onetalk/onetalk-webhooks/internal/otw"
	"github.com/onetalk/onetalk-webhooks/internal/store"
)

// handOverNext asks the write of comp to hand over the next delivery of
// each order key its results let go (store.Completion.Take), into
// workers promised now, one per key at most: a message's next status then
// starts as its previous one's success is written, without a claim. On
// PostgreSQL a claim is a query the server plans anew each time (~2 ms at
// 1,000 events/s), and one after nearly every write was most of the
// server's work and of a next status's wait.
//
// The caller passes comp.Take to Accept once the write has answered. It
// reports whether a key let go was left without a promised worker: its
// next delivery is then for a claim to find.
func (d *Dispatcher) handOverNext(comp *store.Completion) (untried bool) {
	ended := make([]bool, len(comp.Results))
	keys := make(map[store.OrderKey]bool)
	want := make(map[int64]int)
	var orgs []int64
	for i, r := range comp.Results {
		if r.Status == otw.DeliveryPending || r.OrderKey == "" {
			continue
		}
		ended[i] = true
		if k := (store.OrderKey{OrganizationID: r.OrganizationID, OrderKey: r.OrderKey}); !keys[k] {
			keys[k] = true
			if want[k.OrganizationID] == 0 {
				orgs = append(orgs, k.OrganizationID)
			}
			want[k.OrganizationID]++
		}
	}
	if len(keys) == 0 {
		return false
	}
	comp.Take = d.reserve(orgs, want)
	if len(comp.Take.Room) > 0 && comp.Now.IsZero() {
		comp.Now = d.cfg.Now()
	}
	return len(comp.Take.Keys(comp.Results, ended)) < len(keys)
}
