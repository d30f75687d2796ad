package delivery

// share divides the workers among the organizations that have work, so
// that no tenant's endpoint, however slow, delays another tenant.
//
// Requests to a hanging endpoint cannot be taken back before their
// timeout, so the rule keeps workers free instead: the last eighth of
// them (the reserve) goes only to organizations with no request out, one
// each. Above the reserve, scarce workers go first to the organizations
// that use the fewest (startWaiting visits them in that order, one
// request each per round: max-min fair), up to PerWebhook each. So a few
// tenants whose receivers hang hold at most seven eighths of the workers,
// a tenant that appears meanwhile starts at once from the reserve, and a
// tenant alone still uses what PerWebhook allows.
type share struct {
	workers    int
	perWebhook int
	// reserve is the workers kept for organizations with nothing out: an
	// eighth, none when there are fewer than eight.
	reserve int
}

func newShare(workers, perWebhook int) share {
	return share{workers: workers, perWebhook: perWebhook, reserve: workers / 8}
}

// part is each active organization's equal part of the workers above the
// reserve.
func (s share) part(active int) int {
	return max(1, (s.workers-s.reserve)/max(1, active))
}

// mayStart reports whether an organization using orgInUse workers may
// start one more request while inUse workers are in use in all.
func (s share) mayStart(orgInUse, inUse int) bool {
	if inUse >= s.workers || orgInUse >= s.perWebhook {
		return false
	}
	return s.workers-inUse > s.reserve || orgInUse == 0
}

// holdCap bounds what an organization holds claimed (using a worker and
// waiting for one) while active organizations have work: a round ahead
// of its part, so a freed worker is filled without waiting for a claim, and
// no more, so that deliveries do not sit leased behind a slow endpoint
// while others could use the room.
func (s share) holdCap(active int) int {
	return 2 * min(s.perWebhook, s.part(active))
}
