package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"sync"
	"time"

	"github.com/onetalk/onetalk-webhooks/webhook"
)

// listenSecretEnv lets the secret stay out of the shell history; it is the
// variable examples/receiver reads too.
const listenSecretEnv = "OTW_WEBHOOK_SECRET"

// listen runs a local receiver built on webhook.Handler, the same code a
// receiver written in Go uses: what it accepts, a real receiver accepts.
// It prints every verified event to stdout and every refused request to
// stderr.
func listen(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("listen", flag.ContinueOnError)
	fs.SetOutput(stderr)
	addr := fs.String("addr", "127.0.0.1:9000", "listen address; any path is accepted")
	secret := fs.String("secret", os.Getenv(listenSecretEnv), "signing secret whsec_…, or the public key whpk_… of an Ed25519 webhook ("+listenSecretEnv+")")
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), "Usage: onetalk-webhooks listen [--addr 127.0.0.1:9000] --secret whsec_…|whpk_…\n\n"+
			"Receives webhooks, verifies their signatures (v1 with a secret, v1a with a public key)\n"+
			"and prints each event. Answers 204 to a\n"+
			"valid signature, 401 to a missing or wrong one.\n\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	if *secret == "" {
		return fmt.Errorf("--secret is required (or %s)", listenSecretEnv)
	}
	p := &printer{out: stdout}
	h, err := webhook.Handler(*secret, p.print)
	if err != nil {
		return fmt.Errorf("--secret: %v", err)
	}

	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: logRefused(h, stderr), ReadHeaderTimeout: 10 * time.Second}
	// Printed after Listen, with the port chosen: with --addr 127.0.0.1:0 a
	// caller reads the address from this line.
	fmt.Fprintf(stdout, "listening on http://%s\n", ln.Addr())

	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	shutCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutCtx); err != nil {
		return err
	}
	if err := <-errc; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// printer writes each event whole; requests arrive concurrently.
type printer struct {
	mu  sync.Mutex
	out io.Writer
}

func (p *printer) print(_ context.Context, e *webhook.Event) error {
	var pretty bytes.Buffer
	if err := json.Indent(&pretty, e.Raw, "", "  "); err != nil {
		return err // Parse accepted it, so it is JSON: not reached
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	fmt.Fprintf(p.out, "%s %s webhook-id %s\n%s\n\n", e.Timestamp.UTC().Format(time.RFC3339), e.Type, e.ID, pretty.Bytes())
	return nil
}

// logRefused prints each answer that is not 2xx to w, with the reason
// webhook.Handler gave: a wrong secret is the usual one, and it is worth
// seeing without a packet capture.
func logRefused(h http.Handler, w io.Writer) http.Handler {
	var mu sync.Mutex
	return http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		rec := &statusRecorder{ResponseWriter: rw}
		h.ServeHTTP(rec, r)
		if rec.status >= 200 && rec.status <= 299 {
			return
		}
		mu.Lock()
		defer mu.Unlock()
		fmt.Fprintf(w, "%s %s from %s: %d %s\n", r.Method, r.URL.Path, r.RemoteAddr, rec.status, bytes.TrimSpace(rec.body.Bytes()))
	})
}

// statusRecorder keeps the status and the start of the body of an answer
// while passing both on.
type statusRecorder struct {
	http.ResponseWriter
	status int
	body   bytes.Buffer
}

func (s *statusRecorder) WriteHeader(code int) {
	s.status = code
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusRecorder) Write(b []byte) (int, error) {
	if s.status == 0 {
		s.status = http.StatusOK
	}
	if n := 512 - s.body.Len(); n > 0 {
		s.body.Write(b[:min(n, len(b))])
	}
	return s.ResponseWriter.Write(b)
}
