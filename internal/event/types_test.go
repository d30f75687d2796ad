package event

import (
	"bytes"
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/onetalk/onetalk-webhooks/internal/otw"
)

func TestTypes(t *testing.T) {
	types := Types()
	var names []string
	for _, typ := range types {
		names = append(names, typ.Name)
		if !Known(typ.Name) {
			t.Errorf("Known(%q) = false", typ.Name)
		}
		if typ.Description == "" {
			t.Errorf("%s has no description", typ.Name)
		}
		if want := example(t, typ.Name+".json"); string(typ.Example) != want {
			t.Errorf("%s: Example is not webhook.Examples %s.json", typ.Name, typ.Name)
		}
		if _, err := Parse(typ.Example); err != nil {
			t.Errorf("%s: the example does not parse: %v", typ.Name, err)
		}
	}
	if want := []string{TypeIntegrationMessageStatus, TypeCaseResolved}; !slices.Equal(names, want) {
		t.Errorf("Types() = %q, want %q", names, want)
	}
	for _, name := range []string{"", "case", "Case_Resolved", "integrationMessageStatus"} {
		if Known(name) {
			t.Errorf("Known(%q) = true", name)
		}
	}
	// What a caller does to its slice stays its own.
	types[0].Example[0] = 'X'
	if Types()[0].Example[0] == 'X' {
		t.Error("Types() hands out the shared bytes")
	}
}

func TestExample(t *testing.T) {
	for _, typ := range Types() {
		for _, org := range []int64{1, 42, otw.MaxOrganizationID} {
			got, err := Example(typ.Name, org)
			if err != nil {
				t.Fatalf("Example(%s, %d): %v", typ.Name, org, err)
			}
			ev, err := Parse(got)
			if err != nil {
				t.Fatalf("Example(%s, %d) does not parse: %v\n%s", typ.Name, org, err, got)
			}
			if ev.OrganizationID != org || ev.Type != typ.Name || !bytes.Equal(ev.Body, got) {
				t.Errorf("Example(%s, %d) parses as %+v", typ.Name, org, ev)
			}
			// Everything but the organizationID is the compacted example.
			want := compacted(t, string(typ.Example))
			orig, _ := Parse(typ.Example)
			want = bytes.Replace(want, []byte(`"organizationID":`+itoa(orig.OrganizationID)), []byte(`"organizationID":`+itoa(org)), 1)
			if !bytes.Equal(got, want) {
				t.Errorf("Example(%s, %d)\n got %s\nwant %s", typ.Name, org, got, want)
			}
		}
	}
	for _, tt := range []struct {
		typ   string
		org   int64
		field string
	}{{"nope", 1, "eventType"}, {TypeCaseResolved, 0, "organizationID"}, {TypeCaseResolved, -5, "organizationID"}} {
		_, err := Example(tt.typ, tt.org)
		e := asError(t, err)
		if e.Code != otw.EINVALID || len(e.Fields) != 1 || e.Fields[0].Field != tt.field {
			t.Errorf("Example(%q, %d) = %v, want EINVALID naming %s", tt.typ, tt.org, err, tt.field)
		}
	}
}

func itoa(n int64) string { b, _ := json.Marshal(n); return string(b) }

// TestSchemas holds each embedded JSON Schema to the validator's own rules:
// the same required fields, the same members and the same JSON types, so
// what GET /v1/event-types documents is what Parse does.
func TestSchemas(t *testing.T) {
	for n, typ := range Types() {
		t.Run(typ.Name, func(t *testing.T) {
			var schema map[string]any
			if err := json.Unmarshal(typ.Schema, &schema); err != nil {
				t.Fatalf("schema is not JSON: %v", err)
			}
			if got := schema["$schema"]; got != "https://json-schema.org/draft/2020-12/schema" {
				t.Errorf("$schema = %v", got)
			}
			if id, _ := schema["$id"].(string); !strings.HasSuffix(id, "/schemas/"+typ.Name+".json") {
				t.Errorf("$id = %q", id)
			}
			if schema["title"] != typ.Name {
				t.Errorf("title = %v", schema["title"])
			}
			et := &eventTypes[n]
			top := []field{
				{name: "type", required: true},
				{name: "organizationID", required: true},
				{name: et.object, kind: kindObject, required: true, fields: et.fields},
			}
			compareSchema(t, schema, "", top, schema)
			props := schema["properties"].(map[string]any)
			if c := props["type"].(map[string]any)["const"]; c != typ.Name {
				t.Errorf("properties.type.const = %v", c)
			}
			if org := props["organizationID"].(map[string]any); org["type"] != "integer" || org["minimum"] != 1.0 || org["maximum"] != float64(otw.MaxOrganizationID) {
				t.Errorf("properties.organizationID = %v, want an integer from 1 to 2^53-1", org)
			}
		})
	}
}

// compareSchema compares the object schema node with fields, recursively.
func compareSchema(t *testing.T, node map[string]any, path string, fields []field, root map[string]any) {
	t.Helper()
	var required []string
	for _, f := range fields {
		if f.required {
			required = append(required, f.name)
		}
	}
	var schemaRequired []string
	for _, r := range asSlice(node["required"]) {
		schemaRequired = append(schemaRequired, r.(string))
	}
	slices.Sort(required)
	slices.Sort(schemaRequired)
	if !slices.Equal(required, schemaRequired) {
		t.Errorf("%s: schema requires %q, Parse requires %q", orRoot(path), schemaRequired, required)
	}
	props, _ := node["properties"].(map[string]any)
	if len(props) != len(fields) {
		t.Errorf("%s: schema has %d properties, Parse checks %d", orRoot(path), len(props), len(fields))
	}
	for _, f := range fields {
		p := f.name
		if path != "" {
			p = path + "." + f.name
		}
		prop, ok := props[f.name].(map[string]any)
		if !ok {
			t.Errorf("%s: not in the schema", p)
			continue
		}
		prop = resolve(t, prop, root)
		if f.kind == 0 {
			continue // type and organizationID, checked by the caller
		}
		want := schemaTypes(f)
		var got []string
		switch ty := prop["type"].(type) {
		case string:
			got = []string{ty}
		default:
			for _, s := range asSlice(ty) {
				got = append(got, s.(string))
			}
		}
		slices.Sort(got)
		if !slices.Equal(got, want) {
			t.Errorf("%s: schema type %q, Parse takes %q", p, got, want)
		}
		if f.enum != nil {
			var enum []string
			for _, e := range asSlice(prop["enum"]) {
				enum = append(enum, e.(string))
			}
			if !slices.Equal(enum, f.enum) {
				t.Errorf("%s: schema enum %q, Parse takes %q", p, enum, f.enum)
			}
		}
		if min, ok := prop["minLength"]; ok != (f.kind == kindNonEmptyString) || (ok && min != 1.0) {
			t.Errorf("%s: minLength %v, but non-empty is %v", p, min, f.kind == kindNonEmptyString)
		}
		if min, ok := prop["minimum"]; ok != (f.kind == kindInteger) || (ok && min != 0.0) {
			t.Errorf("%s: minimum %v, but an integer ≥ 0 is %v", p, min, f.kind == kindInteger)
		}
		switch f.kind {
		case kindObject:
			compareSchema(t, prop, p, f.fields, root)
		case kindObjectMap:
			entry, _ := prop["additionalProperties"].(map[string]any)
			if entry == nil {
				t.Errorf("%s: no additionalProperties", p)
				continue
			}
			compareSchema(t, resolve(t, entry, root), p+".*", f.fields, root)
		case kindStringArray:
			if items, _ := prop["items"].(map[string]any); items["type"] != "string" {
				t.Errorf("%s: items %v, want strings", p, prop["items"])
			}
		}
	}
}

// schemaTypes returns the JSON Schema types that Parse takes for f, sorted.
func schemaTypes(f field) []string {
	types := map[kind][]string{
		kindString:         {"string"},
		kindNonEmptyString: {"string"},
		kindEnum:           {"string"},
		kindInteger:        {"integer"},
		kindBool:           {"boolean"},
		kindStringOrNumber: {"number", "string"},
		kindStringArray:    {"array"},
		kindObject:         {"object"},
		kindObjectMap:      {"object"},
	}[f.kind]
	if !f.required {
		types = append(slices.Clone(types), "null")
	}
	slices.Sort(types)
	return types
}

// resolve follows a "$ref" to "#/$defs/…".
func resolve(t *testing.T, node, root map[string]any) map[string]any {
	ref, ok := node["$ref"].(string)
	if !ok {
		return node
	}
	name, ok := strings.CutPrefix(ref, "#/$defs/")
	def, _ := root["$defs"].(map[string]any)[name].(map[string]any)
	if !ok || def == nil {
		t.Fatalf("$ref %q does not resolve", ref)
	}
	return def
}

func asSlice(v any) []any { s, _ := v.([]any); return s }

func orRoot(path string) string {
	if path == "" {
		return "(root)"
	}
	return path
}
