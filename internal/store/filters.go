package store

import (
	"encoding/json"
	"sync"

	"github.com/onetalk/onetalk-webhooks/internal/event"
	"github.com/onetalk/onetalk-webhooks/internal/otw"
)

// Both drivers store a webhook's filters as JSON (NULL for none) and read
// them with each route, once per insert. Compiling them costs far more
// than matching, so the compiled filter is kept by its JSON: a webhook's
// filters are compiled once per save, not per publish, and a webhook
// without filters costs nothing.

// maxCompiled bounds the filters kept compiled; past it the cache starts
// over (a compile is microseconds, the bound only caps memory).
const maxCompiled = 10000

var compiled struct {
	sync.RWMutex
	m map[string]*event.Filter
}

// CompiledFilter returns the filter stored as raw ("" or "null" for none).
func CompiledFilter(raw string) (*event.Filter, error) {
	if raw == "" || raw == "null" || raw == "{}" {
		return nil, nil
	}
	compiled.RLock()
	f, ok := compiled.m[raw]
	compiled.RUnlock()
	if ok {
		return f, nil
	}
	filters, err := DecodeFilters(raw)
	if err != nil {
		return nil, err
	}
	f = event.CompileFilter(filters)
	compiled.Lock()
	if compiled.m == nil || len(compiled.m) >= maxCompiled {
		compiled.m = make(map[string]*event.Filter)
	}
	compiled.m[raw] = f
	compiled.Unlock()
	return f, nil
}

// EncodeFilters is filters as stored: nil (NULL) for none.
func EncodeFilters(f otw.Filters) (any, error) {
	if len(f) == 0 {
		return nil, nil
	}
	b, err := json.Marshal(f)
	if err != nil {
		return nil, err
	}
	return string(b), nil
}

// DecodeFilters reads filters as stored; none is an empty map, so that
// the API shows {}.
func DecodeFilters(raw string) (otw.Filters, error) {
	f := otw.Filters{}
	if raw == "" || raw == "null" {
		return f, nil
	}
	if err := json.Unmarshal([]byte(raw), &f); err != nil {
		return nil, otw.Errorf(otw.EINTERNAL, "stored webhook filters do not decode: %v", err)
	}
	return f, nil
}
