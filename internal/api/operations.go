package api

import (
	"context"
	"time"

	"github.com/onetalk/onetalk-webhooks/internal/event"
	"github.com/onetalk/onetalk-webhooks/internal/otw"
	"github.com/onetalk/onetalk-webhooks/internal/store"
)

// The operations below are what both the API's handlers and the web UI do
// to an organization's webhook. They exist once, here, so the two cannot
// drift: a UI save seals its secret as an API save does, a UI test event
// goes through the same insert path, metrics and notification as a publish.

// SaveWebhook creates or updates org's webhook with settings already
// checked by ParseWebhookSettings. A set.Signing other than the webhook's
// switches the scheme: a new key of that kind signs from now on and the
// old one beside it until the rotation overlap ends, so a receiver still
// verifying the old way misses nothing while it changes over.
func (s *Server) SaveWebhook(ctx context.Context, org int64, set otw.WebhookSettings) (otw.Webhook, error) {
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
	if wh.Enabled {
		s.notify() // deliveries held while it was switched off may go now
	}
	return wh, nil
}

// RotateSecret makes a new signing key, of the webhook's scheme, for org's
// webhook and returns what receivers verify with (ReceiverKey: the secret,
// or the public key); the old key keeps signing beside it until
// previousUntil, so receivers can switch without missing an event.
func (s *Server) RotateSecret(ctx context.Context, org int64) (receiverKey string, previousUntil time.Time, err error) {
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
		receiverKey, err = ReceiverKey([]byte(secret))
		if err != nil || otw.SigningOrDefault(wh.Signing) == signing {
			return receiverKey, previousUntil, err
		}
		signing = otw.SigningOrDefault(wh.Signing)
	}
	return receiverKey, previousUntil, nil
}

// PublishTest publishes the example of eventType for org, as if the
// platform had, but with an order key of its own (otw.TestOrderKey): the
// example's trxID or caseID is fixed, and a test must neither wait behind
// real traffic of that message or case nor hold it up. deliveryID is ""
// when the webhook takes no delivery of it (switched off, or not
// subscribed). An org without a webhook is otw.ENOTFOUND; an unknown type
// is EINVALID on the field "eventType".
func (s *Server) PublishTest(ctx context.Context, org int64, eventType string) (eventID, deliveryID string, err error) {
	in, err := s.publishTest(ctx, org, eventType)
	return in.EventID, in.DeliveryID, err
}

// publishTest is PublishTest with the whole outcome, the reason it is not
// delivered included, for the API's answer.
func (s *Server) publishTest(ctx context.Context, org int64, eventType string) (store.Inserted, error) {
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
