package event

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/onetalk/onetalk-webhooks/internal/otw"
)

// Parsed is one valid event.
type Parsed struct {
	OrganizationID int64
	Type           string
	// OrderKey is "m:"+trxID or "c:"+caseID: the events of one message or
	// one case reach a receiver in publish order.
	OrderKey string
	// Body is the input compacted exactly as json.Compact does: keys, their
	// order, string escapes and number spellings are unchanged.
	Body []byte
}

// Parse validates one event in the platform's format and returns it compacted.
// Its errors are *otw.Error: ETOOLARGE beyond MaxEventBytes, EMALFORMED for
// input that is not one JSON object, EINVALID naming every bad field.
func Parse(raw []byte) (Parsed, error) {
	if len(raw) > MaxEventBytes {
		return Parsed{}, otw.Errorf(otw.ETOOLARGE, "event is %d bytes, more than the %d allowed", len(raw), MaxEventBytes)
	}
	b, err := compact(raw)
	if err != nil {
		return Parsed{}, err
	}
	if b[0] != '{' {
		return Parsed{}, otw.Errorf(otw.EMALFORMED, "event must be a JSON object, not %s", JSONKind(b[0]))
	}
	p := getParser(b)
	defer putParser(p)
	ev, _ := p.event(0)
	if err := p.err("event is invalid"); err != nil {
		return Parsed{}, err
	}
	return ev, nil
}

// ParseBatch validates a JSON array of 1 to MaxBatchLen events, all or
// nothing: an error names the bad fields of every event, prefixed with its
// index ("[3].integrationMessageStatus.timestamp"). An element is too large
// when its compacted body is over MaxEventBytes (white space around it in
// the batch does not count). The bodies share one
// buffer, each capped so that appending to one cannot touch the next.
func ParseBatch(raw []byte) ([]Parsed, error) {
	if len(raw) > MaxBatchBytes {
		return nil, otw.Errorf(otw.ETOOLARGE, "batch is %d bytes, more than the %d allowed", len(raw), MaxBatchBytes)
	}
	b, err := compact(raw)
	if err != nil {
		return nil, err
	}
	if b[0] != '[' {
		return nil, otw.Errorf(otw.EMALFORMED, "batch must be a JSON array of events, not %s", JSONKind(b[0]))
	}
	if b[1] == ']' {
		return nil, otw.Invalid("batch is empty", otw.FieldError{Field: "batch", Message: "at least one event"})
	}
	p := getParser(b)
	defer putParser(p)
	p.base = 1 // every path starts with the event's index
	p.batchKeys = true
	var (
		events = make([]Parsed, 0, min(MaxBatchLen, 1+len(b)/400))
		large  []otw.FieldError
	)
	if cap(p.keyBuf) == 0 {
		// A key is "m:" or "c:" and an ID: sized once rather than grown.
		p.keyBuf = make([]byte, 0, 32*cap(events))
	}
	for i, n := 1, 0; ; n++ {
		if n == MaxBatchLen {
			return nil, otw.Invalid("batch is too long", otw.FieldError{Field: "batch", Message: fmt.Sprintf("at most %d events", MaxBatchLen)})
		}
		p.pushIndex(n)
		var end int
		if b[i] == '{' {
			var ev Parsed
			ev, end = p.event(i)
			events = append(events, ev)
			p.keyEnds = append(p.keyEnds, int32(len(p.keyBuf)))
		} else {
			p.fail("must be a JSON object")
			end = p.skip(i)
		}
		if end-i > MaxEventBytes {
			large = append(large, otw.FieldError{Field: p.pathString(), Message: fmt.Sprintf("event is %d bytes, more than the %d allowed", end-i, MaxEventBytes)})
		}
		p.pop()
		if b[end] == ']' {
			break
		}
		i = end + 1
	}
	if len(large) > 0 {
		return nil, &otw.Error{Code: otw.ETOOLARGE, Message: "batch holds events that are too large", Fields: large}
	}
	if err := p.err("batch holds invalid events"); err != nil {
		return nil, err
	}
	// One string for every order key of the batch, in place of one each.
	keys, start := string(p.keyBuf), int32(0)
	for n, end := range p.keyEnds {
		if end > start {
			events[n].OrderKey = keys[start:end]
		}
		start = end
	}
	return events, nil
}

// compact returns raw compacted, or EMALFORMED saying where it broke.
func compact(raw []byte) ([]byte, error) {
	if b, ok := appendCompact(make([]byte, 0, len(raw)), raw); ok {
		return b, nil
	}
	var buf bytes.Buffer
	if err := json.Compact(&buf, raw); err != nil {
		// json.Compact's error does not count bytes; Unmarshal's does.
		// Bad input is rare, so it is scanned again to say where it broke.
		var syn *json.SyntaxError
		if uerr := json.Unmarshal(raw, new(json.RawMessage)); errors.As(uerr, &syn) {
			return nil, otw.Errorf(otw.EMALFORMED, "malformed JSON after %d bytes: %s", syn.Offset, syn.Error())
		}
		return nil, otw.Errorf(otw.EMALFORMED, "malformed JSON: %s", err.Error())
	}
	// Only deeper nesting than appendCompact takes, or a bug in it, comes
	// here: encoding/json has the last word.
	return buf.Bytes(), nil
}

// err returns the EINVALID error of the walk, or nil if it found nothing.
func (p *parser) err(message string) error {
	if len(p.errs) == 0 {
		return nil
	}
	if p.truncated {
		message += fmt.Sprintf(" (only the first %d errors are listed)", maxFieldErrors)
	}
	return otw.Invalid(message, p.errs...)
}

// event walks the event object at b[i] and returns what it found and the
// index after it. Its data object is checked against the rules of its type;
// when "type" comes after it, that check waits until the type is known.
func (p *parser) event(i int) (Parsed, int) {
	var (
		ev               Parsed
		typ              *eventType
		haveType, hasOrg bool
		// data[n] is where eventTypes[n].object's value starts, plus one
		// (0 when absent, -1 once walked), and its key.
		data [len(eventTypes)]struct {
			v   int
			key span
		}
	)
	p.order = nil
	ks := p.beginKeys()
	j := i + 1
	if p.b[j] == '}' {
		j++
	} else {
		for {
			key, v := p.key(j)
			p.pushKey(key)
			switch {
			case p.repeated(&ks, key):
				p.fail("duplicate key")
				j = p.skip(v)
			case string(p.bytesOf(key)) == "type":
				haveType = true
				typ, j = p.eventType(v)
			case string(p.bytesOf(key)) == "organizationID":
				hasOrg = true
				ev.OrganizationID, j = p.organizationID(v)
			default:
				n := dataIndex(p.bytesOf(key))
				switch {
				case n < 0:
					j = p.skip(v)
				case typ == &eventTypes[n]:
					j = p.data(v, typ)
					data[n].v = -1
				default:
					j = skipRaw(p.b, v)
					data[n].v, data[n].key = v+1, key
				}
			}
			p.pop()
			if p.b[j] == ',' {
				j++
				continue
			}
			j++ // '}'
			break
		}
	}
	p.endKeys(ks)
	for n, d := range data {
		if d.v <= 0 {
			continue
		}
		p.pushKey(d.key)
		if typ == &eventTypes[n] {
			p.data(d.v-1, typ)
		} else {
			p.skip(d.v - 1) // another type's object: extra data, passed through
		}
		p.pop()
	}
	if !haveType {
		p.failMember("type", "is required")
	}
	if !hasOrg {
		p.failMember("organizationID", "is required")
	}
	if typ != nil {
		ev.Type = typ.name
		if data[typeIndex(typ)].v == 0 {
			p.failMember(typ.object, "is required")
		}
		switch {
		case p.order == nil:
		case p.batchKeys:
			p.keyBuf = append(append(p.keyBuf, typ.orderPrefix...), p.order...)
		default:
			// A Builder makes one allocation; prefix + string(order)
			// makes two once the key is longer than 32 bytes.
			var k strings.Builder
			k.Grow(len(typ.orderPrefix) + len(p.order))
			k.WriteString(typ.orderPrefix)
			k.Write(p.order)
			ev.OrderKey = k.String()
		}
	}
	ev.Body = p.b[i:j:j]
	return ev, j
}

// data checks the value at b[i] as the data object of typ.
func (p *parser) data(i int, typ *eventType) int {
	if p.b[i] != '{' {
		p.fail("must be an object")
		return p.skip(i)
	}
	return p.object(i, typ.fields)
}

func typeIndex(t *eventType) int {
	for n := range eventTypes {
		if t == &eventTypes[n] {
			return n
		}
	}
	panic("event: not one of eventTypes")
}

func dataIndex(key []byte) int {
	for n := range eventTypes {
		if eventTypes[n].object == string(key) {
			return n
		}
	}
	return -1
}

func (p *parser) eventType(i int) (*eventType, int) {
	if p.b[i] != '"' {
		p.fail("must be a string")
		return nil, p.skip(i)
	}
	end, escaped := skipString(p.b, i)
	if t := lookupType(string(p.stringValue(i, end, escaped))); t != nil {
		return t, end
	}
	if p.checkUTF8 && !utf8.Valid(p.b[i:end]) {
		p.fail(notUTF8) // and so no known type either
		return nil, end
	}
	p.fail("unknown event type; known: " + TypeIntegrationMessageStatus + ", " + TypeCaseResolved)
	return nil, end
}

func (p *parser) organizationID(i int) (int64, int) {
	end := p.skip(i)
	id, ok := parseInteger(p.b[i:end])
	if !ok || id == 0 || id > otw.MaxOrganizationID {
		p.fail(otw.OrganizationIDRule)
		return 0, end
	}
	return id, end
}

// JSONKind names the JSON value that starts with c, for an error message
// ("must be a JSON object, not an array").
func JSONKind(c byte) string {
	switch c {
	case '{':
		return "an object"
	case '[':
		return "an array"
	case '"':
		return "a string"
	case 't', 'f':
		return "a boolean"
	case 'n':
		return "null"
	}
	return "a number"
}
