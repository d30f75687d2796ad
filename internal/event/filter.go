package event

import (
	"encoding/json"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/onetalk/onetalk-webhooks/internal/otw"
)

// A webhook's filters (otw.Filters) name fields of a type's payload object
// by path: a field of the object (status), or a field of an object within
// it, dot-separated (contact.fullName). Only fields holding one value can
// be filtered: strings, numbers and booleans, not arrays (labels) nor the
// maps of custom fields, whose keys are the organization's own.

// FilterableField is a field a filter may name.
type FilterableField struct {
	Path string
	// Enum lists the values the field takes, when they are known.
	Enum []string
}

// filterable holds each type's filterable fields, in the order of the
// rules, built once.
var filterable = func() (out [len(eventTypes)][]FilterableField) {
	var walk func(n int, prefix string, fields []field)
	walk = func(n int, prefix string, fields []field) {
		for _, f := range fields {
			switch f.kind {
			case kindObject:
				walk(n, prefix+f.name+".", f.fields)
			case kindString, kindNonEmptyString, kindEnum, kindInteger, kindBool, kindStringOrNumber:
				out[n] = append(out[n], FilterableField{Path: prefix + f.name, Enum: f.enum})
			}
		}
	}
	for n := range eventTypes {
		walk(n, "", eventTypes[n].fields)
	}
	return out
}()

// FilterableFields returns the fields of the type's payload a filter may
// name, nil for an unknown type. The slice is shared: do not change it.
func FilterableFields(eventType string) []FilterableField {
	t := lookupType(eventType)
	if t == nil {
		return nil
	}
	return filterable[typeIndex(t)]
}

// LookupFilterable returns the filterable field at path of the type.
func LookupFilterable(eventType, path string) (FilterableField, bool) {
	for _, f := range FilterableFields(eventType) {
		if f.Path == path {
			return f, true
		}
	}
	return FilterableField{}, false
}

// FilterValue is how a value is compared: a string as it is, a number by
// its value (12, 12.0 and 1.2e1 are all "12"), a boolean as "true" or
// "false". ok is false for anything else.
func FilterValue(raw json.RawMessage) (value string, ok bool) {
	if len(raw) == 0 {
		return "", false
	}
	switch c := raw[0]; {
	case c == '"':
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return "", false
		}
		return s, true
	case c == '-' || (c >= '0' && c <= '9'):
		return canonicalNumber(string(raw)), true
	}
	return "", false
}

// canonicalNumber spells a JSON number so that equal values are equal
// strings: digits as they are (JSON has no leading zeros), else the
// shortest form of the float, a whole one without fraction or exponent.
func canonicalNumber(t string) string {
	digits := strings.TrimPrefix(t, "-")
	if digits != "" && strings.Trim(digits, "0123456789") == "" {
		if digits == "0" {
			return "0" // -0 too
		}
		return t
	}
	f, err := strconv.ParseFloat(t, 64)
	if err != nil {
		return t
	}
	if f == math.Trunc(f) && math.Abs(f) < 1<<53 {
		return strconv.FormatInt(int64(f), 10)
	}
	return strconv.FormatFloat(f, 'g', -1, 64)
}

// Filter is a webhook's filters compiled for matching events: built once
// per filters read, it matches each event without allocating (but for a
// field whose value is written with escapes).
type Filter struct {
	types [len(eventTypes)][]condition
}

type condition struct {
	path   []string
	values []string
}

// CompileFilter compiles filters; nil when they filter nothing, which
// matches every event. Types and paths the rules do not know are kept:
// the API refuses them, and a path that is not in an event never holds.
func CompileFilter(filters otw.Filters) *Filter {
	var f Filter
	some := false
	for typeName, fields := range filters {
		t := lookupType(typeName)
		if t == nil || len(fields) == 0 {
			continue
		}
		n := typeIndex(t)
		for path, values := range fields {
			f.types[n] = append(f.types[n], condition{path: strings.Split(path, "."), values: slices.Clone(values)})
			some = true
		}
		// Map order is random; a fixed one makes a compiled filter's
		// behavior (and cost) the same every time.
		slices.SortFunc(f.types[n], func(a, b condition) int {
			return strings.Compare(strings.Join(a.path, "."), strings.Join(b.path, "."))
		})
	}
	if !some {
		return nil
	}
	return &f
}

// Match reports whether the event of the type, body as stored (compacted,
// as Parse returns it), passes the filter. A nil filter passes everything,
// as does a type without conditions.
func (f *Filter) Match(eventType string, body []byte) bool {
	if f == nil {
		return true
	}
	t := lookupType(eventType)
	if t == nil {
		return true
	}
	conds := f.types[typeIndex(t)]
	if len(conds) == 0 {
		return true
	}
	if len(body) < 2 || body[0] != '{' {
		return false
	}
	data, _ := memberValue(body, 0, t.object)
	if data < 0 || body[data] != '{' {
		return false
	}
	for i := range conds {
		if !conds[i].holds(body, data) {
			return false
		}
	}
	return true
}

// holds reports whether the field at c.path of the object at b[obj] has
// one of c.values.
func (c *condition) holds(b []byte, obj int) bool {
	v := obj
	for k, name := range c.path {
		if k > 0 && b[v] != '{' {
			return false
		}
		if v, _ = memberValue(b, v, name); v < 0 {
			return false
		}
	}
	switch c0 := b[v]; {
	case c0 == '"':
		end, escaped := skipString(b, v)
		s := b[v+1 : end-1]
		if escaped {
			var d string
			if json.Unmarshal(b[v:end], &d) != nil {
				return false
			}
			return slices.Contains(c.values, d)
		}
		return oneOf(s, c.values)
	case c0 == 't':
		return slices.Contains(c.values, "true")
	case c0 == 'f':
		return slices.Contains(c.values, "false")
	case c0 == '-' || (c0 >= '0' && c0 <= '9'):
		t := b[v:skipNumber(b, v)]
		if allDigits(t) {
			return oneOf(t, c.values) // the common case: digits compare as they are
		}
		return slices.Contains(c.values, canonicalNumber(string(t)))
	}
	return false // null, an object or an array
}

func allDigits(t []byte) bool {
	for _, c := range t {
		if c < '0' || c > '9' {
			return false
		}
	}
	return len(t) > 0
}

// memberValue returns where the value of the member name of the compacted
// object at b[obj] starts and ends, or -1, -1. A name written with
// escapes is decoded before it is compared.
func memberValue(b []byte, obj int, name string) (int, int) {
	j := obj + 1
	for {
		if j >= len(b) || b[j] != '"' {
			return -1, -1 // the end of the object ({} too)
		}
		end, escaped := skipString(b, j)
		v := end + 1
		next := skipRaw(b, v)
		key := b[j+1 : end-1]
		if escaped {
			var d string
			if json.Unmarshal(b[j:end], &d) == nil && d == name {
				return v, next
			}
		} else if string(key) == name {
			return v, next
		}
		if next >= len(b) || b[next] == '}' {
			return -1, -1
		}
		j = next + 1
	}
}
