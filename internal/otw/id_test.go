package otw

import (
	"strings"
	"testing"
	"time"
)

// NewIDs makes the IDs NewID makes: the prefix, the time's 10 digits, 16
// random ones; all different, and none sharing bytes with another.
func TestNewIDs(t *testing.T) {
	now := time.UnixMilli(1700000000123)
	one := NewID("evt_", now)
	ids := NewIDs("evt_", now, 50)
	if len(ids) != 50 {
		t.Fatalf("%d IDs, want 50", len(ids))
	}
	seen := map[string]bool{}
	for _, id := range ids {
		if len(id) != len(one) || id[:4+10] != one[:4+10] {
			t.Fatalf("%q is not like %q", id, one)
		}
		if strings.Trim(id[4:], crockford) != "" {
			t.Fatalf("%q is not base32", id)
		}
		if seen[id] {
			t.Fatalf("%q twice", id)
		}
		seen[id] = true
	}
	if got := NewIDs("evt_", now, 0); len(got) != 0 {
		t.Fatalf("NewIDs of 0: %q", got)
	}
}

// The ULID of a known time and randomness, as the specification spells it.
func TestAppendID(t *testing.T) {
	rnd := []byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}
	got := string(appendID(nil, "x_", time.UnixMilli(0), rnd))
	if want := "x_0000000000ZZZZZZZZZZZZZZZZ"; got != want {
		t.Fatalf("%s, want %s", got, want)
	}
	got = string(appendID(nil, "", time.UnixMilli(1<<48-1), make([]byte, 10)))
	if want := "7ZZZZZZZZZ0000000000000000"; got != want {
		t.Fatalf("%s, want %s", got, want)
	}
}

func BenchmarkNewID(b *testing.B) {
	b.ReportAllocs()
	now := time.Now()
	for b.Loop() {
		NewID("evt_", now)
	}
}

func BenchmarkNewIDs100(b *testing.B) {
	b.ReportAllocs()
	now := time.Now()
	for b.Loop() {
		NewIDs("evt_", now, 100)
	}
}
