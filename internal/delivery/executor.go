package delivery

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptrace"
	"net/textproto"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/onetalk/onetalk-webhooks/internal/netguard"
	"github.com/onetalk/onetalk-webhooks/internal/otw"
	"github.com/onetalk/onetalk-webhooks/internal/store"
	"github.com/onetalk/onetalk-webhooks/internal/tracing"
	"go.opentelemetry.io/otel/trace"
)

const (
	// keptBody is how much of a response is recorded with the attempt.
	keptBody = 4 << 10
	// drainBody is how much more is read (and dropped) so that the
	// connection can be used again; beyond it the connection is closed.
	drainBody = 64 << 10
)

// outcome is what the executor hands to the completer: a finished attempt,
// or (aborted) a lease to give back because shutdown cut the request short.
type outcome struct {
	result  store.AttemptResult
	aborted bool
	// disable, when set, is why the webhook must be disabled after this
	// result is written: 410 Gone, or failing for too long.
	disable string
	// disableKind says which rule disabled it, for the operational event:
	// otw.OpsReasonGone or otw.OpsReasonFailing.
	disableKind string
	took        time.Duration // the request, to the nanosecond, for metrics
	// workerFreed marks an outcome kept for a retried write whose worker
	// was freed already, so other deliveries could go on meanwhile.
	workerFreed bool
	// freedEarly marks a success whose worker was freed when its request
	// ended: it counts against Dispatcher.unwritten until written.
	freedEarly bool
	// refused counts the times the store refused this outcome written
	// alone; deliveryID names it in the log when it is dropped.
	refused    int
	deliveryID string
	// eventID and failingSince (the webhook's, when it was claimed) are
	// for the operational events (see ops.go); ops is the one this
	// outcome causes, decided once and kept with it until written.
	eventID      string
	failingSince *time.Time
	ops          *otw.Event
}

// executor turns one claimed delivery into an outcome: sign, send, judge.
// It speaks HTTP only; the database is the claimer's and the completer's.
type executor struct {
	client    *http.Client
	timeout   time.Duration
	rules     rules
	signers   *signerCache
	userAgent string
	// tracer, when set, makes a span of every attempt and sends its
	// traceparent; nil is tracing off.
	tracer trace.Tracer
}

// execute sends one delivery and decides what happens next. Every way a
// receiver can answer, or not, ends within the timeout: the deadline
// covers connecting, TLS, the headers, any 1xx and the body.
func (x *executor) execute(ctx context.Context, c *store.Claimed) outcome {
	var span trace.Span
	if x.tracer != nil {
		ctx, span = x.startAttempt(ctx, c)
	}
	started := x.rules.now()
	r := x.send(ctx, c, started)
	if r.err != nil && ctx.Err() != nil {
		// Shutdown, not the receiver: no attempt is recorded, and the
		// delivery is given back, due again at once, for the next start
		// or another node.
		if span != nil {
			endAttempt(span, r, "aborted by shutdown; sent again on the next start")
		}
		return outcome{result: store.AttemptResult{Lease: c.Lease, OrganizationID: c.OrganizationID}, aborted: true,
			deliveryID: c.DeliveryID}
	}
	o := x.rules.judge(c, r, started, x.rules.now())
	if span != nil {
		endAttempt(span, r, o.result.Attempt.Error)
	}
	return o
}

// response is what came back from one request: a status, or an error
// when none did (or the answer could not count as one).
type response struct {
	code   int
	body   string
	header http.Header
	err    error
}

// errSwitchingProtocols fails an attempt answered with 101: the
// connection would then be the receiver's to hold for ever, and a webhook
// is answered with a status of its own.
var errSwitchingProtocols = errors.New("the endpoint answered 101 Switching Protocols; a webhook must answer with a final status (2xx), not switch protocols")

// max1xx is how many informational responses (100 Continue, 102, 103) an
// attempt takes before its final status; more fail it.
const max1xx = 5

// endless1xxError fails an attempt answered with informational responses
// beyond max1xx.
type endless1xxError struct{ last int }

func (e endless1xxError) Error() string {
	return fmt.Sprintf("the endpoint sent more than %d informational (1xx) responses and no final status; the last was %d %s",
		max1xx, e.last, http.StatusText(e.last))
}

// send makes the HTTP request under the attempt's deadline and returns
// the status code, the first 4 KiB of the body and the headers.
func (x *executor) send(ctx context.Context, c *store.Claimed, now time.Time) response {
	signer, err := x.signers.get(c.Secret, c.PreviousSecret)
	if err != nil {
		return response{err: err}
	}
	ctx, cancel := context.WithTimeout(ctx, x.timeout)
	defer cancel()
	// One allocation holds the 1xx count and the trace that keeps it; the
	// trace is never shared, since the transport may still call it after
	// the request has given up.
	in := &informationals{}
	in.trace.Got1xxResponse = func(code int, _ textproto.MIMEHeader) error {
		if in.n++; in.n > max1xx {
			return endless1xxError{last: code}
		}
		return nil
	}
	ctx = httptrace.WithClientTrace(ctx, &in.trace)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.URL, bytes.NewReader(c.Body))
	if err != nil {
		return response{err: err}
	}
	// Lower-case names as Standard Webhooks spells them; set directly so
	// that they are not re-canonicalized on every request. The request's
	// own (empty) map is filled, and the five values share one array.
	values := make([]string, 5)
	values[0] = "application/json"
	values[1] = x.userAgent
	values[2] = c.EventID
	values[3] = strconv.FormatInt(now.Unix(), 10)
	values[4] = signer.Sign(c.EventID, now, c.Body)
	req.Header["Content-Type"] = values[0:1:1]
	req.Header["User-Agent"] = values[1:2:2]
	req.Header["webhook-id"] = values[2:3:3]
	req.Header["webhook-timestamp"] = values[3:4:4]
	req.Header["webhook-signature"] = values[4:5:5]
	if x.tracer != nil {
		// The receiver may join the trace: the attempt's span is its parent.
		tracing.Inject(ctx, req.Header)
	}
	resp, err := x.client.Do(req)
	if err != nil {
		return response{err: err}
	}
	defer resp.Body.Close()
	if resp.StatusCode == http.StatusSwitchingProtocols {
		// The body is the raw connection now, out of the deadline's
		// reach: close it unread.
		return response{err: errSwitchingProtocols}
	}
	buf := bodyBuffers.Get().(*[keptBody]byte)
	defer bodyBuffers.Put(buf)
	n, err := readUpTo(resp.Body, buf[:])
	kept := buf[:n]
	// A status line and headers were received: the attempt is judged on
	// them even when the body breaks off.
	r := response{code: resp.StatusCode, header: resp.Header}
	if utf8.Valid(kept) {
		r.body = string(kept)
	} else {
		r.body = string(bytes.ToValidUTF8(kept, []byte("\uFFFD")))
	}
	if err != nil {
		return r // broken off: the connection is not used again
	}
	// Drain through the same buffer, so that the connection can be used
	// again; beyond drainBody it is closed instead.
	for left := drainBody; left > 0; {
		n, err := readUpTo(resp.Body, buf[:min(left, keptBody)])
		if err != nil || n < min(left, keptBody) {
			break
		}
		left -= n
	}
	return r
}

// informationals counts the 1xx responses to one request.
type informationals struct {
	n     int
	trace httptrace.ClientTrace
}

// bodyBuffers holds the buffers that responses are read into: a response
// body is kept as a string, so the buffer is free again once send returns.
var bodyBuffers = sync.Pool{New: func() any { return new([keptBody]byte) }}

// readUpTo reads from r until p is full or r ends, and returns how much it
// read; io.EOF is no error.
func readUpTo(r io.Reader, p []byte) (int, error) {
	n := 0
	for n < len(p) {
		m, err := r.Read(p[n:])
		n += m
		if err == io.EOF {
			return n, nil
		}
		if err != nil {
			return n, err
		}
	}
	return n, nil
}

// describe turns a transport error into what the delivery log shows.
func describe(err error, timeout time.Duration) string {
	var ne net.Error
	var endless endless1xxError
	switch {
	case errors.Is(err, netguard.ErrForbiddenAddress):
		return unwrapURL(err).Error()
	case errors.Is(err, context.DeadlineExceeded) || (errors.As(err, &ne) && ne.Timeout()):
		return fmt.Sprintf("no complete answer within %s", timeout)
	case strings.Contains(err.Error(), "server response headers exceeded"): // net/http exports no error to match
		return fmt.Sprintf("the response headers were larger than %d KiB", maxResponseHeader>>10)
	case errors.As(err, &endless):
		return endless.Error() // without the transport's "connection broken" around it
	}
	return unwrapURL(err).Error()
}

// unwrapURL drops the "Post \"url\": " prefix that net/http adds.
func unwrapURL(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

// describeStatus is the log's error for a status that is not a success.
func describeStatus(code int) string {
	msg := "HTTP " + strconv.Itoa(code) + " " + http.StatusText(code)
	if code >= 300 && code < 400 {
		msg += ": redirects are not followed"
	}
	return msg
}

// attempt is the record of the response as attempt n: its error is the
// transport's, or the status's when it is not a success.
func (r response) attempt(n int, url string, started, ended time.Time, timeout time.Duration) otw.Attempt {
	a := otw.Attempt{N: n, StartedAt: started, DurationMs: ended.Sub(started).Milliseconds(), ResponseBody: r.body, URL: url}
	switch {
	case r.err != nil:
		a.Error = describe(r.err, timeout)
	default:
		code := r.code
		a.StatusCode = &code
		if code < 200 || code > 299 {
			a.Error = describeStatus(code)
		}
	}
	return a
}
