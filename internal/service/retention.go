package service

import (
	"fmt"
	"time"

	"github.com/onetalk/onetalk-webhooks/internal/otw"
)

// gone explains a delivery that was not found: with a retention, it may
// have been removed for its age, and the answer says so rather than
// leaving the caller to wonder whether the ID was ever right.
func (s *Service) gone(err error, id string) error {
	if s.retention <= 0 || !otw.IsNotFound(err) {
		return err
	}
	return otw.Errorf(otw.ENOTFOUND, "no delivery %s: deliveries are kept for %s (the retention), so an older one has been removed",
		id, s.retention)
}

// pastRetention is what a recover says when since reaches back beyond the
// retention: the deliveries created before the cutoff are gone.
func (s *Service) pastRetention(since time.Time) string {
	if s.retention <= 0 {
		return ""
	}
	cutoff := s.now().Add(-s.retention)
	if !since.Before(cutoff) {
		return ""
	}
	return fmt.Sprintf("deliveries created before %s are past the retention (%s) and have been removed; only later ones were recovered",
		cutoff.UTC().Format(time.RFC3339), s.retention)
}
