// Package client publishes events to an onetalk-webhooks service and
// manages its organizations, over the service's HTTP API (/v1), with
// nothing but the standard library.
//
// # Publishing
//
// A Client holds the service's URL and a bearer token: the platform's
// admin token, which publishing and the admin calls need.
//
//	c := client.New("http://127.0.0.1:8080", adminToken)
//
//	res, err := c.Publish(ctx, client.MessageStatus(1111, webhook.IntegrationMessageStatus{
//		ChannelID: "0123456", ChannelType: "whatsapp", ContactPhone: "628123456789",
//		Status: "delivered", Timestamp: time.Now().UnixMilli(), TrxID: trxID,
//	}))
//	// res.EventID is "evt_…"; res.DeliveryID is "dlv_…", or "" when the
//	// organization's webhook does not take the event.
//
// Publish returns once the service has committed the event: from then on
// it survives any crash of the service and will be delivered to the
// organization's webhook. PublishBatch publishes many, in order, as few
// requests as the service's limits allow.
//
// # Events
//
// Events are built from the types receivers decode them into, in package
// webhook, so that both ends share one definition:
//
//   - MessageStatus(org, webhook.IntegrationMessageStatus{…})
//   - CaseResolved(org, webhook.CaseResolved{…}), with TopicNumber or
//     TopicString for its TopicID
//   - FromWebhook(webhook.Event{…}), any of the above as one envelope
//   - Raw(json.RawMessage(…)), any JSON body: a type this package does not
//     know yet, or a body kept from elsewhere
//
// The service validates every event and names each bad field (see Errors).
//
// # Never lost, never twice
//
// Every publish is sent with an Idempotency-Key, random and made once per
// call (once per chunk of a batch), and each retry of the call repeats it.
// The service stores a key's request once within 24 hours and answers a
// repeat with the first result, so a retry after a lost answer (a cut
// connection, a timeout, a restart of the service after it committed)
// returns the same EventID and stores nothing new.
//
// Within one call the client takes care of that. To make a publish safe to
// repeat across calls, even after the publishing process itself died,
// give the key with WithIdempotencyKey, derived from what is published
// (the message's trxID and status, say):
//
//	ctx := client.WithIdempotencyKey(ctx, "msg-"+trxID+"-delivered")
//	res, err := c.Publish(ctx, event)
//
// # Retries
//
// A call is retried, with exponential backoff and jitter, when it may
// succeed later: the connection failed or was cut, the service answered
// 429 (too many failed authentications from this address) or 5xx (503
// while its database is down, for example). A Retry-After from the
// service is waited out. The retries stop at the limits of the Client's
// RetryPolicy (DefaultRetryPolicy: 10 attempts within 2 minutes) or when
// ctx ends, whichever comes first; the error then wraps the last answer's
// *Error, if there was an answer. Give the calls a context with a deadline
// to bound them in time.
//
// # Errors
//
// An answer that will not change on a retry (a 4xx other than 429) is
// returned at once as an *Error, with the HTTP status and the service's
// RFC 9457 problem: its type, title, detail and every bad field:
//
//	var e *client.Error
//	if errors.As(err, &e) && e.StatusCode == 422 {
//		for _, f := range e.Fields {
//			log.Printf("%s: %s", f.Field, f.Message) // integrationMessageStatus.status: must be one of …
//		}
//	}
//
// # Batches
//
// The service takes at most 1000 events and 5 MiB per request, each event
// at most 256 KiB. PublishBatch splits a longer or larger slice into
// chunks within those limits, in order, and sends them one after the
// other, each under its own key and stored all or nothing. A refused
// event is named by its index in the slice given
// ("[1500].integrationMessageStatus.trxID"). If a chunk fails,
// PublishBatch returns the results of the chunks stored before it with
// the error.
//
// # Administration
//
// CreateOrganization creates an organization and returns its first API
// key ("otk_…"), which the organization uses for its own routes (its
// webhook settings, its delivery log); CreateAPIKey makes another and
// RevokeAPIKey revokes one.
package client
