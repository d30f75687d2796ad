package main

import (
	"encoding/json"
	"strings"
	"syscall"
	"testing"
)

// serve --log-format json writes one JSON object per line, and every
// answer carries an X-Request-ID (the caller's, when it sends a sane one).
func TestJSONLogsAndRequestIDs(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	s := startServer(t, dir, "--log-format", "json", "--db", "sqlite:"+dir+"/otw.db")
	r := s.doWith("GET", "/healthz", "", nil, map[string]string{"X-Request-ID": "lb-42"})
	if got := r.Header.Get("X-Request-ID"); got != "lb-42" {
		t.Fatalf("X-Request-ID %q, want the caller's lb-42", got)
	}
	if got := s.do("GET", "/healthz", "", nil).Header.Get("X-Request-ID"); got == "" {
		t.Fatal("no X-Request-ID on an answer")
	}
	if err := s.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	<-s.exited
	lines := strings.Split(strings.TrimSpace(s.stderr.String()), "\n")
	if len(lines) == 0 || lines[0] == "" {
		t.Fatal("serve logged nothing")
	}
	for _, line := range lines {
		var v map[string]any
		if err := json.Unmarshal([]byte(line), &v); err != nil || v["msg"] == nil || v["level"] == nil {
			t.Fatalf("log line %q is not a JSON object with level and msg (%v)", line, err)
		}
	}
}
