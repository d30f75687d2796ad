package api

import (
	"encoding/json"
	"maps"
	"net/http"
	"net/http/httptest"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/onetalk/onetalk-webhooks/internal/event"
)

// openAPIDoc is the part of the document the tests read.
type openAPIDoc struct {
	OpenAPI    string                                 `json:"openapi"`
	Paths      map[string]map[string]openAPIOperation `json:"paths"`
	Components struct {
		Schemas map[string]json.RawMessage `json:"schemas"`
	} `json:"components"`
}

type openAPIOperation struct {
	OperationID string            `json:"operationId"`
	Parameters  []json.RawMessage `json:"parameters"`
	Responses   map[string]any    `json:"responses"`
	Security    *[]any            `json:"security"`
}

func parseOpenAPI(t *testing.T) openAPIDoc {
	t.Helper()
	var doc openAPIDoc
	if err := json.Unmarshal(openAPI, &doc); err != nil {
		t.Fatalf("openapi.json does not parse: %v", err)
	}
	if doc.OpenAPI != "3.1.0" {
		t.Errorf("openapi = %q, want 3.1.0", doc.OpenAPI)
	}
	return doc
}

// servedOutsideRegister are documented operations that the serve command
// mounts beside the API rather than Register: Prometheus metrics belong to
// the process, not to the API.
var servedOutsideRegister = []string{"GET /metrics"}

// placeholder fills a path parameter so that a request reaches the route.
var placeholder = regexp.MustCompile(`\{[^}]+\}`)

// Every documented operation reaches its own route on a mux set up by
// Register: not the /v1/ catch-all that answers 404, not a 405.
func TestEveryDocumentedOperationIsServed(t *testing.T) {
	doc := parseOpenAPI(t)
	mux := http.NewServeMux()
	New(Config{}).Register(mux)
	n := 0
	for path, ops := range doc.Paths {
		for method := range ops {
			op := strings.ToUpper(method) + " " + path
			if slices.Contains(servedOutsideRegister, op) {
				continue
			}
			n++
			req := httptest.NewRequest(strings.ToUpper(method), placeholder.ReplaceAllString(path, "1111"), nil)
			// Handler finds the route without running it: the walk needs no
			// store, and a 405 or the catch-all shows as another pattern.
			if _, pattern := mux.Handler(req); pattern != op {
				t.Errorf("documented %s reaches %q, not its own route", op, pattern)
			}
		}
	}
	if n < len(Routes()) {
		t.Errorf("the document has %d served operations, Register serves %d routes", n, len(Routes()))
	}
}

// Every route Register serves is documented: adding a route without
// documenting it fails here.
func TestEveryRouteIsDocumented(t *testing.T) {
	doc := parseOpenAPI(t)
	routes := Routes()
	if len(routes) == 0 {
		t.Fatalf("Routes() lists %d routes: %q", len(routes), routes)
	}
	for _, r := range routes {
		method, path, ok := strings.Cut(r, " ")
		if !ok {
			t.Errorf("route %q has no method: every route names one", r)
			continue
		}
		if _, ok := doc.Paths[path][strings.ToLower(method)]; !ok {
			t.Errorf("route %s is not in openapi.json", r)
		}
	}
}

// What the document promises of each operation: an operationId, its path
// parameters declared, a 401 on every route that takes a token, and $refs
// that resolve.
func TestOpenAPIOperationsAreComplete(t *testing.T) {
	doc := parseOpenAPI(t)
	var raw map[string]any
	if err := json.Unmarshal(openAPI, &raw); err != nil {
		t.Fatal(err)
	}
	ids := map[string]string{}
	for path, ops := range doc.Paths {
		for method, op := range ops {
			name := strings.ToUpper(method) + " " + path
			if op.OperationID == "" {
				t.Errorf("%s has no operationId", name)
			} else if other, dup := ids[op.OperationID]; dup {
				t.Errorf("%s and %s share operationId %s", name, other, op.OperationID)
			}
			ids[op.OperationID] = name
			for _, p := range placeholder.FindAllString(path, -1) {
				if !declaresParam(t, raw, op.Parameters, strings.Trim(p, "{}")) {
					t.Errorf("%s does not declare path parameter %s", name, p)
				}
			}
			public := op.Security != nil && len(*op.Security) == 0
			if strings.HasPrefix(path, "/v1/") == public {
				t.Errorf("%s: public %v, want every /v1 route to take a token and no other", name, public)
			}
			if _, ok := op.Responses["401"]; !public && !ok {
				t.Errorf("%s takes a token but documents no 401", name)
			}
			// A token is looked up in the database, and a database fault
			// answers 503.
			if _, ok := op.Responses["503"]; !public && !ok {
				t.Errorf("%s takes a token but documents no 503", name)
			}
		}
	}
	// A schema with an $id is a resource of its own (JSON Schema 2020-12,
	// which OpenAPI 3.1 uses): its "#/…" refs point into it, not into the
	// document. The event schemas are such resources.
	var walk func(v any, root map[string]any)
	walk = func(v any, root map[string]any) {
		switch v := v.(type) {
		case map[string]any:
			if _, ok := v["$id"]; ok {
				root = v
			}
			if ref, ok := v["$ref"].(string); ok && resolve(root, ref) == nil {
				t.Errorf("$ref %q resolves to nothing", ref)
			}
			for _, x := range v {
				walk(x, root)
			}
		case []any:
			for _, x := range v {
				walk(x, root)
			}
		}
	}
	walk(raw, raw)
}

func declaresParam(t *testing.T, raw map[string]any, params []json.RawMessage, name string) bool {
	for _, p := range params {
		var v map[string]any
		if err := json.Unmarshal(p, &v); err != nil {
			t.Fatal(err)
		}
		if ref, ok := v["$ref"].(string); ok {
			v, _ = resolve(raw, ref).(map[string]any)
		}
		if v["in"] == "path" && v["name"] == name && v["required"] == true {
			return true
		}
	}
	return false
}

// resolve follows a local JSON pointer such as #/components/schemas/Event.
func resolve(doc map[string]any, ref string) any {
	p, ok := strings.CutPrefix(ref, "#/")
	if !ok {
		return nil
	}
	var v any = doc
	for _, part := range strings.Split(p, "/") {
		m, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = m[strings.NewReplacer("~1", "/", "~0", "~").Replace(part)]
	}
	return v
}

// The event schemas in the document are the ones publishing validates
// against (event/schemas), member for member.
func TestOpenAPIEventSchemasAreTheValidatorsOwn(t *testing.T) {
	doc := parseOpenAPI(t)
	names := map[string]string{
		event.TypeIntegrationMessageStatus: "IntegrationMessageStatusEvent",
		event.TypeCaseResolved:             "CaseResolvedEvent",
	}
	for _, typ := range event.Types() {
		var want, got any
		if err := json.Unmarshal(typ.Schema, &want); err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(doc.Components.Schemas[names[typ.Name]], &got); err != nil {
			t.Fatalf("components.schemas.%s: %v", names[typ.Name], err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("components.schemas.%s differs from event/schemas/%s.json: copy it over", names[typ.Name], typ.Name)
		}
	}
}

func TestOpenAPIIsServedWithoutAToken(t *testing.T) {
	mux := http.NewServeMux()
	New(Config{}).Register(mux)
	rec := httptest.NewRecorder()
	mux.ServeHTTP(rec, httptest.NewRequest("GET", "/openapi.json", nil))
	if rec.Code != http.StatusOK || rec.Header().Get("Content-Type") != "application/json" {
		t.Fatalf("GET /openapi.json: %d %q, want 200 application/json", rec.Code, rec.Header().Get("Content-Type"))
	}
	var doc map[string]any
	if err := json.Unmarshal(rec.Body.Bytes(), &doc); err != nil || doc["openapi"] != "3.1.0" {
		t.Errorf("GET /openapi.json: not the OpenAPI 3.1 document (%v)", err)
	}
}

// The documented objects have the members the handlers write, no more and
// no fewer: a field added to an answer and not to the document (or the
// other way round) fails here.
func TestOpenAPISchemasMatchTheAnswers(t *testing.T) {
	doc := parseOpenAPI(t)
	var props func(raw json.RawMessage) []string
	props = func(raw json.RawMessage) []string {
		var s struct {
			Properties map[string]any
			AllOf      []json.RawMessage
		}
		if err := json.Unmarshal(raw, &s); err != nil {
			t.Fatal(err)
		}
		var names []string
		for name := range s.Properties {
			names = append(names, name)
		}
		for _, part := range s.AllOf {
			var ref struct {
				Ref string `json:"$ref"`
			}
			if json.Unmarshal(part, &ref); ref.Ref != "" {
				part = doc.Components.Schemas[strings.TrimPrefix(ref.Ref, "#/components/schemas/")]
			}
			names = append(names, props(part)...)
		}
		slices.Sort(names)
		return names
	}
	for schema, answer := range map[string]any{
		"Webhook":        webhookJSON{},
		"DeliveryDetail": deliveryDetailJSON{},
		"Attempt":        attemptJSON{},
	} {
		var members map[string]any
		b, _ := json.Marshal(answer)
		if err := json.Unmarshal(b, &members); err != nil {
			t.Fatal(err)
		}
		if schema == "DeliveryDetail" {
			// omitempty drops them from an empty answer.
			members["payload"], members["attempts"] = nil, nil
		}
		got := slices.Sorted(maps.Keys(members))
		if want := props(doc.Components.Schemas[schema]); !slices.Equal(got, want) {
			t.Errorf("%s: the handler writes %q, the document lists %q", schema, got, want)
		}
	}
}
