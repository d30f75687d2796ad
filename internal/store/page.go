package store

import (
	"strconv"

	"github.com/onetalk/onetalk-webhooks/internal/otw"
)

// A list is paged by position: the seq or ID it is ordered by. The cursor
// of the next page is the position of the last item of a page, which the
// caller hands back without reading it.

// Page is one page of a list: at most Limit items after the position
// After (0: from the top).
type Page struct {
	After int64
	Limit int
}

// Page is the page p asks for; EINVALID naming the cursor when it is not
// one a page returned.
func (p PageParams) Page() (Page, error) {
	after, err := ParseCursor(p.Cursor)
	return Page{After: after, Limit: p.Limit}, err
}

// Page is the page of deliveries p asks for (see PageParams.Page).
func (p ListParams) Page() (Page, error) {
	return PageParams{Limit: p.Limit, Cursor: p.Cursor}.Page()
}

// ParseCursor reads the cursor a page of a list returned: the position to
// go on after, 0 for "" (from the top).
func ParseCursor(cursor string) (int64, error) {
	if cursor == "" {
		return 0, nil
	}
	pos, err := strconv.ParseInt(cursor, 10, 64)
	if err != nil || pos <= 0 {
		return 0, otw.Invalid("bad cursor", otw.FieldError{Field: "cursor", Message: "not a cursor this API returned"})
	}
	return pos, nil
}

// ParseOrgCursor reads a ListOrganizations cursor (see ParseCursor), for
// a caller to refuse a bad one before it asks.
func ParseOrgCursor(cursor string) (int64, error) { return ParseCursor(cursor) }

// Fetch is how many rows a list query asks for: one more than the page,
// whose coming says that there is a next page.
func (p Page) Fetch() int { return p.Limit + 1 }

// Rows are a list query's result rows, as database/sql and pgx both give
// them.
type Rows interface {
	Next() bool
	Scan(dest ...any) error
	Err() error
}

// CollectPage reads the rows a list query fetched (Fetch at most, in list
// order) with scan, which returns an item and its position, and returns
// the page and the cursor of the next one ("" on the last). It leaves
// rows open.
func CollectPage[T any](p Page, rows Rows, scan func(Rows) (T, int64, error)) ([]T, string, error) {
	page := make([]T, 0, p.Limit)
	var last int64
	for rows.Next() {
		if len(page) == p.Limit { // the extra row: a next page exists
			if len(page) == 0 {
				return page, "", nil
			}
			return page, strconv.FormatInt(last, 10), nil
		}
		item, pos, err := scan(rows)
		if err != nil {
			return nil, "", err
		}
		page, last = append(page, item), pos
	}
	return page, "", rows.Err()
}
