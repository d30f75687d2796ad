// Package event knows the events the platform publishes: their
// types, examples and JSON Schemas, and the validation that turns a
// published body into what every receiver gets, compacted and otherwise
// byte for byte as published.
package event

import (
	"bytes"
	"encoding/json"
	"io/fs"
	"slices"
	"strconv"

	"github.com/onetalk/onetalk-webhooks/internal/otw"
	"github.com/onetalk/onetalk-webhooks/webhook"
)

// Event types and size limits.
const (
	TypeIntegrationMessageStatus = "integration_message_status"
	TypeCaseResolved             = "case_resolved"

	MaxEventBytes = 256 << 10 // per event
	MaxBatchBytes = 5 << 20   // per batch body
	MaxBatchLen   = 1000      // events per batch
)

// Type describes one event type for GET /v1/event-types and the UI.
type Type struct {
	Name        string
	Description string
	Example     json.RawMessage // the file under webhook/examples/, as it is
	Schema      json.RawMessage // a JSON Schema (draft 2020-12) of what Parse accepts
}

// typeFiles holds what is read of files once, at start-up: a broken
// embedded file fails the program at once rather than a request later.
var typeFiles = func() (tf [len(eventTypes)]struct {
	example, schema []byte
	compact         []byte // the example compacted
	orgStart        int    // where its organizationID value starts…
	orgEnd          int    // …and ends in compact
}) {
	for n, t := range eventTypes {
		f := &tf[n]
		f.example = mustRead(webhook.Examples, t.example)
		f.schema = mustRead(webhook.Schemas, t.name+".json")
		var buf bytes.Buffer
		if err := json.Compact(&buf, f.example); err != nil {
			panic("event: example " + t.example + ": " + err.Error())
		}
		f.compact = buf.Bytes()
		f.orgStart, f.orgEnd = topLevelValue(f.compact, "organizationID")
		if f.orgStart < 0 {
			panic("event: example " + t.example + " has no organizationID")
		}
	}
	return tf
}()

func mustRead(files fs.FS, name string) []byte {
	b, err := fs.ReadFile(files, name)
	if err != nil {
		panic("event: " + err.Error())
	}
	return b
}

// Types returns every event type, integration_message_status first. The
// slice and its bytes are the caller's own.
func Types() []Type {
	types := make([]Type, len(eventTypes))
	for n, t := range eventTypes {
		types[n] = Type{
			Name:        t.name,
			Description: t.description,
			Example:     slices.Clone(typeFiles[n].example),
			Schema:      slices.Clone(typeFiles[n].schema),
		}
	}
	return types
}

// Known reports whether name is an event type.
func Known(name string) bool { return lookupType(name) != nil }

func lookupType(name string) *eventType {
	for n := range eventTypes {
		if eventTypes[n].name == name {
			return &eventTypes[n]
		}
	}
	return nil
}

// Example returns the example of the type, compacted, with its
// organizationID set to org and every other byte as in the example: what
// POST …/webhook/test delivers.
func Example(eventType string, org int64) ([]byte, error) {
	t := lookupType(eventType)
	if t == nil {
		return nil, otw.Invalid("unknown event type", otw.FieldError{Field: "eventType", Message: "must be one of " + TypeIntegrationMessageStatus + ", " + TypeCaseResolved})
	}
	if org <= 0 || org > otw.MaxOrganizationID {
		return nil, otw.Invalid("invalid organization", otw.FieldError{Field: "organizationID", Message: otw.OrganizationIDRule})
	}
	f := &typeFiles[typeIndex(t)]
	out := make([]byte, 0, len(f.compact)+20)
	out = append(out, f.compact[:f.orgStart]...)
	out = strconv.AppendInt(out, org, 10)
	return append(out, f.compact[f.orgEnd:]...), nil
}

// topLevelValue returns where the value of the member name of the compacted
// object b starts and ends, or -1, -1.
func topLevelValue(b []byte, name string) (int, int) {
	for j := 1; b[j] != '}'; {
		end, _ := skipString(b, j)
		v := end + 1
		next := skipRaw(b, v)
		if string(b[j+1:end-1]) == name {
			return v, next
		}
		if b[next] == '}' {
			break
		}
		j = next + 1
	}
	return -1, -1
}
