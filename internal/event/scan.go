package event

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/onetalk/onetalk-webhooks/internal/otw"
)

// The validator walks compacted JSON (appendCompact's output, which is
// json.Compact's): known to be well formed, with no white space outside
// strings. That lets it step over the bytes with index arithmetic instead
// of a tokenizer, decoding nothing but the few strings it must compare; on
// the publishing hot path it costs about what compacting costs.

// maxFieldErrors bounds the errors one call reports: a 5 MiB batch of bad
// values would otherwise make an error response far larger than the input.
const maxFieldErrors = 1000

// maxNesting is how deep objects and arrays may nest in one event, counting
// the event's own braces as the first level. encoding/json's 10000 would
// let through events that receivers refuse (Ruby's JSON.parse stops at 100
// by default, Python's recursion at about 1000), and every delivery of such
// an event would fail; no event of the platform's nests beyond five.
const maxNesting = 64

// parser holds the state of one walk. Its stacks start in arrays inside it,
// so an event of ordinary depth and width is validated without allocating.
//
// The stacks hold offsets, not slices: a parser lives on the heap (in a
// pool), and storing pointers there costs a write barrier each while the
// garbage collector runs, which on a busy server is often.
type parser struct {
	b         []byte
	scratch   []byte // the decoded keys that had escapes
	path      []pathElem
	keys      []span // the keys of the objects being walked, innermost last
	errs      []otw.FieldError
	truncated bool
	order     []byte // the value of the field marked orderKey, decoded
	// batchKeys, set by ParseBatch, has event append each order key to
	// keyBuf instead of making it a string: the batch makes one string of
	// them all at its end.
	batchKeys bool
	keyBuf    []byte
	// keyEnds[n] is where event n's order key ends in keyBuf; it starts
	// where the one before ends, and is empty when the event has none.
	keyEnds []int32
	// checkUTF8 is set when the input holds bytes that are not UTF-8,
	// so that the walk finds and names the strings that hold them.
	checkUTF8 bool
	// base is the length of path at an event's own braces: 1 in a batch,
	// whose index leads every path, so that a batch nests no less deep
	// than a single event may.
	base int

	pathBuf [16]pathElem
	keysBuf [128]span
}

// span is a decoded member name: b[start:end], or scratch[start:end].
type span struct {
	start, end int32
	scratch    bool
}

// pathElem is one step of a JSON path: a member name or an array index.
type pathElem struct {
	key   span
	index int32 // ≥ 0 for an array element, -1 for a member
}

// parsers keeps parsers between calls: a parser is a few KiB of stacks,
// and publishing allocates little else.
var parsers = sync.Pool{New: func() any { return new(parser) }}

func getParser(b []byte) *parser {
	p := parsers.Get().(*parser)
	p.reset(b)
	return p
}

// putParser returns p to the pool holding no reference to the input, so a
// pooled parser keeps no body alive.
func putParser(p *parser) {
	p.reset(nil)
	parsers.Put(p)
}

// maxPooledKeyBuf bounds the order keys' buffer a pooled parser keeps.
const maxPooledKeyBuf = 64 << 10

func (p *parser) reset(b []byte) {
	p.b = b
	p.scratch = p.scratch[:0]
	p.path = p.pathBuf[:0]
	p.keys = p.keysBuf[:0]
	p.errs = nil
	p.truncated = false
	p.order = nil
	p.base = 0
	p.batchKeys = false
	if cap(p.keyBuf) > maxPooledKeyBuf {
		p.keyBuf = nil // a batch of unusually long keys is not kept pooled
	}
	p.keyBuf = p.keyBuf[:0]
	p.keyEnds = p.keyEnds[:0]
	p.checkUTF8 = b != nil && !utf8.Valid(b)
}

func (p *parser) pushKey(key span)    { p.path = append(p.path, pathElem{key: key, index: -1}) }
func (p *parser) pushIndex(i int)     { p.path = append(p.path, pathElem{index: int32(i)}) }
func (p *parser) pop()                { p.path = p.path[:len(p.path)-1] }
func (p *parser) fail(message string) { p.failAt(p.pathString(), message) }

// failMember reports a member of the current object, such as a missing
// one, which has no key of its own in the input.
func (p *parser) failMember(name, message string) {
	path := p.pathString()
	if path != "" {
		path += "."
	}
	p.failAt(path+name, message)
}

func (p *parser) bytesOf(s span) []byte {
	if s.scratch {
		return p.scratch[s.start:s.end]
	}
	return p.b[s.start:s.end]
}

func (p *parser) failAt(path, message string) {
	if len(p.errs) >= maxFieldErrors {
		p.truncated = true
		return
	}
	p.errs = append(p.errs, otw.FieldError{Field: path, Message: message})
}

// pathString renders the path as the API names fields:
// "caseResolved.labels[1]", "[3].integrationMessageStatus.timestamp".
func (p *parser) pathString() string {
	var s strings.Builder
	for i, e := range p.path {
		switch {
		case e.index >= 0:
			s.WriteByte('[')
			s.WriteString(strconv.Itoa(int(e.index)))
			s.WriteByte(']')
			continue
		case i > 0:
			s.WriteByte('.')
		}
		s.Write(p.bytesOf(e.key))
	}
	return s.String()
}

// keySet tells the keys of one object apart, to find a duplicate: two
// receivers may well read {"a":1,"a":2} differently, so it is refused.
type keySet struct {
	base int                 // where the object's keys start in parser.keys
	big  map[string]struct{} // once the object is too wide for a scan
}

// keySetScanMax is the width beyond which a map beats comparing every key
// with every earlier one.
const keySetScanMax = 32

func (p *parser) beginKeys() keySet { return keySet{base: len(p.keys)} }
func (p *parser) endKeys(ks keySet) { p.keys = p.keys[:ks.base] }

// repeated records the key s and reports whether the object already had it.
func (p *parser) repeated(ks *keySet, s span) bool {
	key := p.bytesOf(s)
	if ks.big != nil {
		if _, ok := ks.big[string(key)]; ok {
			return true
		}
		ks.big[string(key)] = struct{}{}
		return false
	}
	for _, k := range p.keys[ks.base:] {
		if bytes.Equal(p.bytesOf(k), key) {
			return true
		}
	}
	p.keys = append(p.keys, s)
	if len(p.keys)-ks.base > keySetScanMax {
		ks.big = make(map[string]struct{}, 2*keySetScanMax)
		for _, k := range p.keys[ks.base:] {
			ks.big[string(p.bytesOf(k))] = struct{}{}
		}
		p.keys = p.keys[:ks.base]
	}
	return false
}

// key reads the member name at b[i] (an opening quote) and returns it
// decoded, and the index of its value.
func (p *parser) key(i int) (span, int) {
	end, escaped := skipString(p.b, i)
	if p.checkUTF8 && !utf8.Valid(p.b[i:end]) {
		p.failMember(strings.ToValidUTF8(string(p.b[i+1:end-1]), "\uFFFD"), "the name "+notUTF8)
	}
	if !escaped {
		return span{start: int32(i + 1), end: int32(end - 1)}, end + 1 // and the colon
	}
	start := len(p.scratch)
	p.scratch = append(p.scratch, p.stringValue(i, end, escaped)...)
	return span{start: int32(start), end: int32(len(p.scratch)), scratch: true}, end + 1
}

// stringValue returns the string b[i:end] decoded. Only an escaped string
// costs a decode; what a receiver sees of "\u0074ype" is "type".
func (p *parser) stringValue(i, end int, escaped bool) []byte {
	if !escaped {
		return p.b[i+1 : end-1]
	}
	var s string
	if err := json.Unmarshal(p.b[i:end], &s); err != nil {
		// json.Compact has accepted it, so Unmarshal cannot refuse it.
		panic("event: compacted string does not decode: " + err.Error())
	}
	return []byte(s)
}

// object walks the object at b[i], checking the members named in fields
// and stepping over (but still checking for duplicate keys) the others.
// It returns the index after the object.
func (p *parser) object(i int, fields []field) int {
	var seen uint64 // bit n: fields[n] was present
	ks := p.beginKeys()
	j := i + 1
	if p.b[j] == '}' {
		j++
	} else {
		for {
			key, v := p.key(j)
			n, f := lookupField(fields, p.bytesOf(key))
			p.pushKey(key)
			switch {
			case p.repeated(&ks, key):
				p.fail("duplicate key")
				j = p.skip(v)
			case f != nil:
				seen |= 1 << n
				j = p.value(v, f)
			default:
				j = p.skip(v)
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
	for n := range fields {
		if fields[n].required && seen&(1<<n) == 0 {
			p.failMember(fields[n].name, "is required")
		}
	}
	return j
}

// value checks the value at b[i] against f and returns the index after it.
func (p *parser) value(i int, f *field) int {
	c := p.b[i]
	if c == 'n' && !f.required {
		return i + 4
	}
	switch f.kind {
	case kindString, kindNonEmptyString, kindEnum:
		if c != '"' {
			p.fail("must be a string")
			return p.skip(i)
		}
		end, escaped := p.str(i)
		switch {
		case f.kind == kindNonEmptyString && end == i+2:
			p.fail("must not be empty")
		case f.kind == kindEnum && !oneOf(p.stringValue(i, end, escaped), f.enum):
			p.fail("must be one of " + strings.Join(f.enum, ", "))
		case f.orderKey:
			p.order = p.stringValue(i, end, escaped)
		}
		return end
	case kindInteger:
		end := p.skip(i)
		if _, ok := parseInteger(p.b[i:end]); !ok {
			p.fail("must be a non-negative integer (Unix milliseconds)")
		}
		return end
	case kindBool:
		if c != 't' && c != 'f' {
			p.fail("must be a boolean")
		}
		return p.skip(i)
	case kindStringOrNumber:
		if c != '"' && c != '-' && (c < '0' || c > '9') {
			p.fail("must be a string or a number")
		}
		return p.skip(i)
	case kindStringArray:
		if c != '[' {
			p.fail("must be an array of strings")
			return p.skip(i)
		}
		return p.array(i, true)
	case kindObject, kindObjectMap:
		if c != '{' {
			p.fail("must be an object")
			return p.skip(i)
		}
		if f.kind == kindObject {
			return p.object(i, f.fields)
		}
		return p.objectMap(i, f.fields)
	}
	panic("event: field " + f.name + " has no kind")
}

// objectMap walks an object whose every value must be an object with
// fields, such as a contact's custom fields keyed by field code.
func (p *parser) objectMap(i int, fields []field) int {
	ks := p.beginKeys()
	j := i + 1
	if p.b[j] == '}' {
		p.endKeys(ks)
		return j + 1
	}
	for {
		key, v := p.key(j)
		p.pushKey(key)
		switch {
		case p.repeated(&ks, key):
			p.fail("duplicate key")
			j = p.skip(v)
		case p.b[v] != '{':
			p.fail("must be an object")
			j = p.skip(v)
		default:
			j = p.object(v, fields)
		}
		p.pop()
		if p.b[j] == ',' {
			j++
			continue
		}
		p.endKeys(ks)
		return j + 1
	}
}

// array walks the array at b[i]; with onlyStrings, every element must be a
// string.
func (p *parser) array(i int, onlyStrings bool) int {
	j := i + 1
	if p.b[j] == ']' {
		return j + 1
	}
	for n := 0; ; n++ {
		p.pushIndex(n)
		if onlyStrings && p.b[j] != '"' {
			p.fail("must be a string")
		}
		j = p.skip(j)
		p.pop()
		if p.b[j] == ',' {
			j++
			continue
		}
		return j + 1
	}
}

// skip steps over any value at b[i], checking only for duplicate keys in
// the objects within and their depth, and returns the index after it.
func (p *parser) skip(i int) int {
	switch p.b[i] {
	case '"':
		end, _ := p.str(i)
		return end
	case '{', '[':
		if p.tooDeep() {
			return skipRaw(p.b, i)
		}
		if p.b[i] == '{' {
			return p.object(i, nil)
		}
		return p.array(i, false)
	case 't', 'n':
		return i + 4
	case 'f':
		return i + 5
	}
	return skipNumber(p.b, i)
}

// tooDeep reports, as an error of the current field, whether an object or
// array here would nest deeper than maxNesting. The caller then steps over
// it with skipRaw, which does not recurse, so the subtree costs one error.
func (p *parser) tooDeep() bool {
	// The value here is inside len(p.path)-p.base containers, the event's
	// braces included; being a container, it is one level deeper.
	if len(p.path)-p.base+1 <= maxNesting {
		return false
	}
	p.fail(fmt.Sprintf("nests deeper than %d levels", maxNesting))
	return true
}

// notUTF8 refuses a string with bytes that are not UTF-8: JSON text must be
// UTF-8 (RFC 8259, section 8.1), and a receiver's parser may refuse it or
// read it otherwise than the next one.
const notUTF8 = "is not valid UTF-8: JSON text must be UTF-8"

// str is skipString for a string of the event, refusing it, as a value of
// the current path, when it is not UTF-8.
func (p *parser) str(i int) (end int, escaped bool) {
	end, escaped = skipString(p.b, i)
	if p.checkUTF8 && !utf8.Valid(p.b[i:end]) {
		p.fail(notUTF8)
	}
	return end, escaped
}

// skipString returns the index after the string that opens at b[i], and
// whether it holds an escape. It looks for the closing quote with
// bytes.IndexByte and walks escapes by hand only when there are some.
func skipString(b []byte, i int) (end int, escaped bool) {
	j := i + 1
	for {
		q := j + bytes.IndexByte(b[j:], '"')
		bs := bytes.IndexByte(b[j:q], '\\')
		if bs < 0 {
			return q + 1, escaped
		}
		escaped = true
		k := j + bs
		for k < q {
			if b[k] == '\\' {
				k += 2
			} else {
				k++
			}
		}
		if k == q {
			return q + 1, escaped
		}
		j = k // the quote at q was escaped: look on after it
	}
}

func skipNumber(b []byte, i int) int {
	for i < len(b) {
		switch c := b[i]; {
		case c >= '0' && c <= '9', c == '-', c == '+', c == '.', c == 'e', c == 'E':
			i++
		default:
			return i
		}
	}
	return i
}

// skipRaw steps over the value at b[i] without looking inside it: for the
// data object of an event whose type comes later, which is walked then.
func skipRaw(b []byte, i int) int {
	switch b[i] {
	case '"':
		end, _ := skipString(b, i)
		return end
	case '{', '[':
		depth := 0
		for j := i; ; {
			switch b[j] {
			case '"':
				j, _ = skipString(b, j)
				continue
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					return j + 1
				}
			}
			j++
		}
	case 't', 'n':
		return i + 4
	case 'f':
		return i + 5
	}
	return skipNumber(b, i)
}

// parseInteger reads a JSON number spelled as a non-negative integer with
// neither fraction nor exponent ("1.0" and "1e3" are refused: a receiver's
// int64 field would not take them), fitting int64.
func parseInteger(t []byte) (int64, bool) {
	if len(t) == 0 {
		return 0, false
	}
	var n int64
	for _, c := range t {
		if c < '0' || c > '9' {
			return 0, false
		}
		d := int64(c - '0')
		if n > (math.MaxInt64-d)/10 {
			return 0, false
		}
		n = n*10 + d
	}
	return n, true
}

func oneOf(s []byte, values []string) bool {
	for _, v := range values {
		if v == string(s) {
			return true
		}
	}
	return false
}
