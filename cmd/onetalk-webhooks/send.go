package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/onetalk/onetalk-webhooks/internal/event"
	"github.com/onetalk/onetalk-webhooks/internal/otw"
	"github.com/onetalk/onetalk-webhooks/webhook"
)

// sendTimeout bounds one send: the service's own delivery timeout.
const sendTimeout = 15 * time.Second

// maxShownAnswer bounds how much of the answer's body send prints.
const maxShownAnswer = 64 << 10

// send POSTs the example of an event type, signed as the service signs a
// delivery, to any URL: so that someone building a receiver can try it
// before the service has a webhook for them.
func send(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("send", flag.ContinueOnError)
	fs.SetOutput(stderr)
	target := fs.String("url", "", "the receiver's URL (required)")
	eventType := fs.String("event", event.TypeCaseResolved, "event type: "+event.TypeIntegrationMessageStatus+" or "+event.TypeCaseResolved)
	secret := fs.String("secret", "", "signing secret whsec_…, or an Ed25519 signing key whsk_… (signs v1a); a new whsec_ is generated and printed when empty")
	org := fs.Int64("org", 0, "organizationID in the event; 0 keeps the example's own")
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), "Usage: onetalk-webhooks send --url URL [--event TYPE] [--secret whsec_…|whsk_…] [--org N]\n\n"+
			"POSTs the example event of TYPE to URL, signed as the service signs deliveries, and\n"+
			"prints the answer. Exits 1 when the answer is not 2xx.\n\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	if err := checkTargetURL(*target); err != nil {
		return err
	}
	body, err := exampleBody(*eventType, *org)
	if err != nil {
		return err
	}
	if *secret == "" {
		if *secret, err = webhook.NewSecret(); err != nil {
			return err
		}
		// Printed because the receiver needs it to verify; it is a throwaway
		// secret made for this one request.
		fmt.Fprintln(stdout, "secret:", *secret)
	}
	signer, err := webhook.NewSignerFromSecrets(*secret)
	if err != nil {
		return fmt.Errorf("--secret: %v", err)
	}
	if strings.HasPrefix(*secret, webhook.SigningKeyPrefix) {
		// The receiver verifies with the public key, not the signing key.
		pk, err := webhook.PublicKey(*secret)
		if err != nil {
			return fmt.Errorf("--secret: %v", err)
		}
		fmt.Fprintln(stdout, "public key:", pk)
	}

	ctx, cancel := context.WithTimeout(ctx, sendTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, *target, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("--url: %v", err)
	}
	now := time.Now()
	id := otw.NewID("evt_", now)
	// The headers exactly as the dispatcher sets them (delivery/attempt.go):
	// lower-case names as Standard Webhooks spells them.
	req.Header = http.Header{
		"Content-Type":      {"application/json"},
		"User-Agent":        {"onetalk-webhooks/" + otw.Version},
		"webhook-id":        {id},
		"webhook-timestamp": {strconv.FormatInt(now.Unix(), 10)},
		"webhook-signature": {signer.Sign(id, now, body)},
	}
	// Like the service, follow no redirect: a receiver that answers 3xx
	// should see that here, not on its first real delivery.
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	fmt.Fprintf(stdout, "POST %s %s webhook-id %s\n", *target, *eventType, id)
	fmt.Fprintln(stdout, resp.Proto, resp.Status)
	answer, err := io.ReadAll(io.LimitReader(resp.Body, maxShownAnswer))
	stdout.Write(answer)
	if len(answer) > 0 && answer[len(answer)-1] != '\n' {
		fmt.Fprintln(stdout)
	}
	if err != nil {
		return fmt.Errorf("reading the answer: %v", err)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		// Exit code 1: a script can tell the receiver refused.
		return fmt.Errorf("the receiver answered %s, not 2xx", resp.Status)
	}
	return nil
}

// checkTargetURL names what is wrong with --url before anything is sent.
func checkTargetURL(s string) error {
	if s == "" {
		return errors.New("--url is required")
	}
	u, err := url.Parse(s)
	if err != nil {
		return fmt.Errorf("--url: %v", err)
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("--url %q: want an absolute http or https URL", s)
	}
	return nil
}

// exampleBody returns the example of the type, with org as its
// organizationID, or the example's own when org is 0.
func exampleBody(eventType string, org int64) ([]byte, error) {
	if !event.Known(eventType) {
		return nil, fmt.Errorf("--event %q: want %s or %s", eventType, event.TypeIntegrationMessageStatus, event.TypeCaseResolved)
	}
	if org < 0 {
		return nil, fmt.Errorf("--org %d: want a positive organizationID", org)
	}
	if org == 0 {
		for _, t := range event.Types() {
			if t.Name != eventType {
				continue
			}
			var e struct {
				OrganizationID int64 `json:"organizationID"`
			}
			if err := json.Unmarshal(t.Example, &e); err != nil {
				return nil, err
			}
			org = e.OrganizationID
		}
	}
	return event.Example(eventType, org)
}
