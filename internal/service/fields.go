package service

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/onetalk/onetalk-webhooks/internal/event"
	"github.com/onetalk/onetalk-webhooks/internal/otw"
)

// fields decodes a management body, a JSON object, into its members so
// that each can be checked and named on its own. What encoding/json would
// let pass silently is refused, each in c naming the member: bytes that
// are not UTF-8 (RFC 8259 requires it; encoding/json would turn them into
// U+FFFD), a member twice (encoding/json keeps the last, other parsers the
// first) and a member the body does not have (a misspelt optional field
// would otherwise be saved as its default). A body that is not one object
// is an error of its own.
func (c *checker) fields(body []byte, known ...string) (map[string]json.RawMessage, error) {
	trimmed := bytes.TrimLeft(body, " \t\r\n")
	if len(trimmed) == 0 {
		return nil, otw.Errorf(otw.EMALFORMED, "the body is empty: send a JSON object")
	}
	var syn *json.SyntaxError
	if err := json.Unmarshal(body, new(json.RawMessage)); errors.As(err, &syn) {
		return nil, otw.Errorf(otw.EMALFORMED, "malformed JSON at byte %d: %v", syn.Offset, err)
	} else if err != nil {
		return nil, otw.Errorf(otw.EMALFORMED, "malformed JSON: %v", err)
	}
	if trimmed[0] != '{' {
		return nil, otw.Errorf(otw.EMALFORMED, "the body must be a JSON object, not %s", event.JSONKind(trimmed[0]))
	}
	checkUTF8 := !utf8.Valid(body)
	m := make(map[string]json.RawMessage)
	var order []string
	dec := json.NewDecoder(bytes.NewReader(body))
	if _, err := dec.Token(); err != nil { // '{'
		return nil, otw.Errorf(otw.EMALFORMED, "malformed JSON: %v", err)
	}
	for dec.More() {
		start := dec.InputOffset()
		tok, err := dec.Token()
		if err != nil {
			return nil, otw.Errorf(otw.EMALFORMED, "malformed JSON: %v", err)
		}
		// The bytes from the last value to the key's closing quote: commas
		// and white space besides the key, all ASCII.
		rawKey := body[start:dec.InputOffset()]
		key := tok.(string)
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return nil, otw.Errorf(otw.EMALFORMED, "malformed JSON: %v", err)
		}
		switch {
		case checkUTF8 && !utf8.Valid(rawKey):
			c.fail(key, "the name is not valid UTF-8: JSON text must be UTF-8")
			continue
		case checkUTF8 && !utf8.Valid(raw):
			c.fail(key, "is not valid UTF-8: JSON text must be UTF-8")
		}
		if _, dup := m[key]; dup {
			c.fail(key, "appears more than once: send it once")
			continue
		}
		m[key] = raw
		order = append(order, key)
	}
	for _, key := range order {
		if !slices.Contains(known, key) {
			c.fail(key, "%s", unknownField(key, known))
		}
	}
	return m, nil
}

// unknownField words the refusal of a member that a body does not have,
// suggesting the known one it most likely meant.
func unknownField(key string, known []string) string {
	if s := suggest(key, known); s != "" {
		return fmt.Sprintf("unknown field %s (did you mean %s?)", key, s)
	}
	return fmt.Sprintf("unknown field %s; the fields are %s", key, strings.Join(known, ", "))
}

// suggest returns the known name that key most likely misspells: the same
// but for case, '_' and '-' (subscribed_events), or at most two edits away
// (subscribedEvent); "" when none is that close.
func suggest(key string, known []string) string {
	norm := func(s string) string {
		return strings.ToLower(strings.NewReplacer("_", "", "-", "", " ", "").Replace(s))
	}
	best, bestDist := "", 3
	for _, k := range known {
		if norm(k) == norm(key) {
			return k
		}
		if d := editDistance(strings.ToLower(k), strings.ToLower(key)); d < bestDist {
			best, bestDist = k, d
		}
	}
	return best
}

// editDistance is the Levenshtein distance of a and b, in bytes: names are
// ASCII, and an odd key only costs a worse suggestion.
func editDistance(a, b string) int {
	prev, cur := make([]int, len(b)+1), make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
