package webhook

import (
	"errors"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestVerifyRoundTrip(t *testing.T) {
	secret := newSecret(t)
	now := time.Now()
	body := []byte(`{"type":"case_resolved","organizationID":1}`)
	sig := NewSigner(mustKey(t, secret)).Sign("evt_1", now, body)
	if err := Verify(secret, headers("evt_1", now.Unix(), sig), body); err != nil {
		t.Fatalf("Verify of a fresh signature: %v", err)
	}
	// The receiver may hold the secret without its prefix.
	if err := Verify(strings.TrimPrefix(secret, "whsec_"), headers("evt_1", now.Unix(), sig), body); err != nil {
		t.Fatalf("Verify with the bare base64 secret: %v", err)
	}
}

func TestVerifyEitherOfTwoSignatures(t *testing.T) {
	cur, prev := newSecret(t), newSecret(t)
	now := time.Now()
	body := []byte(`{}`)
	sig := NewSigner(mustKey(t, cur), mustKey(t, prev)).Sign("evt_1", now, body)
	for name, secret := range map[string]string{"current": cur, "previous": prev} {
		if err := Verify(secret, headers("evt_1", now.Unix(), sig), body); err != nil {
			t.Errorf("receiver with the %s secret: %v", name, err)
		}
	}
	if err := Verify(newSecret(t), headers("evt_1", now.Unix(), sig), body); !errors.Is(err, ErrNoMatchingSignature) {
		t.Errorf("receiver with a third secret: %v, want ErrNoMatchingSignature", err)
	}
}

func TestVerifySkipsOtherSchemes(t *testing.T) {
	secret := newSecret(t)
	now := time.Now()
	body := []byte(`{}`)
	sig := NewSigner(mustKey(t, secret)).Sign("evt_1", now, body)
	// An asymmetric v1a signature and a garbled v1 before the good one.
	mixed := "v1a,AAAA v1,bm90IGl0 " + sig
	if err := Verify(secret, headers("evt_1", now.Unix(), mixed), body); err != nil {
		t.Fatalf("Verify(%q): %v", mixed, err)
	}
	if err := Verify(secret, headers("evt_1", now.Unix(), "v1a,AAAA"), body); !errors.Is(err, ErrInvalidHeaders) {
		t.Fatalf("Verify with no v1 signature: %v, want ErrInvalidHeaders", err)
	}
}

func TestVerifyTampered(t *testing.T) {
	secret := newSecret(t)
	now := time.Now()
	body := []byte(`{"organizationID":1111}`)
	sig := NewSigner(mustKey(t, secret)).Sign("evt_1", now, body)
	cases := map[string]struct {
		id   string
		unix int64
		body string
	}{
		"body":      {"evt_1", now.Unix(), `{"organizationID":2222}`},
		"id":        {"evt_2", now.Unix(), string(body)},
		"timestamp": {"evt_1", now.Unix() - 1, string(body)},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			err := Verify(secret, headers(c.id, c.unix, sig), []byte(c.body))
			if !errors.Is(err, ErrNoMatchingSignature) {
				t.Fatalf("Verify = %v, want ErrNoMatchingSignature", err)
			}
		})
	}
}

func TestVerifyTimestampWindow(t *testing.T) {
	secret := newSecret(t)
	now := time.Unix(1700000000, 0)
	body := []byte(`{}`)
	signer := NewSigner(mustKey(t, secret))
	v, err := NewVerifier(secret)
	if err != nil {
		t.Fatal(err)
	}
	v.Now = func() time.Time { return now }
	cases := []struct {
		name string
		ts   time.Time
		want error
	}{
		{"at the old edge", now.Add(-DefaultTolerance), nil},
		{"at the new edge", now.Add(DefaultTolerance), nil},
		{"too old", now.Add(-DefaultTolerance - time.Second), ErrTimestampTooOld},
		{"too new", now.Add(DefaultTolerance + time.Second), ErrTimestampTooNew},
		{"far past", time.Unix(0, 0), ErrTimestampTooOld},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := v.Verify(headers("evt_1", c.ts.Unix(), signer.Sign("evt_1", c.ts, body)), body)
			if !errors.Is(err, c.want) || (c.want == nil && err != nil) {
				t.Fatalf("Verify = %v, want %v", err, c.want)
			}
		})
	}

	// A wider tolerance lets the old one through.
	v.Tolerance = time.Hour
	old := now.Add(-30 * time.Minute)
	if err := v.Verify(headers("evt_1", old.Unix(), signer.Sign("evt_1", old, body)), body); err != nil {
		t.Fatalf("Verify with a one-hour tolerance, 30 minutes old: %v", err)
	}
}

func TestVerifyExtremeTimestamps(t *testing.T) {
	secret := newSecret(t)
	for _, ts := range []string{"-9223372036854775808", "9223372036854775807"} {
		h := headers("evt_1", 0, "v1,AAAA")
		h.Set(HeaderTimestamp, ts)
		err := Verify(secret, h, nil)
		if !errors.Is(err, ErrTimestampTooOld) && !errors.Is(err, ErrTimestampTooNew) {
			t.Errorf("Verify with timestamp %s = %v, want too old or too new", ts, err)
		}
	}
}

func TestVerifyBadHeaders(t *testing.T) {
	secret := newSecret(t)
	now := time.Now().Unix()
	cases := []struct {
		name   string
		header http.Header
		want   error
		names  string // the headers the error must name
	}{
		{"none", http.Header{}, ErrMissingHeaders, "webhook-id, webhook-timestamp, webhook-signature"},
		{"no id", without(headers("evt_1", now, "v1,AAAA"), HeaderID), ErrMissingHeaders, HeaderID},
		{"no timestamp", without(headers("evt_1", now, "v1,AAAA"), HeaderTimestamp), ErrMissingHeaders, HeaderTimestamp},
		{"no signature", without(headers("evt_1", now, "v1,AAAA"), HeaderSignature), ErrMissingHeaders, HeaderSignature},
		{"timestamp in ms", headers("evt_1", now*1000, "v1,AAAA"), ErrTimestampTooNew, HeaderTimestamp},
		{"timestamp not a number", with(headers("evt_1", now, "v1,AAAA"), HeaderTimestamp, "yesterday"), ErrInvalidHeaders, HeaderTimestamp},
		{"blank signature", with(headers("evt_1", now, "v1,AAAA"), HeaderSignature, "  "), ErrInvalidHeaders, HeaderSignature},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := Verify(secret, c.header, []byte(`{}`))
			if !errors.Is(err, c.want) {
				t.Fatalf("Verify = %v, want %v", err, c.want)
			}
			if !strings.Contains(err.Error(), c.names) {
				t.Fatalf("error %q does not name %s", err, c.names)
			}
		})
	}
}

func TestVerifyLowerCaseHeaderMap(t *testing.T) {
	// A header map built by hand, as from a serverless event, keeps the
	// lower-case names.
	secret := newSecret(t)
	now := time.Now()
	body := []byte(`{}`)
	h := http.Header{
		HeaderID:        {"evt_1"},
		HeaderTimestamp: {strconv.FormatInt(now.Unix(), 10)},
		HeaderSignature: {NewSigner(mustKey(t, secret)).Sign("evt_1", now, body)},
	}
	if err := Verify(secret, h, body); err != nil {
		t.Fatal(err)
	}
}

func TestVerifyBadSecret(t *testing.T) {
	for _, s := range []string{"", "whsec_", "whsec_%%%"} {
		if err := Verify(s, headers("evt_1", time.Now().Unix(), "v1,AAAA"), nil); err == nil || errors.Is(err, ErrNoMatchingSignature) {
			t.Errorf("Verify with secret %q = %v, want a secret error", s, err)
		}
		if _, err := NewVerifier(s); err == nil {
			t.Errorf("NewVerifier(%q) succeeded", s)
		}
	}
}

func without(h http.Header, name string) http.Header { h.Del(name); return h }

func with(h http.Header, name, value string) http.Header { h.Set(name, value); return h }
