package sqlite

import (
	"context"
	"strconv"
)

// FillUp caps the database at its current size plus room pages (PRAGMA
// max_page_count on the one writer connection), so that writes beyond
// fail as on a full disk: SQLITE_FULL. Free lifts the cap.
func (s *Store) FillUp(ctx context.Context, room int) error {
	var pages int64
	if err := s.w.QueryRowContext(ctx, `PRAGMA page_count`).Scan(&pages); err != nil {
		return err
	}
	_, err := s.w.ExecContext(ctx, `PRAGMA max_page_count = `+strconv.FormatInt(pages+int64(room), 10))
	return err
}

// Free lifts FillUp's cap.
func (s *Store) Free(ctx context.Context) error {
	_, err := s.w.ExecContext(ctx, `PRAGMA max_page_count = 4294967294`)
	return err
}
