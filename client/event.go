package client

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"

	"github.com/onetalk/onetalk-webhooks/webhook"
)

// Event is one event to publish, encoded when it is built: build it with
// MessageStatus, CaseResolved, FromWebhook or Raw. The zero Event is not
// valid; publishing it fails before anything is sent.
type Event struct {
	body []byte // compacted JSON
	err  error  // why it could not be encoded, reported by Publish
}

// MessageStatus is an integration_message_status event of organization org.
func MessageStatus(org int64, s webhook.IntegrationMessageStatus) Event {
	return FromWebhook(webhook.Event{Type: webhook.TypeIntegrationMessageStatus, OrganizationID: org, IntegrationMessageStatus: &s})
}

// CaseResolved is a case_resolved event of organization org. Its TopicID
// is set with TopicNumber or TopicString; left zero it is sent as null.
func CaseResolved(org int64, c webhook.CaseResolved) Event {
	return FromWebhook(webhook.Event{Type: webhook.TypeCaseResolved, OrganizationID: org, CaseResolved: &c})
}

// FromWebhook is the event e as a receiver would get it: its type,
// organizationID and the object of its type. Raw, ID and Timestamp are not
// sent (they are the receiver's side of a delivery); use Raw to publish a
// received body byte for byte.
func FromWebhook(e webhook.Event) Event {
	b, err := json.Marshal(e)
	if err != nil {
		return Event{err: fmt.Errorf("client: encoding the event: %w", err)}
	}
	return Event{body: b}
}

// Raw is an event given as its JSON, for a type this package has no
// constructor for or a body kept from elsewhere. It is compacted (white
// space only: keys, their order and spellings stay), as the service
// compacts what it stores, so that the size limits count what is sent.
func Raw(body json.RawMessage) Event {
	var buf bytes.Buffer
	if err := json.Compact(&buf, body); err != nil {
		return Event{err: fmt.Errorf("client: the raw event is not JSON: %w", err)}
	}
	return Event{body: buf.Bytes()}
}

// JSON returns the body the event is published as; the slice is shared,
// not to be changed.
func (e Event) JSON() (json.RawMessage, error) {
	if e.err == nil && e.body == nil {
		return nil, errZeroEvent
	}
	return e.body, e.err
}

var errZeroEvent = errors.New("client: an Event must be built with MessageStatus, CaseResolved, FromWebhook or Raw")

// TopicNumber is a case's topic ID sent as a JSON number, as in the
// platform's example. The webhook package only decodes topic IDs (it keeps
// them as they came), so a publisher builds one here.
func TopicNumber(n int64) webhook.TopicID {
	return topicID(strconv.FormatInt(n, 10))
}

// TopicString is a case's topic ID sent as a JSON string, as in the
// platform's table.
func TopicString(s string) webhook.TopicID {
	b, _ := json.Marshal(s) // a string always encodes
	return topicID(string(b))
}

func topicID(raw string) webhook.TopicID {
	var t webhook.TopicID
	// raw is a number or a quoted string, both of which TopicID accepts.
	_ = t.UnmarshalJSON([]byte(raw))
	return t
}
