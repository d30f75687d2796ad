package webhook

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// Event types.
const (
	TypeIntegrationMessageStatus = "integration_message_status"
	TypeCaseResolved             = "case_resolved"
)

// Event is one webhook: the platform's envelope with the object of its type set
// and the others nil. An event of a type this package does not know has
// neither set; Raw still holds it.
type Event struct {
	Type                     string                    `json:"type"`
	OrganizationID           int64                     `json:"organizationID"`
	IntegrationMessageStatus *IntegrationMessageStatus `json:"integrationMessageStatus,omitempty"`
	CaseResolved             *CaseResolved             `json:"caseResolved,omitempty"`

	// Raw is the body as received.
	Raw json.RawMessage `json:"-"`
	// ID and Timestamp come from the webhook-id and webhook-timestamp
	// headers; Handler sets them, Parse leaves them zero. The ID is the same
	// on every retry of one event: use it to drop duplicates.
	ID        string    `json:"-"`
	Timestamp time.Time `json:"-"`
}

// IntegrationMessageStatus reports a status change of a message sent through
// the Integration API.
type IntegrationMessageStatus struct {
	ChannelID    string `json:"channelID"`
	ChannelType  string `json:"channelType"` // whatsapp, whatsappba
	ContactPhone string `json:"contactPhone"`
	Reason       string `json:"reason,omitempty"` // why it failed
	Status       string `json:"status"`           // acknowledge, delivered, read, failed
	Timestamp    int64  `json:"timestamp"`        // Unix milliseconds
	TrxID        string `json:"trxID"`
}

// CaseResolved reports a case whose status changed to resolved. The times
// are Unix milliseconds.
type CaseResolved struct {
	CaseID              string   `json:"caseID"`
	ChannelType         string   `json:"channelType"`
	ChannelID           string   `json:"channelID"`
	TopicID             TopicID  `json:"topicID"`
	TopicName           string   `json:"topicName"`
	AssigneeType        string   `json:"assigneeType"`
	ChatbotID           string   `json:"chatbotID"`
	ChatbotName         string   `json:"chatbotName"`
	AgentEmail          string   `json:"agentEmail"`
	AgentFullName       string   `json:"agentFullName"`
	IsJunk              bool     `json:"isJunk"`
	AgentRemark         string   `json:"agentRemark"`
	CreatedTime         int64    `json:"createdTime"`
	CounterStartTime    int64    `json:"counterStartTime"`
	FirstResponseTime   int64    `json:"firstResponseTime"`
	ResolvedTime        int64    `json:"resolvedTime"`
	IsResolvedByAgent   bool     `json:"isResolvedByAgent"`
	IsResolvedByChatbot bool     `json:"isResolvedByChatbot"`
	IsResolvedByContact bool     `json:"isResolvedByContact"`
	IsResolvedBySystem  bool     `json:"isResolvedBySystem"`
	Labels              []string `json:"labels"`
	Contact             *Contact `json:"contact"`
}

// Contact is the contact of a resolved case.
type Contact struct {
	ID             string `json:"id"`
	FullName       string `json:"fullName"`
	Alias          string `json:"alias"`
	Email          string `json:"email"`
	Phone          string `json:"phone"`
	CustomerUserID string `json:"customerUserID"` // the user's ID on the organization's own server
	CompanyName    string `json:"companyName"`
	JobTitle       string `json:"jobTitle"`
	AgentRemark    string `json:"agentRemark"`
	// The platform's doc names the custom fields "customFields" in its
	// example and "customField" in its table; events come with either. Read
	// them with CustomFieldMap.
	CustomFields map[string]CustomField `json:"customFields,omitempty"`
	CustomField  map[string]CustomField `json:"customField,omitempty"`
}

// CustomFieldMap returns the contact's custom fields by field code, under
// whichever name they came.
func (c *Contact) CustomFieldMap() map[string]CustomField {
	if c == nil {
		return nil
	}
	if c.CustomFields != nil {
		return c.CustomFields
	}
	return c.CustomField
}

// CustomField is one custom field of a contact.
type CustomField struct {
	FieldType string `json:"fieldType"` // single_line, number, dropdown, …
	Value     string `json:"value"`
}

// TopicID is a case's topic ID, which the platform sends as a number (its
// example) or a string (its table). It keeps the JSON as it came, so it
// encodes back the same; String gives the ID either way.
type TopicID struct {
	raw  string // the JSON as it came: 1 or "1"
	text string // the ID: 1
}

// String returns the ID as text: "1" for both 1 and "1"; "" when absent.
func (t TopicID) String() string { return t.text }

// UnmarshalJSON accepts a number or a string; null leaves the ID empty.
func (t *TopicID) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	switch {
	case string(b) == "null":
		*t = TopicID{}
		return nil
	case len(b) > 0 && b[0] == '"':
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return fmt.Errorf("topicID: %w", err)
		}
		*t = TopicID{raw: string(b), text: s}
		return nil
	case len(b) > 0 && (b[0] == '-' || (b[0] >= '0' && b[0] <= '9')):
		// encoding/json has already checked it is a valid JSON number.
		*t = TopicID{raw: string(b), text: string(b)}
		return nil
	}
	return fmt.Errorf("topicID: want a number or a string, got %s", b)
}

// MarshalJSON writes the ID as it came; an empty one as null.
func (t TopicID) MarshalJSON() ([]byte, error) {
	if t.raw == "" {
		return []byte("null"), nil
	}
	return []byte(t.raw), nil
}

// Parse decodes a webhook body. It fails on malformed JSON, a missing type
// or organizationID, and a known type without its object; it accepts types
// it does not know, so a receiver built today keeps working when new ones
// come.
func Parse(body []byte) (*Event, error) {
	var e Event
	if err := json.Unmarshal(body, &e); err != nil {
		return nil, fmt.Errorf("webhook: parse body: %w", err)
	}
	switch {
	case e.Type == "":
		return nil, errors.New("webhook: parse body: type is missing")
	case e.OrganizationID == 0:
		return nil, errors.New("webhook: parse body: organizationID is missing")
	case e.Type == TypeIntegrationMessageStatus && e.IntegrationMessageStatus == nil:
		return nil, errors.New("webhook: parse body: integrationMessageStatus is missing")
	case e.Type == TypeCaseResolved && e.CaseResolved == nil:
		return nil, errors.New("webhook: parse body: caseResolved is missing")
	}
	e.Raw = append(json.RawMessage(nil), body...)
	return &e, nil
}
