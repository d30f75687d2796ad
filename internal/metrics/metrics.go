// Package metrics is what the service tells Prometheus at GET /metrics:
// events accepted, deliveries by outcome, attempt latency, answers by
// status code, and the gauges of deliveries pending in the database and
// claimed by this process.
package metrics

import (
	"context"
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Metrics holds the collectors. A nil *Metrics records nothing, so
// packages can take one without caring whether it is wired.
type Metrics struct {
	registry        *prometheus.Registry
	eventsAccepted  prometheus.Counter
	deliveries      *prometheus.CounterVec
	attemptDuration prometheus.Histogram
	answers         *prometheus.CounterVec
	claimed         prometheus.GaugeFunc
}

// New registers the collectors. claimed reports the deliveries this
// process holds claimed (delivery.Dispatcher.Claimed); pending counts the
// pending deliveries in the database (asked at each scrape, with a short
// timeout).
func New(claimed func() int, pending func(ctx context.Context) (int64, error)) *Metrics {
	m := &Metrics{registry: prometheus.NewRegistry()}
	m.eventsAccepted = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "otw_events_accepted_total", Help: "Events accepted (answered 202), whether or not they made a delivery.",
	})
	m.deliveries = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "otw_delivery_attempts_total", Help: "Delivery attempts by what they led to: succeeded, retry (pending again) or failed (no attempt left, or the webhook disabled).",
	}, []string{"outcome"})
	m.attemptDuration = prometheus.NewHistogram(prometheus.HistogramOpts{
		Name:    "otw_attempt_duration_seconds",
		Help:    "Time from the start of a delivery request to the end of the answer.",
		Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 15},
	})
	m.answers = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "otw_attempt_answers_total", Help: "Delivery attempts by the receiver's HTTP status code (\"error\": no answer).",
	}, []string{"code"})
	// The name stays for the dashboards that read it; the help says what
	// it counts.
	m.claimed = prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "otw_deliveries_in_flight",
		Help: "Deliveries this process holds claimed: waiting to start, being sent, or sent and their outcome not yet written (outcomes kept for a retried write are not counted).",
	}, func() float64 { return float64(claimed()) })
	pendingGauge := prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "otw_deliveries_pending", Help: "Deliveries waiting in the database: due, being sent, or waiting for a retry (-1 when the database did not answer).",
	}, func() float64 {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		n, err := pending(ctx)
		if err != nil {
			return -1
		}
		return float64(n)
	})
	m.registry.MustRegister(m.eventsAccepted, m.deliveries, m.attemptDuration, m.answers, m.claimed, pendingGauge,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// Handler serves the metrics in the Prometheus text format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.registry, promhttp.HandlerOpts{})
}

// EventsAccepted counts accepted events.
func (m *Metrics) EventsAccepted(n int) {
	if m != nil {
		m.eventsAccepted.Add(float64(n))
	}
}

// Attempt records one finished attempt: its status code (0 when there
// was no answer), its duration, and the outcome it led to.
func (m *Metrics) Attempt(code int, d time.Duration, outcome string) {
	if m == nil {
		return
	}
	label := "error"
	if code > 0 {
		label = strconv.Itoa(code)
	}
	m.answers.WithLabelValues(label).Inc()
	m.attemptDuration.Observe(d.Seconds())
	m.deliveries.WithLabelValues(outcome).Inc()
}
