package sqlite

import (
	"encoding/json"
	"math"
	"sync"

	"github.com/onetalk/onetalk-webhooks/internal/store"
)

// leaseTable holds the SQLite store's leases in memory. One process owns
// the file (Open locks it), so no other process needs to see a lease, and
// a crash forgets them as a restart must anyway: the deliveries they held
// are due again. A claim then writes nothing, and the one writer
// connection, which bounds this store, is left to events and outcomes.
//
// A claim reads on the reader pool, a snapshot that may predate an
// outcome being written. That is safe because a lease leaves the table
// only after its outcome has committed, and a claim takes its list of
// leases before it reads: what it reads as pending is either still pending
// or still leased in its list.
type leaseTable struct {
	mu sync.Mutex
	m  map[int64]lease // by delivery seq
}

type lease struct {
	until int64 // Unix ms; writing while its outcome is being written
	org   int64
}

// writing marks a lease whose outcome is being written: it holds whatever
// the clock says, so that no claim takes the delivery between the check of
// the lease and the commit of its outcome.
const writing = math.MaxInt64

func newLeaseTable() *leaseTable { return &leaseTable{m: make(map[int64]lease)} }

// held returns, as a JSON array for json_each, the deliveries leased at
// now, and forgets leases that have run out.
func (t *leaseTable) held(now int64) string {
	t.mu.Lock()
	seqs := make([]int64, 0, len(t.m))
	for seq, l := range t.m {
		if l.until <= now {
			delete(t.m, seq)
			continue
		}
		seqs = append(seqs, seq)
	}
	t.mu.Unlock()
	list, err := json.Marshal(seqs)
	if err != nil {
		panic(err) // a slice of integers always marshals
	}
	return string(list)
}

func (t *leaseTable) take(claimed []store.Claimed) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, c := range claimed {
		t.m[c.DeliverySeq] = lease{until: ms(c.LeaseUntil), org: c.OrganizationID}
	}
}

// active reports whether the delivery is leased at now.
func (t *leaseTable) active(seq, now int64) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	l, ok := t.m[seq]
	return ok && l.until > now
}

// beginWrite reports, for each result, whether its lease is still the
// current one (the fencing token), and marks those leases writing.
func (t *leaseTable) beginWrite(results []store.AttemptResult) []bool {
	owned := make([]bool, len(results))
	t.mu.Lock()
	defer t.mu.Unlock()
	for i, r := range results {
		l, ok := t.m[r.DeliverySeq]
		if ok && l.until == ms(r.LeaseUntil) {
			owned[i] = true
			l.until = writing
			t.m[r.DeliverySeq] = l
		}
	}
	return owned
}

// endWrite ends the leases beginWrite marked, once their outcomes are
// committed, or puts them back as they were when the write failed.
func (t *leaseTable) endWrite(results []store.AttemptResult, owned []bool, committed bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for i, r := range results {
		if !owned[i] {
			continue
		}
		l, ok := t.m[r.DeliverySeq]
		if !ok || l.until != writing {
			continue // given up meanwhile (the webhook was disabled)
		}
		if committed {
			delete(t.m, r.DeliverySeq)
		} else {
			l.until = ms(r.LeaseUntil)
			t.m[r.DeliverySeq] = l
		}
	}
}

// release ends leases that are still current, and returns how many.
func (t *leaseTable) release(leases []store.Lease) (ended int) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, l := range leases {
		if cur, ok := t.m[l.DeliverySeq]; ok && cur.until == ms(l.LeaseUntil) {
			delete(t.m, l.DeliverySeq)
			ended++
		}
	}
	return ended
}

// dropOrganization ends every lease of the organization, whose pending
// deliveries have just been recorded failed: an outcome still to come
// records its attempt and leaves the delivery failed.
func (t *leaseTable) dropOrganization(org int64) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for seq, l := range t.m {
		if l.org == org {
			delete(t.m, seq)
		}
	}
}

// extend moves the leases that are still current to until.
func (t *leaseTable) extend(leases []store.Lease, until int64) []bool {
	moved := make([]bool, len(leases))
	t.mu.Lock()
	defer t.mu.Unlock()
	for i, l := range leases {
		if cur, ok := t.m[l.DeliverySeq]; ok && cur.until == ms(l.LeaseUntil) {
			cur.until = until
			t.m[l.DeliverySeq] = cur
			moved[i] = true
		}
	}
	return moved
}
