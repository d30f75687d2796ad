package service

import (
	"bytes"
	"encoding/json"
	"slices"
	"strconv"
	"strings"

	"github.com/onetalk/onetalk-webhooks/internal/event"
	"github.com/onetalk/onetalk-webhooks/internal/otw"
)

// Limits of a webhook's filters: what a person sets in a form, with room
// to spare; beyond them is a mistake, and every publish would pay for it.
const (
	maxFilterValues = 100 // per field
	maxFilterValue  = 200 // bytes per value
)

// parseFilters reads the optional filters: per subscribed event type, an
// object of field paths (event.FilterableFields) each with a non-empty
// array of strings or numbers. A PUT replaces the settings, so leaving
// them out (or null) saves none. Every bad part is named by its path.
func parseFilters(c *checker, raw json.RawMessage, subscribed []string) otw.Filters {
	if raw == nil || string(raw) == "null" {
		return nil
	}
	types, ok := members(c, "filters", raw)
	if !ok {
		c.fail("filters", "must be an object of event types, each an object of fields and the values they may take")
		return nil
	}
	out := otw.Filters{}
	for _, t := range types {
		name := "filters." + t.key
		switch {
		case !event.Known(t.key):
			c.fail(name, "unknown event type %q; the types are %s", t.key, knownTypes())
			continue
		case !slices.Contains(subscribed, t.key):
			c.fail(name, "the webhook is not subscribed to %s: subscribe to it, or leave its filters out", t.key)
			continue
		}
		fields, ok := members(c, name, t.value)
		if !ok {
			c.fail(name, "must be an object of fields and the values they may take")
			continue
		}
		if len(fields) == 0 {
			c.fail(name, "name at least one field, or leave the type out to receive all of its events")
			continue
		}
		conds := map[string][]string{}
		for _, f := range fields {
			if values, ok := parseFilterField(c, t.key, name+"."+f.key, f.key, f.value); ok {
				conds[f.key] = values
			}
		}
		out[t.key] = conds
	}
	return out
}

// parseFilterField reads the values of one field of a type's filter.
func parseFilterField(c *checker, eventType, name, path string, raw json.RawMessage) ([]string, bool) {
	field, known := event.LookupFilterable(eventType, path)
	if !known {
		var paths []string
		for _, f := range event.FilterableFields(eventType) {
			paths = append(paths, f.Path)
		}
		if s := suggest(path, paths); s != "" {
			c.fail(name, "unknown field %s of %s (did you mean %s?)", path, eventType, s)
		} else {
			c.fail(name, "unknown field %s of %s; the fields are %s", path, eventType, strings.Join(paths, ", "))
		}
		return nil, false
	}
	var items []json.RawMessage
	if err := json.Unmarshal(raw, &items); err != nil || bytes.TrimSpace(raw)[0] != '[' {
		c.fail(name, "must be an array of the values the field may take")
		return nil, false
	}
	if len(items) == 0 {
		c.fail(name, "list at least one value, or leave the field out")
		return nil, false
	}
	if len(items) > maxFilterValues {
		c.fail(name, "lists %d values, more than the %d allowed", len(items), maxFilterValues)
		return nil, false
	}
	values := make([]string, 0, len(items))
	ok := true
	for i, item := range items {
		at := name + "[" + strconv.Itoa(i) + "]"
		v, isValue := event.FilterValue(item)
		switch {
		case !isValue:
			c.fail(at, "must be a string or a number, not %s", event.JSONKind(bytes.TrimSpace(item)[0]))
			ok = false
		case len(v) > maxFilterValue:
			c.fail(at, "is longer than %d bytes", maxFilterValue)
			ok = false
		case field.Enum != nil && !slices.Contains(field.Enum, v):
			c.fail(at, "%s takes %s, never %q", path, strings.Join(field.Enum, ", "), v)
			ok = false
		case !slices.Contains(values, v):
			values = append(values, v)
		}
	}
	return values, ok
}

type member struct {
	key   string
	value json.RawMessage
}

// members decodes an object's members in order, naming (under prefix) a
// member sent twice, which encoding/json would silently keep the last of;
// ok is false when raw is not an object.
func members(c *checker, prefix string, raw json.RawMessage) ([]member, bool) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || raw[0] != '{' {
		return nil, false
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	if _, err := dec.Token(); err != nil {
		return nil, false
	}
	var out []member
	seen := map[string]bool{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, false
		}
		key, _ := tok.(string)
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return nil, false
		}
		if seen[key] {
			c.fail(prefix+"."+key, "appears more than once: send it once")
			continue
		}
		seen[key] = true
		out = append(out, member{key, v})
	}
	return out, true
}
