package event

// The rules of the platform's events as data: one tree of fields per event
// type. The validator walks it, and the schema test compares it with the embedded JSON
// Schemas, so the two cannot say different things.

// kind is the JSON a field's value must be.
type kind uint8

const (
	kindString         kind = iota + 1
	kindNonEmptyString      // a string other than ""
	kindEnum                // a string from field.enum
	kindInteger             // a JSON number spelled as an integer ≥ 0 that fits int64 (Unix ms)
	kindBool
	kindStringOrNumber // topicID: a number in the platform's example, a string in its field table
	kindStringArray
	kindObject    // an object with field.fields; other keys pass through
	kindObjectMap // an object whose every value is an object with field.fields
)

// field is one named member of an object. A required field may not be null;
// an optional one may be absent or null, and otherwise has its kind.
type field struct {
	name     string
	kind     kind
	required bool
	enum     []string
	fields   []field
	// orderKey marks the field whose value groups the events a receiver
	// must get in publish order (trxID, caseID).
	orderKey bool
}

// eventType is everything the package knows of one type of event.
type eventType struct {
	name        string
	description string
	object      string // the member that holds the event's data
	orderPrefix string // prepended to the orderKey field's value
	fields      []field
	example     string // file name under examples/
}

var eventTypes = [...]eventType{
	{
		name:        TypeIntegrationMessageStatus,
		description: "The status of a message sent through the Integration API changed: acknowledge, delivered, read or failed.",
		object:      "integrationMessageStatus",
		orderPrefix: "m:",
		fields:      messageStatusFields,
		example:     "integration_message_status.json",
	},
	{
		name:        TypeCaseResolved,
		description: "A case in the organization was resolved.",
		object:      "caseResolved",
		orderPrefix: "c:",
		fields:      caseResolvedFields,
		example:     "case_resolved.json",
	},
}

var messageStatusFields = []field{
	{name: "channelID", kind: kindString, required: true},
	{name: "channelType", kind: kindEnum, required: true, enum: []string{"whatsapp", "whatsappba"}},
	{name: "contactPhone", kind: kindString, required: true},
	{name: "reason", kind: kindString},
	{name: "status", kind: kindEnum, required: true, enum: []string{"acknowledge", "delivered", "read", "failed"}},
	{name: "timestamp", kind: kindInteger, required: true},
	{name: "trxID", kind: kindNonEmptyString, required: true, orderKey: true},
}

var caseResolvedFields = []field{
	{name: "caseID", kind: kindNonEmptyString, required: true, orderKey: true},
	{name: "channelType", kind: kindString, required: true},
	{name: "channelID", kind: kindString, required: true},
	{name: "topicID", kind: kindStringOrNumber},
	{name: "topicName", kind: kindString},
	{name: "assigneeType", kind: kindString},
	{name: "chatbotID", kind: kindString},
	{name: "chatbotName", kind: kindString},
	{name: "agentEmail", kind: kindString},
	{name: "agentFullName", kind: kindString},
	{name: "isJunk", kind: kindBool},
	{name: "agentRemark", kind: kindString},
	{name: "createdTime", kind: kindInteger},
	{name: "counterStartTime", kind: kindInteger},
	{name: "firstResponseTime", kind: kindInteger},
	{name: "resolvedTime", kind: kindInteger, required: true},
	{name: "isResolvedByAgent", kind: kindBool},
	{name: "isResolvedByChatbot", kind: kindBool},
	{name: "isResolvedByContact", kind: kindBool},
	{name: "isResolvedBySystem", kind: kindBool},
	{name: "labels", kind: kindStringArray},
	{name: "contact", kind: kindObject, fields: contactFields},
}

var contactFields = []field{
	{name: "id", kind: kindString},
	{name: "fullName", kind: kindString},
	{name: "alias", kind: kindString},
	{name: "email", kind: kindString},
	{name: "phone", kind: kindString},
	{name: "customerUserID", kind: kindString},
	{name: "companyName", kind: kindString},
	{name: "jobTitle", kind: kindString},
	{name: "agentRemark", kind: kindString},
	// The platform's example says customFields, its field table customField: both
	// are accepted and passed through as they came.
	{name: "customFields", kind: kindObjectMap, fields: customFieldFields},
	{name: "customField", kind: kindObjectMap, fields: customFieldFields},
}

var customFieldFields = []field{
	{name: "fieldType", kind: kindString},
	{name: "value", kind: kindString},
}

// lookupField returns the field named key, or nil. Objects have at most a
// few dozen fields, so a scan beats a map and allocates nothing.
func lookupField(fields []field, key []byte) (int, *field) {
	for i := range fields {
		if fields[i].name == string(key) {
			return i, &fields[i]
		}
	}
	return -1, nil
}
