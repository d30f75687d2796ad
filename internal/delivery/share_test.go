package delivery

import "testing"

func TestShareRule(t *testing.T) {
	s := newShare(256, 64)
	if s.reserve != 32 {
		t.Fatalf("reserve %d, want an eighth of 256", s.reserve)
	}
	// Alone, an organization may use its whole PerWebhook.
	if !s.mayStart(63, 63) || s.mayStart(64, 64) {
		t.Fatal("alone: want up to PerWebhook (64) and no more")
	}
	// Slow tenants take workers only while more than the reserve stays
	// free: 224 at most are theirs.
	if !s.mayStart(44, 223) || s.mayStart(45, 224) {
		t.Fatal("want tenants with requests out to stop when only the reserve is free")
	}
	// A tenant with nothing out starts from the reserve, one request.
	if !s.mayStart(0, 224) || !s.mayStart(0, 255) || s.mayStart(1, 225) {
		t.Fatal("a tenant with nothing out must start one request from the reserve, and only one")
	}
	if s.mayStart(0, 256) {
		t.Fatal("no worker is free: nothing may start")
	}
	// Claimed ahead: a round of what an organization may have out.
	if got := s.holdCap(1); got != 128 {
		t.Fatalf("holdCap alone %d, want 2×64", got)
	}
	if got := s.holdCap(7); got != 2*(224/7) {
		t.Fatalf("holdCap of 7 %d, want twice their part", got)
	}
	// Few workers: no reserve, PerWebhook still bounds.
	small := newShare(3, 2)
	if small.reserve != 0 || !small.mayStart(1, 2) || small.mayStart(2, 2) {
		t.Fatalf("3 workers, 2 per webhook: %+v", small)
	}
}
