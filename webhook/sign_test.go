package webhook

import (
	"bytes"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// The test vector of the Standard Webhooks spec and its reference libraries.
const (
	katSecret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
	katID     = "msg_p5jXN8AQM9LWM0D4loKWxJek"
	katUnix   = 1614265330
	katBody   = `{"test": 2432232314}`
	katSig    = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
)

func mustKey(t testing.TB, secret string) []byte {
	t.Helper()
	k, err := DecodeSecret(secret)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func TestSignKnownAnswer(t *testing.T) {
	s := NewSigner(mustKey(t, katSecret))
	if got := s.Sign(katID, time.Unix(katUnix, 0), []byte(katBody)); got != katSig {
		t.Fatalf("Sign = %q, want %q", got, katSig)
	}
	// A pooled state, reused, gives the same answer.
	if got := s.Sign(katID, time.Unix(katUnix, 0), []byte(katBody)); got != katSig {
		t.Fatalf("second Sign = %q, want %q", got, katSig)
	}
}

func TestVerifyKnownAnswer(t *testing.T) {
	v, err := NewVerifier(katSecret)
	if err != nil {
		t.Fatal(err)
	}
	v.Now = func() time.Time { return time.Unix(katUnix, 0) }
	if err := v.Verify(headers(katID, katUnix, katSig), []byte(katBody)); err != nil {
		t.Fatalf("Verify of the spec's test vector: %v", err)
	}
}

func TestSignTwoKeysCurrentFirst(t *testing.T) {
	cur, prev := mustKey(t, newSecret(t)), mustKey(t, newSecret(t))
	ts := time.Unix(1700000000, 0)
	body := []byte(`{"type":"case_resolved"}`)
	got := NewSigner(cur, prev).Sign("evt_1", ts, body)
	want := NewSigner(cur).Sign("evt_1", ts, body) + " " + NewSigner(prev).Sign("evt_1", ts, body)
	if got != want {
		t.Fatalf("Sign with two keys = %q, want %q", got, want)
	}
}

func TestSignerCopiesKey(t *testing.T) {
	k := mustKey(t, katSecret)
	s := NewSigner(k)
	k[0] ^= 0xff // the caller reuses its slice before the pool makes a state
	if got := s.Sign(katID, time.Unix(katUnix, 0), []byte(katBody)); got != katSig {
		t.Fatalf("Sign after the caller changed its key slice = %q, want %q", got, katSig)
	}
}

func TestSignConcurrent(t *testing.T) {
	s := NewSigner(mustKey(t, katSecret))
	var wg sync.WaitGroup
	errs := make(chan string, 64)
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 200 {
				if got := s.Sign(katID, time.Unix(katUnix, 0), []byte(katBody)); got != katSig {
					errs <- got
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for got := range errs {
		t.Errorf("concurrent Sign = %q, want %q", got, katSig)
	}
}

func TestSignLongID(t *testing.T) {
	// An id longer than the pooled scratch buffer still signs and verifies.
	secret := newSecret(t)
	id := strings.Repeat("x", 4*maxPooledBuf)
	now := time.Now()
	body := []byte(`{}`)
	sig := NewSigner(mustKey(t, secret)).Sign(id, now, body)
	if err := Verify(secret, headers(id, now.Unix(), sig), body); err != nil {
		t.Fatal(err)
	}
}

func TestNewSignerPanicsWithoutKey(t *testing.T) {
	for name, keys := range map[string][][]byte{"none": nil, "empty": {{}}} {
		t.Run(name, func(t *testing.T) {
			defer func() {
				if recover() == nil {
					t.Fatal("NewSigner did not panic")
				}
			}()
			NewSigner(keys...)
		})
	}
}

func BenchmarkSign(b *testing.B) {
	body := bytes.Repeat([]byte("a"), 300)
	ts := time.Unix(1700000000, 0)
	for n := 1; n <= 2; n++ {
		keys := make([][]byte, n)
		for i := range keys {
			keys[i] = mustKey(b, newSecret(b))
		}
		s := NewSigner(keys...)
		b.Run(strconv.Itoa(n)+"key", func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(body)))
			for b.Loop() {
				s.Sign("evt_2x5Jx7cQf1ZkQ0m3T9yWb6", ts, body)
			}
		})
	}
}

func newSecret(t testing.TB) string {
	t.Helper()
	s, err := NewSecret()
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func headers(id string, unix int64, sig string) http.Header {
	h := http.Header{}
	h.Set(HeaderID, id)
	h.Set(HeaderTimestamp, strconv.FormatInt(unix, 10))
	h.Set(HeaderSignature, sig)
	return h
}
