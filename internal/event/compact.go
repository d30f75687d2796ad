package event

// appendCompact is json.Compact for the publishing hot path. The standard
// one steps a state machine through a function pointer per byte, which made
// it four fifths of the cost of Parse; this one is a recursive descent that
// copies whole tokens. It returns ok only for input that json.Compact takes,
// with the very bytes json.Compact gives (FuzzCompact holds it to that);
// for anything it refuses, the caller asks encoding/json, which also words
// the error.
func appendCompact(dst, src []byte) ([]byte, bool) {
	c := compactor{src: src, dst: dst}
	c.space()
	if !c.value(0) {
		return nil, false
	}
	c.space()
	return c.dst, c.i == len(c.src)
}

// maxDepth is encoding/json's nesting limit; deeper input is refused here
// and judged there.
const maxDepth = 10000

type compactor struct {
	src, dst []byte
	i        int
}

// peek returns the next byte, or 0 at the end: 0 is valid nowhere, so the
// end needs no test of its own.
func (c *compactor) peek() byte {
	if c.i < len(c.src) {
		return c.src[c.i]
	}
	return 0
}

func (c *compactor) space() {
	for c.i < len(c.src) {
		switch c.src[c.i] {
		case ' ', '\t', '\n', '\r':
			c.i++
		default:
			return
		}
	}
}

func (c *compactor) value(depth int) bool {
	switch c.peek() {
	case '{':
		return c.object(depth + 1)
	case '[':
		return c.array(depth + 1)
	case '"':
		return c.string()
	case 't':
		return c.literal("true")
	case 'f':
		return c.literal("false")
	case 'n':
		return c.literal("null")
	}
	return c.number()
}

func (c *compactor) object(depth int) bool {
	if depth > maxDepth {
		return false
	}
	c.dst = append(c.dst, '{')
	c.i++
	c.space()
	if c.peek() == '}' {
		c.dst = append(c.dst, '}')
		c.i++
		return true
	}
	for {
		if c.peek() != '"' || !c.string() {
			return false
		}
		c.space()
		if c.peek() != ':' {
			return false
		}
		c.dst = append(c.dst, ':')
		c.i++
		c.space()
		if !c.value(depth) {
			return false
		}
		c.space()
		switch c.peek() {
		case ',':
			c.dst = append(c.dst, ',')
			c.i++
			c.space()
		case '}':
			c.dst = append(c.dst, '}')
			c.i++
			return true
		default:
			return false
		}
	}
}

func (c *compactor) array(depth int) bool {
	if depth > maxDepth {
		return false
	}
	c.dst = append(c.dst, '[')
	c.i++
	c.space()
	if c.peek() == ']' {
		c.dst = append(c.dst, ']')
		c.i++
		return true
	}
	for {
		if !c.value(depth) {
			return false
		}
		c.space()
		switch c.peek() {
		case ',':
			c.dst = append(c.dst, ',')
			c.i++
			c.space()
		case ']':
			c.dst = append(c.dst, ']')
			c.i++
			return true
		default:
			return false
		}
	}
}

// string copies the string at src[i] as it is: escapes are checked, never
// rewritten, and bytes that are not UTF-8 pass as encoding/json lets them.
func (c *compactor) string() bool {
	start := c.i
	i := c.i + 1
	for {
		if i >= len(c.src) {
			return false
		}
		ch := c.src[i]
		switch {
		case ch == '"':
			i++
			c.dst = append(c.dst, c.src[start:i]...)
			c.i = i
			return true
		case ch < 0x20:
			return false
		case ch == '\\':
			if i+1 >= len(c.src) {
				return false
			}
			switch c.src[i+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				i += 2
			case 'u':
				if i+6 > len(c.src) {
					return false
				}
				for _, h := range c.src[i+2 : i+6] {
					if !isHex(h) {
						return false
					}
				}
				i += 6
			default:
				return false
			}
		default:
			i++
		}
	}
}

func isHex(h byte) bool {
	return h >= '0' && h <= '9' || h >= 'a' && h <= 'f' || h >= 'A' && h <= 'F'
}

func (c *compactor) literal(word string) bool {
	if len(c.src)-c.i < len(word) || string(c.src[c.i:c.i+len(word)]) != word {
		return false
	}
	c.dst = append(c.dst, word...)
	c.i += len(word)
	return true
}

// number copies a number spelled as JSON has it:
// -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
func (c *compactor) number() bool {
	start := c.i
	if c.peek() == '-' {
		c.i++
	}
	switch ch := c.peek(); {
	case ch == '0':
		c.i++
	case ch >= '1' && ch <= '9':
		c.digits()
	default:
		return false
	}
	if c.peek() == '.' {
		c.i++
		if !c.digits() {
			return false
		}
	}
	if ch := c.peek(); ch == 'e' || ch == 'E' {
		c.i++
		if ch := c.peek(); ch == '+' || ch == '-' {
			c.i++
		}
		if !c.digits() {
			return false
		}
	}
	c.dst = append(c.dst, c.src[start:c.i]...)
	return true
}

// digits steps over one or more digits, reporting whether there was one.
func (c *compactor) digits() bool {
	start := c.i
	for ch := c.peek(); ch >= '0' && ch <= '9'; ch = c.peek() {
		c.i++
	}
	return c.i > start
}
