package ui

import (
	"errors"
	"fmt"
	"strings"

	"github.com/onetalk/onetalk-webhooks/internal/otw"
	"github.com/onetalk/onetalk-webhooks/internal/web"
)

// statusOf is the error page's status for a domain error, the API's
// (web.Status), and what the page says.
func statusOf(err error) (int, string) {
	code := otw.ErrorCode(err)
	status := web.Status(code)
	switch {
	case code == otw.ENOTFOUND:
		return status, "There is nothing at this address."
	case code == otw.EINVALID, code == otw.EMALFORMED:
		return status, fieldMessages(err)
	case code == otw.EUNAVAILABLE:
		// The store's message says which fault: out of disk space, does
		// not answer, read-only.
		return status, capitalize(otw.ErrorMessage(err)) + ". Please try again in a moment."
	case status >= 500:
		return status, "Something went wrong on our side. Please try again."
	}
	return status, otw.ErrorMessage(err)
}

// fieldMessages is the error's field messages as one sentence, or its
// message when it names no field.
func fieldMessages(err error) string {
	var e *otw.Error
	if !errors.As(err, &e) || len(e.Fields) == 0 {
		return otw.ErrorMessage(err)
	}
	msgs := make([]string, len(e.Fields))
	for i, f := range e.Fields {
		msgs[i] = f.Field + ": " + f.Message
	}
	return strings.Join(msgs, "; ")
}

// fieldErrors groups an invalid input's messages by field, for showing
// beside its control. The service's messages are written to follow the
// field's name ("must not contain a user name or password"), so the URL's
// get a subject and the others a capital ("Choose a minimum of 1 event",
// as the page words it). Fields such as subscribedEvents[0] are filed
// under subscribedEvents.
func fieldErrors(err error) map[string]string {
	var e *otw.Error
	if !errors.As(err, &e) {
		return nil
	}
	out := map[string]string{}
	for _, f := range e.Fields {
		name, _, _ := strings.Cut(f.Field, "[")
		msg := capitalize(f.Message)
		switch name {
		case "url":
			msg = "The URL " + f.Message
		case "rateLimit":
			// The API's wording speaks of null; the form's empty field.
			msg = fmt.Sprintf("The rate limit must be a whole number from 1 to %d; leave it empty for no limit.", otw.MaxRateLimit)
		}
		if out[name] != "" {
			msg = out[name] + " " + msg
		}
		out[name] = msg
	}
	return out
}

func capitalize(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}
