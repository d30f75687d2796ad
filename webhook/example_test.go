package webhook_test

import (
	"context"
	"fmt"
	"log"
	"net/http"
	"os"
	"time"

	"github.com/onetalk/onetalk-webhooks/webhook"
)

// A receiver: the secret comes from the organization's webhook settings
// (GET /v1/organizations/{org}/webhook/secret).
func Example() {
	h, err := webhook.Handler(os.Getenv("ONETALK_WEBHOOK_SECRET"), func(ctx context.Context, e *webhook.Event) error {
		switch {
		case e.IntegrationMessageStatus != nil:
			s := e.IntegrationMessageStatus
			fmt.Println("message", s.TrxID, "is", s.Status)
		case e.CaseResolved != nil:
			fmt.Println("case", e.CaseResolved.CaseID, "resolved")
		}
		return nil // 204; an error makes the service retry
	})
	if err != nil {
		log.Fatal(err) // the secret is not a whsec_ secret
	}
	http.Handle("POST /onetalk", h)
	log.Fatal(http.ListenAndServe(":8000", nil))
}

// Verifying by hand, in a framework that is not net/http. The Verifier's
// clock is pinned here to the time the Standard Webhooks test vector was
// signed; leave Now unset in a receiver.
func ExampleVerifier() {
	v, err := webhook.NewVerifier("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
	if err != nil {
		log.Fatal(err)
	}
	v.Now = func() time.Time { return time.Unix(1614265330, 0) }

	header := http.Header{}
	header.Set("webhook-id", "msg_p5jXN8AQM9LWM0D4loKWxJek")
	header.Set("webhook-timestamp", "1614265330")
	header.Set("webhook-signature", "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=")
	body := []byte(`{"test": 2432232314}`)

	fmt.Println(v.Verify(header, body))
	fmt.Println(v.Verify(header, []byte(`{"test": 1}`)))
	// Output:
	// <nil>
	// webhook: no matching signature
}
