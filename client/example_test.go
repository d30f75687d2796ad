package client_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"net/http"
	"strings"

	"github.com/onetalk/onetalk-webhooks/client"
	"github.com/onetalk/onetalk-webhooks/webhook"
)

// A publisher's whole life: an organization, one event, a batch, and an
// event the service refuses. baseURL and adminToken are those of a real
// serve that the package's tests start (TestMain) on a fresh database.
func Example() {
	ctx := context.Background()
	c := client.New(baseURL, adminToken)

	// The organization. Its API key ("otk_…", shown only now) is the
	// organization's own: it sets its webhook and reads its delivery log.
	// If the organization exists already, its key was shown back then.
	key, err := c.CreateOrganization(ctx, 1111, "Acme")
	var e *client.Error
	switch {
	case err == nil:
		log.Printf("organization 1111's API key: %s…", key.Key[:8])
	case errors.As(err, &e) && e.StatusCode == http.StatusConflict:
	default:
		log.Fatal(err)
	}
	fmt.Println("organization 1111 ready")

	// One event, stored once the call returns.
	res, err := c.Publish(ctx, client.MessageStatus(1111, webhook.IntegrationMessageStatus{
		ChannelID: "0123456", ChannelType: "whatsapp", ContactPhone: "628123456789",
		Status: "delivered", Timestamp: 1587352926788, TrxID: "000000-0000-0000-0000-000000",
	}))
	if err != nil {
		log.Fatal(err)
	}
	// No webhook is set yet, so there is no delivery (and, from services
	// that say so, res.NotDelivered tells why).
	fmt.Println("event stored:", strings.HasPrefix(res.EventID, "evt_"), "delivery:", res.DeliveryID != "")

	// 2,500 events: three requests of at most 1,000, in order.
	var events []client.Event
	for i := range 2500 {
		events = append(events, client.CaseResolved(1111, webhook.CaseResolved{
			CaseID: fmt.Sprint("case-", i), ChannelType: "whatsapp", ChannelID: "166090",
			TopicID: client.TopicNumber(1), ResolvedTime: 1615305000400, IsResolvedByAgent: true,
		}))
	}
	results, err := c.PublishBatch(ctx, events)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("batch stored:", len(results))

	// A refused event: a 422 naming every bad field, not retried.
	_, err = c.Publish(ctx, client.MessageStatus(1111, webhook.IntegrationMessageStatus{
		ChannelID: "0123456", ChannelType: "whatsapp", ContactPhone: "628123456789",
		Status: "delivered", Timestamp: 1587352926788, // no TrxID
	}))
	if errors.As(err, &e) {
		for _, f := range e.Fields {
			fmt.Println(e.StatusCode, f.Field)
		}
	}
	// Output:
	// organization 1111 ready
	// event stored: true delivery: false
	// batch stored: 2500
	// 422 integrationMessageStatus.trxID
}
