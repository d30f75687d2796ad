package service

import (
	"encoding/json"
	"fmt"

	"github.com/onetalk/onetalk-webhooks/internal/otw"
)

// checker collects field errors so that an input hears of all of them.
type checker struct{ errs []otw.FieldError }

func (c *checker) fail(field, format string, args ...any) {
	c.errs = append(c.errs, otw.FieldError{Field: field, Message: fmt.Sprintf(format, args...)})
}

func (c *checker) err() error {
	if len(c.errs) == 0 {
		return nil
	}
	return otw.Invalid("the request has invalid fields", c.errs...)
}

// decode decodes m[name] into v, recording a missing or mistyped field.
func (c *checker) decode(m map[string]json.RawMessage, name, want string, v any) bool {
	raw, ok := m[name]
	if !ok || string(raw) == "null" {
		c.fail(name, "required: %s", want)
		return false
	}
	if err := json.Unmarshal(raw, v); err != nil {
		c.fail(name, "must be %s", want)
		return false
	}
	return true
}
