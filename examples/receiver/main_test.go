package main

import (
	"bytes"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/onetalk/onetalk-webhooks/internal/event"
	"github.com/onetalk/onetalk-webhooks/webhook"
)

const secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSwMfKQ9r8GKYo="

// post sends body to the receiver, signed with sign (or unsigned when
// sign is empty), and returns the answer and what the receiver logged.
func post(t *testing.T, sign string, body []byte) (int, string) {
	t.Helper()
	h, err := newHandler(secret)
	if err != nil {
		t.Fatal(err)
	}
	var logged bytes.Buffer
	log.SetOutput(&logged)
	t.Cleanup(func() { log.SetOutput(os.Stderr) })

	req := httptest.NewRequest("POST", "/onetalk", bytes.NewReader(body))
	if sign != "" {
		key, err := webhook.DecodeSecret(sign)
		if err != nil {
			t.Fatal(err)
		}
		now := time.Now()
		req.Header.Set(webhook.HeaderID, "evt_01JTEST")
		req.Header.Set(webhook.HeaderTimestamp, strconv.FormatInt(now.Unix(), 10))
		req.Header.Set(webhook.HeaderSignature, webhook.NewSigner(key).Sign("evt_01JTEST", now, body))
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec.Code, logged.String()
}

func TestReceiverHandlesTheExamples(t *testing.T) {
	for typ, want := range map[string]string{
		event.TypeCaseResolved:             "evt_01JTEST org 77: case 958CCF3BB6 resolved",
		event.TypeIntegrationMessageStatus: "evt_01JTEST org 77: message 000000-0000-0000-0000-000000 to 628123456789 is delivered",
	} {
		body, _ := event.Example(typ, 77)
		code, logged := post(t, secret, body)
		if code != http.StatusNoContent || !strings.Contains(logged, want) {
			t.Errorf("%s: %d, logged %q; want 204 and %q", typ, code, logged, want)
		}
	}
}

func TestReceiverAcceptsAnUnknownType(t *testing.T) {
	code, logged := post(t, secret, []byte(`{"type":"case_opened","organizationID":77}`))
	if code != http.StatusNoContent || !strings.Contains(logged, "ignoring event type case_opened") {
		t.Errorf("%d, logged %q; want 204 and the type ignored", code, logged)
	}
}

func TestReceiverRefusesBadSignatures(t *testing.T) {
	body, _ := event.Example(event.TypeCaseResolved, 77)
	other, _ := webhook.NewSecret()
	for name, sign := range map[string]string{"unsigned": "", "another secret": other} {
		if code, logged := post(t, sign, body); code != http.StatusUnauthorized || logged != "" {
			t.Errorf("%s: %d, logged %q; want 401 and nothing handled", name, code, logged)
		}
	}
}

// Given the public key of an Ed25519 webhook, the receiver verifies v1a
// signatures and refuses a tampered body.
func TestReceiverVerifiesEd25519(t *testing.T) {
	sk, err := webhook.NewSigningKey()
	if err != nil {
		t.Fatal(err)
	}
	pk, err := webhook.PublicKey(sk)
	if err != nil {
		t.Fatal(err)
	}
	h, err := newHandler(pk)
	if err != nil {
		t.Fatal(err)
	}
	signer, err := webhook.NewSignerFromSecrets(sk)
	if err != nil {
		t.Fatal(err)
	}
	log.SetOutput(&bytes.Buffer{})
	t.Cleanup(func() { log.SetOutput(os.Stderr) })
	body, _ := event.Example(event.TypeCaseResolved, 77)
	now := time.Now()
	sig := signer.Sign("evt_01JTEST", now, body)
	for _, c := range []struct {
		body []byte
		want int
	}{{body, http.StatusNoContent}, {append(append([]byte(nil), body...), ' '), http.StatusUnauthorized}} {
		req := httptest.NewRequest("POST", "/onetalk", bytes.NewReader(c.body))
		req.Header.Set(webhook.HeaderID, "evt_01JTEST")
		req.Header.Set(webhook.HeaderTimestamp, strconv.FormatInt(now.Unix(), 10))
		req.Header.Set(webhook.HeaderSignature, sig)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != c.want {
			t.Errorf("body of %d bytes: %d, want %d", len(c.body), rec.Code, c.want)
		}
	}
}
