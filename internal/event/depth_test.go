package event

import (
	"slices"
	"strings"
	"testing"

	"github.com/onetalk/onetalk-webhooks/internal/otw"
)

// nested returns an object nested n levels deep, {"a":{"a":…1…}}, and the
// path of its innermost object below a field named at.
func nested(n int, at string) (value, innermost string) {
	return strings.Repeat(`{"a":`, n) + "1" + strings.Repeat("}", n), at + strings.Repeat(".a", n-1)
}

// An event may nest maxNesting levels, its own braces the first; one more
// is refused naming the field where the limit is crossed, once, however
// deep the input goes, and whether the depth is in an unknown field of
// the event, in its data object, or in an array.
func TestParseRefusesDeepNesting(t *testing.T) {
	ex := example(t, caseFile)
	inField := func(value string) string {
		return edit(t, ex, `"organizationID"`, `"x":`+value+`,"organizationID"`)
	}
	inData := func(value string) string {
		return edit(t, ex, `"caseResolved": {`, `"caseResolved": {"x":`+value+`,`)
	}

	ok, _ := nested(maxNesting-1, "x")
	if _, err := Parse([]byte(inField(ok))); err != nil {
		t.Fatalf("%d levels: %v", maxNesting, err)
	}
	okData, _ := nested(maxNesting-2, "caseResolved.x")
	if _, err := Parse([]byte(inData(okData))); err != nil {
		t.Fatalf("%d levels in data: %v", maxNesting, err)
	}

	deep, deepPath := nested(maxNesting, "x")
	deepest, _ := nested(9000, "x") // near encoding/json's own 10000
	deepData, deepDataPath := nested(maxNesting-1, "caseResolved.x")
	for _, tc := range []struct {
		name, in, field string
	}{
		{"one level more", inField(deep), deepPath},
		{"9000 levels", inField(deepest), deepPath},
		{"in the data object", inData(deepData), deepDataPath},
		{"arrays", inField(strings.Repeat("[", 5000) + strings.Repeat("]", 5000)), "x" + strings.Repeat("[0]", maxNesting-1)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse([]byte(tc.in))
			e := asError(t, err)
			if e.Code != otw.EINVALID || !slices.Equal(fieldNames(e), []string{tc.field}) {
				t.Fatalf("got %v %v, want EINVALID naming %s", e.Code, fieldNames(e), tc.field)
			}
			if want := "nests deeper than 64 levels"; e.Fields[0].Message != want {
				t.Fatalf("message %q, want %q", e.Fields[0].Message, want)
			}
		})
	}
}

// In a batch the limit counts from each event's braces, not the batch's
// brackets: what Parse takes alone, ParseBatch takes too.
func TestParseBatchNestingCountsFromTheEvent(t *testing.T) {
	ex := string(compacted(t, example(t, caseFile)))
	withDepth := func(n int) string {
		v, _ := nested(n, "")
		return edit(t, ex, `"organizationID"`, `"x":`+v+`,"organizationID"`)
	}
	if _, err := ParseBatch([]byte("[" + ex + "," + withDepth(maxNesting-1) + "]")); err != nil {
		t.Fatalf("%d levels in a batch: %v", maxNesting, err)
	}
	_, err := ParseBatch([]byte("[" + ex + "," + withDepth(maxNesting) + "]"))
	e := asError(t, err)
	_, path := nested(maxNesting, "[1].x")
	if e.Code != otw.EINVALID || !slices.Equal(fieldNames(e), []string{path}) {
		t.Fatalf("got %v %v, want EINVALID naming %s", e.Code, fieldNames(e), path)
	}
}
