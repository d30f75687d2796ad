package service

import (
	"context"
	"encoding/json"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/onetalk/onetalk-webhooks/internal/event"
	"github.com/onetalk/onetalk-webhooks/internal/netguard"
	"github.com/onetalk/onetalk-webhooks/internal/otw"
	"github.com/onetalk/onetalk-webhooks/internal/store"
)

// GetWebhook returns org's webhook: ENOTFOUND before the first save.
func (s *Service) GetWebhook(ctx context.Context, org int64) (otw.Webhook, error) {
	return s.store.GetWebhook(ctx, org)
}

// ParseWebhookSettings reads a webhook's settings, a JSON object (the PUT
// body, which the UI builds from its form), with the platform's settings
// page's rules: every bad field is named, with the same messages wherever
// the settings come from.
func (s *Service) ParseWebhookSettings(body []byte) (otw.WebhookSettings, error) {
	return ParseWebhookSettings(body, s.allowPrivate)
}

// ParseWebhookSettings is Service.ParseWebhookSettings with the target
// guard's allowPrivate given.
func ParseWebhookSettings(body []byte, allowPrivate bool) (otw.WebhookSettings, error) {
	var set otw.WebhookSettings
	var c checker
	m, err := c.fields(body, "enabled", "url", "subscribedEvents", "rateLimit", "signing", "filters")
	if err != nil {
		return set, err
	}
	c.decode(m, "enabled", "true or false", &set.Enabled)
	if c.decode(m, "url", "a string", &set.URL) {
		if msg := netguard.CheckURL(set.URL, allowPrivate); msg != "" {
			c.fail("url", "%s", msg)
		}
	}
	var events []any
	if c.decode(m, "subscribedEvents", "an array of event types", &events) {
		seen := map[string]bool{}
		for i, v := range events {
			name, ok := v.(string)
			field := "subscribedEvents[" + strconv.Itoa(i) + "]"
			switch {
			case !ok:
				c.fail(field, "must be an event type name")
			case !event.Known(name):
				c.fail(field, "unknown event type %q; the types are %s", name, knownTypes())
			case !seen[name]:
				seen[name] = true
				set.SubscribedEvents = append(set.SubscribedEvents, name)
			}
		}
		if len(events) == 0 {
			c.fail("subscribedEvents", "choose a minimum of 1 event")
		}
	}
	set.RateLimit = parseRateLimit(&c, m["rateLimit"])
	set.Signing = parseSigning(&c, m["signing"])
	set.Filters = parseFilters(&c, m["filters"], set.SubscribedEvents)
	return set, c.err()
}

// parseSigning reads the optional signature scheme. Left out (or null) it
// is "": the webhook keeps its scheme (hmac-sha256 for a new one). Unlike
// the other settings it is not reset by a PUT that omits it: switching
// makes a new key, and a client that predates the field must not do that
// by saving the URL.
func parseSigning(c *checker, raw json.RawMessage) string {
	if raw == nil || string(raw) == "null" {
		return ""
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil || (s != otw.SigningHMAC && s != otw.SigningEd25519) {
		c.fail("signing", "must be %q or %q", otw.SigningHMAC, otw.SigningEd25519)
		return ""
	}
	return s
}

// knownTypes lists the event types, for a message refusing another.
func knownTypes() string {
	var names []string
	for _, t := range event.Types() {
		names = append(names, t.Name)
	}
	return strings.Join(names, ", ")
}

// parseRateLimit reads the optional rateLimit. A PUT replaces the
// settings, so leaving it out is the same as null: no limit. A whole
// number written as 5.0 is still 5 (JSON does not tell them apart).
func parseRateLimit(c *checker, raw json.RawMessage) int {
	if raw == nil || string(raw) == "null" {
		return 0
	}
	var f float64
	if err := json.Unmarshal(raw, &f); err != nil || f != math.Trunc(f) || f < 1 || f > otw.MaxRateLimit {
		c.fail("rateLimit", "must be a whole number of deliveries per second from 1 to %d, or null for no limit", otw.MaxRateLimit)
		return 0
	}
	return int(f)
}

// SaveWebhook creates or updates org's webhook with settings already
// checked by ParseWebhookSettings. A set.Signing other than the webhook's
// switches the scheme: a new key of that kind signs from now on and the
// old one beside it until the rotation overlap ends, so a receiver still
// verifying the old way misses nothing while it changes over.
func (s *Service) SaveWebhook(ctx context.Context, org int64, set otw.WebhookSettings) (otw.Webhook, error) {
	// A secret is made for every save and kept only by the first: the
	// store decides atomically whether this is the first.
	secret, err := newKey(otw.SigningOrDefault(set.Signing))
	if err != nil {
		return otw.Webhook{}, err
	}
	now := s.now()
	wh, err := s.store.SaveWebhook(ctx, org, set, s.box.Seal([]byte(secret)), now)
	if err != nil {
		return otw.Webhook{}, err
	}
	if set.Signing != "" && otw.SigningOrDefault(wh.Signing) != set.Signing {
		if secret, err = newKey(set.Signing); err != nil {
			return otw.Webhook{}, err
		}
		if wh, err = s.store.SwitchSigning(ctx, org, set.Signing, s.box.Seal([]byte(secret)), now.Add(s.overlap), now); err != nil {
			return otw.Webhook{}, err
		}
	}
	return wh, nil
}

// RevealSecret returns what receivers of org's webhook verify with (see
// receiverKey): the secret, or the public key.
func (s *Service) RevealSecret(ctx context.Context, org int64) (string, error) {
	wh, err := s.store.GetWebhook(ctx, org)
	if err != nil {
		return "", err
	}
	return s.OpenReceiverKey(wh)
}

// OpenReceiverKey is RevealSecret for a webhook already read.
func (s *Service) OpenReceiverKey(wh otw.Webhook) (string, error) {
	opened, err := s.box.Open(wh.Secret)
	if err != nil {
		return "", err
	}
	return receiverKey(opened)
}

// RotateSecret makes a new signing key, of the webhook's scheme, for org's
// webhook and returns what receivers verify with (receiverKey: the secret,
// or the public key); the old key keeps signing beside it until
// previousUntil, so receivers can switch without missing an event.
func (s *Service) RotateSecret(ctx context.Context, org int64) (key string, previousUntil time.Time, err error) {
	wh, err := s.store.GetWebhook(ctx, org)
	if err != nil {
		return "", time.Time{}, err
	}
	signing := otw.SigningOrDefault(wh.Signing)
	// A switch of scheme saved between the read and the rotation would
	// leave a key of the old kind current: rotate once more, in the kind
	// the rotation's own answer names. The key made first signs beside it
	// as the previous one, which is harmless.
	for range 2 {
		secret, err := newKey(signing)
		if err != nil {
			return "", time.Time{}, err
		}
		now := s.now()
		previousUntil = now.Add(s.overlap)
		if wh, err = s.store.RotateSecret(ctx, org, s.box.Seal([]byte(secret)), previousUntil, now); err != nil {
			return "", time.Time{}, err
		}
		key, err = receiverKey([]byte(secret))
		if err != nil || otw.SigningOrDefault(wh.Signing) == signing {
			return key, previousUntil, err
		}
		signing = otw.SigningOrDefault(wh.Signing)
	}
	return key, previousUntil, nil
}

// ParseTestEvent reads the body of a test event, {"eventType": …},
// naming an unknown type with the known ones.
func ParseTestEvent(body []byte) (eventType string, err error) {
	var c checker
	m, err := c.fields(body, "eventType")
	if err != nil {
		return "", err
	}
	if c.decode(m, "eventType", "an event type name", &eventType) && !event.Known(eventType) {
		c.fail("eventType", "unknown event type %q; the types are %s", eventType, knownTypes())
	}
	return eventType, c.err()
}

// SendTestEvent publishes the example of eventType for org, as if the
// platform had: it goes through the same insert path, metrics and
// notification as a publish, and shows in the log. It has an order key
// of its own (otw.TestOrderKey): the example's trxID or caseID is fixed,
// and a test must neither wait behind real traffic of that message or
// case nor hold it up. The outcome's DeliveryID is "" when the webhook
// takes no delivery of it (switched off, not subscribed, filtered), and
// NotDelivered says which. An org without a webhook is ENOTFOUND; an
// unknown type is EINVALID on the field "eventType".
func (s *Service) SendTestEvent(ctx context.Context, org int64, eventType string) (store.Inserted, error) {
	if _, err := s.store.GetWebhook(ctx, org); err != nil {
		return store.Inserted{}, err
	}
	example, err := event.Example(eventType, org)
	if err != nil {
		return store.Inserted{}, err
	}
	p, err := event.Parse(example)
	if err != nil {
		return store.Inserted{}, err
	}
	events := s.toEvents([]event.Parsed{p}, "", false)
	events[0].OrderKey = otw.TestOrderKey(events[0].ID)
	ins, err := s.insert(ctx, events)
	if err != nil {
		return store.Inserted{}, err
	}
	return ins[0], nil
}
