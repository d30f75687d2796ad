// Command receiver is a complete OneTalk webhook receiver: it verifies each
// request's signature, reads the event and acts on it. Copy it and replace
// the two cases with your own code.
//
//	OTW_WEBHOOK_SECRET=whsec_… go run ./examples/receiver
//
// The secret is the organization's (GET /v1/organizations/{org}/webhook/secret).
// For a webhook that signs with Ed25519 that answer is a public key instead:
// set OTW_WEBHOOK_SECRET=whpk_… and the receiver holds nothing that could
// sign a request.
// Try it without the service: onetalk-webhooks send --url http://127.0.0.1:8000/onetalk --secret whsec_…
// (or --secret whsk_…, which prints the whpk_ key to verify with).
package main

import (
	"context"
	"log"
	"net/http"
	"os"
	"time"

	"github.com/onetalk/onetalk-webhooks/webhook"
)

func main() {
	addr := os.Getenv("ADDR")
	if addr == "" {
		addr = "127.0.0.1:8000"
	}
	h, err := newHandler(os.Getenv("OTW_WEBHOOK_SECRET"))
	if err != nil {
		log.Fatalf("OTW_WEBHOOK_SECRET: %v", err)
	}
	mux := http.NewServeMux()
	mux.Handle("POST /onetalk", h)
	srv := &http.Server{Addr: addr, Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	log.Printf("receiving OneTalk webhooks on http://%s/onetalk", addr)
	log.Fatal(srv.ListenAndServe())
}

// newHandler answers 204 to a verified event once handled, 401 to a bad
// signature, 500 when handling failed: the service then retries the same
// event (same e.ID) later.
func newHandler(secret string) (http.Handler, error) {
	return webhook.Handler(secret, func(ctx context.Context, e *webhook.Event) error {
		// Deliveries are at least once: a retry after a lost answer brings
		// the same e.ID again. Make your handling idempotent on it.
		switch {
		case e.IntegrationMessageStatus != nil:
			m := e.IntegrationMessageStatus
			log.Printf("%s org %d: message %s to %s is %s %s", e.ID, e.OrganizationID, m.TrxID, m.ContactPhone, m.Status, m.Reason)
		case e.CaseResolved != nil:
			c := e.CaseResolved
			log.Printf("%s org %d: case %s resolved by %s, topic %s, labels %v, custom fields %v",
				e.ID, e.OrganizationID, c.CaseID, c.AgentEmail, c.TopicID, c.Labels, c.Contact.CustomFieldMap())
		default:
			// A type this receiver does not know yet: accept it, so the
			// service does not retry it for days.
			log.Printf("%s org %d: ignoring event type %s", e.ID, e.OrganizationID, e.Type)
		}
		return nil
	})
}
