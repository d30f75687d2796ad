package service

import (
	"context"
	"time"
)

// RevokeSession signs out the web UI session id before it expires, on
// every node.
func (s *Service) RevokeSession(ctx context.Context, id []byte, expires time.Time) error {
	return s.store.RevokeSession(ctx, id, expires, s.now())
}

// SessionRevoked reports whether the web UI session id was signed out.
func (s *Service) SessionRevoked(ctx context.Context, id []byte) (bool, error) {
	return s.store.SessionRevoked(ctx, id)
}
