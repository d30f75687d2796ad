package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"slices"
	"strings"
	"sync/atomic"
	"time"
)

const (
	hostilePerTenant = 150                    // deliveries queued for each hostile tenant
	healthyEvery     = 200 * time.Millisecond // the healthy tenant's pace
	hostileGrace     = 3 * time.Second        // --shutdown-grace of the SIGTERM at the end
)

// runHostileBench measures what hostile receivers do to everyone else: one
// tenant per hostileKind with 150 deliveries queued, while a healthy tenant
// publishes one event every 200 ms for bc.hostileFor to a fast receiver;
// then the service is stopped as SIGTERM stops serve (app.run, with a 3 s
// grace). It prints the healthy tenant's publish → receipt latency, the
// time from SIGTERM to exit and the process's peak RSS.
func runHostileBench(ctx context.Context, bc benchConfig, stdout, stderr io.Writer) error {
	n := max(1, int(bc.hostileFor/healthyEvery))
	healthy := &benchReceiver{arrivedAt: make([]atomic.Int64, n)}
	rln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	rsrv := &http.Server{Handler: healthy, ReadHeaderTimeout: 10 * time.Second}
	go rsrv.Serve(rln)
	defer rsrv.Close()
	var hostile []*hostileReceiver
	for _, kind := range hostileKinds {
		h, err := newHostileReceiver(kind)
		if err != nil {
			return err
		}
		defer h.Close()
		hostile = append(hostile, h)
	}

	cfg, cleanup, err := benchServiceConfig(ctx, bc.db)
	if err != nil {
		return err
	}
	defer cleanup()
	cfg.shutdownGrace = hostileGrace
	a, err := newApp(ctx, cfg, slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelError})))
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	base := "http://" + ln.Addr().String()
	runCtx, sigterm := context.WithCancel(ctx)
	defer sigterm()
	exited := make(chan error, 1)
	go func() { exited <- a.run(runCtx, ln) }() // what serve runs

	client := &http.Client{Timeout: 30 * time.Second}
	if err := benchSetup(client, base, a.adminToken, "http://"+rln.Addr().String()+"/hook"); err != nil {
		return err
	}
	for i, h := range hostile {
		org := 2001 + i
		if err := benchOrg(client, base, a.adminToken, org, h.URL); err != nil {
			return err
		}
		if err := benchCall(client, "POST", base+"/v1/events/batch", a.adminToken, hostileBatch(org, hostilePerTenant), 202, nil); err != nil {
			return err
		}
	}
	fmt.Fprintf(stderr, "%d hostile tenants with %d deliveries each; the healthy tenant publishes one event every %s for %s…\n",
		len(hostile), hostilePerTenant, healthyEvery, bc.hostileFor)
	time.Sleep(time.Second) // the hostile tenants take the workers they can

	publishedAt := make([]int64, n)
	tick := time.NewTicker(healthyEvery)
	for i := range n {
		select {
		case <-tick.C:
		case <-ctx.Done():
			return ctx.Err()
		}
		publishedAt[i] = time.Now().UnixNano()
		if err := benchCall(client, "POST", base+"/v1/events", a.adminToken, string(benchEvent(i)), 202, nil); err != nil {
			return err
		}
	}
	tick.Stop()
	// Late events get a delivery timeout and a few seconds more.
	waitEnd := time.Now().Add(cfg.deliveryTimeout + 5*time.Second)
	for healthy.received.Load() < int64(n) && time.Now().Before(waitEnd) && ctx.Err() == nil {
		time.Sleep(10 * time.Millisecond)
	}
	if now := time.Now(); now.Before(waitEnd) {
		waitEnd = now
	}
	lat := make([]time.Duration, n)
	missing := 0
	for i := range n {
		at := healthy.arrivedAt[i].Load()
		if at == 0 {
			missing++
			at = waitEnd.UnixNano() // a lower bound
		}
		lat[i] = time.Duration(at - publishedAt[i])
	}
	slices.Sort(lat)
	var held []string
	for _, h := range hostile {
		held = append(held, fmt.Sprintf("%s %d", h.kind, h.requests.Load()))
	}

	sigterm()
	stopping := time.Now()
	exit := "still running " + (hostileGrace + 30*time.Second).String() + " after SIGTERM: hung"
	select {
	case err := <-exited:
		a.close() // serve's last step before the process ends
		exit = fmt.Sprintf("%.2f s", time.Since(stopping).Seconds())
		if err != nil {
			exit += " (" + err.Error() + ")"
		}
	case <-time.After(hostileGrace + 30*time.Second):
	}

	w := stdout
	fmt.Fprintf(w, "onetalk-webhooks bench --hostile: %s, delivery timeout %s, %d in flight (%d per webhook)\n",
		benchDBText(bc.db), cfg.deliveryTimeout, cfg.maxInFlight, cfg.perWebhook)
	fmt.Fprintf(w, "%-44s %d × %d deliveries; requests received: %s\n", "hostile tenants", len(hostile), hostilePerTenant, strings.Join(held, ", "))
	fmt.Fprintf(w, "%-44s p50 %s  p99 %s  max %s\n", fmt.Sprintf("healthy publish → receipt (%d events)", n), ms(lat[n/2]), ms(lat[n*99/100]), ms(lat[n-1]))
	if missing > 0 {
		fmt.Fprintf(w, "%-44s %d, counted as arriving when the wait ended (%s after the last publish): the figures above are lower bounds\n",
			"healthy events never delivered", missing, cfg.deliveryTimeout+5*time.Second)
	}
	fmt.Fprintf(w, "%-44s %s\n", fmt.Sprintf("SIGTERM → exit (grace %s)", hostileGrace), exit)
	fmt.Fprintf(w, "%-44s %.1f MB\n", "peak RSS (service, receivers and publisher)", float64(peakRSS())/(1<<20))
	return nil
}
