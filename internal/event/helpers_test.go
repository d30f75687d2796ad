package event

import (
	"bytes"
	"encoding/json"
	"errors"
	"io/fs"
	"slices"
	"strings"
	"testing"

	"github.com/onetalk/onetalk-webhooks/internal/otw"
	"github.com/onetalk/onetalk-webhooks/webhook"
)

// example returns the text of one of webhook.Examples.
func example(t testing.TB, name string) string {
	t.Helper()
	b, err := fs.ReadFile(webhook.Examples, name)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

const (
	imsFile    = "integration_message_status.json"
	failedFile = "integration_message_status_failed.json"
	caseFile   = "case_resolved.json"
)

// edit returns s with old replaced by new, failing if old is not in s
// exactly once: a test whose edit missed would test the unedited example.
func edit(t testing.TB, s, old, new string) string {
	t.Helper()
	if n := strings.Count(s, old); n != 1 {
		t.Fatalf("edit: %q occurs %d times", old, n)
	}
	return strings.Replace(s, old, new, 1)
}

func compacted(t testing.TB, s string) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := json.Compact(&buf, []byte(s)); err != nil {
		t.Fatalf("compact: %v", err)
	}
	return buf.Bytes()
}

// asError returns err as an *otw.Error, failing the test if it is not one.
func asError(t testing.TB, err error) *otw.Error {
	t.Helper()
	var e *otw.Error
	if !errors.As(err, &e) {
		t.Fatalf("error %v (%T) is not an *otw.Error", err, err)
	}
	return e
}

// fieldNames returns the sorted paths an error names.
func fieldNames(e *otw.Error) []string {
	var names []string
	for _, f := range e.Fields {
		names = append(names, f.Field)
	}
	slices.Sort(names)
	return names
}
