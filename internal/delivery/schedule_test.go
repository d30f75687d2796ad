package delivery

import (
	"net/http"
	"strings"
	"testing"
	"time"
)

func TestParseSchedule(t *testing.T) {
	got, err := ParseSchedule("5s, 5m,30m")
	if err != nil || len(got) != 3 || got[0] != 5*time.Second || got[2] != 30*time.Minute {
		t.Fatalf("ParseSchedule = %v, %v", got, err)
	}
	for _, bad := range []string{"", "5", "5s,,1m", "1,2", "-1s", "0s", "soon"} {
		if _, err := ParseSchedule(bad); err == nil {
			t.Errorf("ParseSchedule(%q) accepted", bad)
		} else if !strings.Contains(err.Error(), "durations such as 5s,1m,1h") {
			t.Errorf("ParseSchedule(%q): %q does not say what to write", bad, err)
		}
	}
}

func TestJitterStaysWithinTwentyPercent(t *testing.T) {
	lo, hi := time.Hour, time.Duration(0)
	for range 10000 {
		d := jitter(10 * time.Second)
		lo, hi = min(lo, d), max(hi, d)
	}
	if lo < 8*time.Second || hi > 12*time.Second {
		t.Fatalf("jitter of 10s ranged %s..%s, want within 8s..12s", lo, hi)
	}
	if hi-lo < 3*time.Second {
		t.Fatalf("jitter of 10s ranged only %s..%s: not spread", lo, hi)
	}
}

func TestRetryAfter(t *testing.T) {
	now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	for _, c := range []struct {
		value string
		want  time.Duration
		ok    bool
	}{
		{"2", 2 * time.Second, true},
		{"0", 0, true},
		{now.Add(90 * time.Second).Format(http.TimeFormat), 90 * time.Second, true},
		{now.Add(-time.Minute).Format(http.TimeFormat), 0, true},
		{"", 0, false},
		{"-5", 0, false},
		{"soon", 0, false},
	} {
		h := http.Header{}
		if c.value != "" {
			h.Set("Retry-After", c.value)
		}
		got, ok := retryAfter(h, now)
		if got != c.want || ok != c.ok {
			t.Errorf("Retry-After %q = %s, %v; want %s, %v", c.value, got, ok, c.want, c.ok)
		}
	}
}
