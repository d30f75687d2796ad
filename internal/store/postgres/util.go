package postgres

import (
	"strings"
	"time"
)

func ms(t time.Time) int64 { return t.UnixMilli() }

func fromMs(v int64) time.Time { return time.UnixMilli(v).UTC() }

// text makes s storable in a TEXT column. SQLite keeps any bytes there;
// PostgreSQL refuses NUL and invalid UTF-8, and an error message can quote
// whatever a receiver sent. Losing such bytes beats losing the attempt.
func text(s string) string {
	return strings.ReplaceAll(strings.ToValidUTF8(s, "\uFFFD"), "\x00", "\uFFFD")
}
