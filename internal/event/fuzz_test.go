package event

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/onetalk/onetalk-webhooks/internal/otw"
)

// FuzzParse holds Parse to its promises on any input: it never panics, it
// fails only with one of its three codes, and what it accepts it returns
// as json.Compact would, in a form it accepts again unchanged.
func FuzzParse(f *testing.F) {
	for _, name := range []string{imsFile, failedFile, caseFile} {
		s := example(f, name)
		f.Add([]byte(s))
		f.Add(compacted(f, s))
	}
	cr := example(f, caseFile)
	f.Add([]byte(edit(f, cr, `"customFields"`, `"customField"`)))
	f.Add([]byte(edit(f, cr, `"topicID": 1`, `"topicID": "1"`)))
	f.Add([]byte(`{"caseResolved":{"caseID":"\u0063","channelType":"","channelID":"","resolvedTime":0,"x":[1.0e3,{"a":null}]},"organizationID":1,"type":"case_resolved"}`))
	f.Add([]byte(`{"type":"integration_message_status","type":1}`))
	f.Add([]byte(`{"a":"\"\\"}`))
	f.Add([]byte(`[]`))

	f.Fuzz(func(t *testing.T, in []byte) {
		got, err := Parse(in)
		if err != nil {
			var e *otw.Error
			if !errors.As(err, &e) {
				t.Fatalf("error %v is a %T", err, err)
			}
			switch e.Code {
			case otw.EMALFORMED, otw.ETOOLARGE:
			case otw.EINVALID:
				if len(e.Fields) == 0 {
					t.Fatalf("EINVALID names no field: %v", err)
				}
			default:
				t.Fatalf("code %q: %v", e.Code, err)
			}
			if json.Valid(in) && len(in) <= MaxEventBytes && bytes.TrimSpace(in)[0] == '{' && e.Code != otw.EINVALID {
				t.Fatalf("a JSON object gets %q: %v", e.Code, err)
			}
			return
		}
		if !json.Valid(got.Body) {
			t.Fatalf("Body is not JSON: %s", got.Body)
		}
		var want bytes.Buffer
		if err := json.Compact(&want, in); err != nil || !bytes.Equal(got.Body, want.Bytes()) {
			t.Fatalf("Body %s is not Compact(input) %s (%v)", got.Body, want.Bytes(), err)
		}
		again, err := Parse(got.Body)
		if err != nil {
			t.Fatalf("Parse(Body): %v", err)
		}
		if again.OrganizationID != got.OrganizationID || again.Type != got.Type || again.OrderKey != got.OrderKey || !bytes.Equal(again.Body, got.Body) {
			t.Fatalf("Parse(Body) = %+v, want %+v", again, got)
		}
		if got.OrganizationID <= 0 || !Known(got.Type) || len(got.OrderKey) < 3 {
			t.Fatalf("accepted with %+v", got)
		}
	})
}

// FuzzCompact holds appendCompact to json.Compact: it takes only what
// json.Compact takes and gives the same bytes.
func FuzzCompact(f *testing.F) {
	for _, name := range []string{imsFile, failedFile, caseFile} {
		f.Add([]byte(example(f, name)))
	}
	for _, s := range []string{
		``, ` `, `0`, `-0`, `01`, `-`, `1.`, `.5`, `1e`, `1E+5`, `-0.0e-0`, `1.5e3x`, `tru`, `true `, `nulls`, `[1,]`, `[,1]`, `{"a"}`,
		`{"a":1,}`, `{,}`, `{"a" : [ 1 , 2 ] , "b" : { } }`, "\"\x00\"", "\"\x7f\xff\"", `"\u00e9\uD83D\uDE00"`, `"\u00g0"`, `"\x"`, `"\/"`,
		`"abc`, `"\`, `"\u12"`, " \t\r\n[ \"a\\\"b\" ] \n", "\v1", strings.Repeat("[", maxDepth) + strings.Repeat("]", maxDepth),
		strings.Repeat("[", maxDepth+1) + strings.Repeat("]", maxDepth+1),
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		got, ok := appendCompact(nil, in)
		var want bytes.Buffer
		err := json.Compact(&want, in)
		if ok != (err == nil) {
			t.Fatalf("appendCompact ok %v, json.Compact error %v", ok, err)
		}
		if ok && !bytes.Equal(got, want.Bytes()) {
			t.Fatalf("appendCompact\n got %q\nwant %q", got, want.Bytes())
		}
	})
}
