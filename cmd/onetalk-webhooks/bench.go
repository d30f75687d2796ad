package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
)

// benchConfig is bench's flags.
type benchConfig struct {
	events      int
	db          string
	mode        string // batch or single
	batch       int
	concurrency int
	rate        int // events per second; 0: as fast as possible
	backlog     int
	limitFor    time.Duration
	cpuProfile  string
	hostile     bool          // the hostile-tenants scenario instead (bench_hostile.go)
	hostileFor  time.Duration // how long its healthy tenant publishes
	nodes       int           // serve processes instead of the service in process (bench_nodes.go)
	sizes       bool          // print each table's and index's bytes per event after the run
}

// bench measures the service on this machine: the real HTTP API
// and dispatcher on a fresh database, a receiver on 127.0.0.1, and first
// the machine's own limit for the delivery half: plain keep-alive POSTs of
// the same bodies to the same receiver, with no storage.
func bench(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var bc benchConfig
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.IntVar(&bc.events, "events", 100000, "events to publish")
	fs.StringVar(&bc.db, "db", "sqlite", `"sqlite" (a fresh file in a temporary folder) or a postgres:// URL (a fresh schema in that database, dropped after)`)
	fs.StringVar(&bc.mode, "mode", "batch", `"batch": POST /v1/events/batch; "single": one event per POST /v1/events`)
	fs.IntVar(&bc.batch, "batch", 500, "events per batch in batch mode")
	fs.IntVar(&bc.concurrency, "concurrency", 0, "concurrent publishing clients (default 4 in batch mode, 32 in single mode)")
	fs.IntVar(&bc.rate, "rate", 0, "publish at this many events per second (single mode); 0 publishes as fast as the service takes them")
	fs.IntVar(&bc.backlog, "backlog", 0, "first fill this many pending deliveries with the dispatcher stopped (the receiver down), then start it and measure the drain; replaces --events")
	fs.DurationVar(&bc.limitFor, "limit-for", 3*time.Second, "how long to measure the plain-POST limit")
	fs.StringVar(&bc.cpuProfile, "cpuprofile", "", "write a CPU profile of the service's part of the run to this file")
	fs.BoolVar(&bc.hostile, "hostile", false, "instead: five hostile tenants (101 held, endless 1xx, silent, drip-fed, 1 MB of headers) with 150 deliveries each while a healthy one publishes every 200 ms; then SIGTERM with a 3 s grace")
	fs.DurationVar(&bc.hostileFor, "hostile-for", 20*time.Second, "with --hostile: how long the healthy tenant publishes")
	fs.IntVar(&bc.nodes, "nodes", 0, "PostgreSQL only: run this many serve processes (this binary) on one fresh schema, publishes spread across them, and report their CPU and PostgreSQL's per delivered event")
	fs.BoolVar(&bc.sizes, "sizes", false, "after the run, print each table's and index's size in bytes per event")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if bc.hostile {
		return runHostileBench(ctx, bc, stdout, stderr)
	}
	if bc.backlog > 0 {
		bc.events = bc.backlog
	}
	if bc.concurrency == 0 {
		bc.concurrency = map[string]int{"batch": 4, "single": 32}[bc.mode]
	}
	if bc.events < 1 || bc.batch < 1 || bc.batch > 1000 || bc.concurrency < 1 || (bc.mode != "batch" && bc.mode != "single") {
		return errors.New("bench: --events ≥ 1, --batch 1..1000, --concurrency ≥ 1, --mode batch or single")
	}
	if bc.rate > 0 && bc.mode != "single" {
		return errors.New("bench: --rate needs --mode single")
	}
	if bc.nodes > 0 {
		if bc.db == "sqlite" {
			return errors.New("bench: --nodes needs --db postgres://…: nodes share one database, and a SQLite file belongs to one process")
		}
		if bc.backlog > 0 {
			return errors.New("bench: --nodes and --backlog do not go together")
		}
		return runNodesBench(ctx, bc, stdout, stderr)
	}
	return runBench(ctx, bc, stdout, stderr)
}

// benchReceiver counts what arrives and when, by the event's index.
type benchReceiver struct {
	received  atomic.Int64
	arrivedAt []atomic.Int64 // Unix ns, by event index; 0: not yet
	dupes     atomic.Int64
}

var benchMarker = []byte(`"channelID":"bench-`)

func (br *benchReceiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	if r.URL.Path == "/limit" { // the plain-POST measurement: same work, not counted
		w.WriteHeader(http.StatusNoContent)
		return
	}
	now := time.Now().UnixNano()
	if i := bytes.Index(body, benchMarker); i >= 0 {
		rest := body[i+len(benchMarker):]
		if j := bytes.IndexByte(rest, '"'); j > 0 {
			if n, err := strconv.Atoi(string(rest[:j])); err == nil && n >= 0 && n < len(br.arrivedAt) {
				if !br.arrivedAt[n].CompareAndSwap(0, now) {
					br.dupes.Add(1)
				}
			}
		}
	}
	br.received.Add(1)
	w.WriteHeader(http.StatusNoContent)
}

// benchEvent is the i-th event: mixed platform events, three statuses per
// message (so the order rule is at work), each with a unique channelID that
// tells the receiver which event arrived.
func benchEvent(i int) []byte {
	if i%2 == 1 {
		return fmt.Appendf(nil, `{"organizationID":1111,"type":"case_resolved","caseResolved":{"caseID":"case-%d","channelType":"whatsapp","channelID":"bench-%d","topicID":1,"topicName":"Finance","assigneeType":"agent","chatbotID":"","chatbotName":"","agentEmail":"john@example.com","agentFullName":"John","isJunk":false,"agentRemark":"Hello world 3","createdTime":1589354307263,"counterStartTime":1589354307263,"firstResponseTime":1589355184000,"resolvedTime":1615305000400,"isResolvedByAgent":true,"isResolvedByChatbot":false,"isResolvedByContact":false,"isResolvedBySystem":false,"labels":["follow up","hello world"],"contact":{"id":"e148aa04-3e8f-4dd9-82c1-e53c1a93eac1","fullName":"John Doe","alias":"John","email":"","phone":"6281234567890","customerUserID":"johndoe","companyName":"","jobTitle":"","agentRemark":"","customFields":{"customer_id":{"fieldType":"single_line","value":""}}}}}`, i, i)
	}
	status := [...]string{"acknowledge", "delivered", "read"}[(i/2)%3]
	return fmt.Appendf(nil, `{"type":"integration_message_status","integrationMessageStatus":{"channelID":"bench-%d","channelType":"whatsapp","contactPhone":"628123456789","reason":"","status":%q,"timestamp":1587352926788,"trxID":"trx-%d"},"organizationID":1111}`, i, status, i/6)
}

func runBench(ctx context.Context, bc benchConfig, stdout, stderr io.Writer) error {
	rcv, rln, stopReceiver, err := startBenchReceiver(bc.events)
	if err != nil {
		return err
	}
	defer stopReceiver()
	receiverURL := "http://" + rln.Addr().String() + "/hook"

	cfg, cleanup, err := benchServiceConfig(ctx, bc.db)
	if err != nil {
		return err
	}
	defer cleanup()
	fmt.Fprintf(stderr, "measuring the machine's limit: plain keep-alive POSTs to the receiver, %d at a time, for %s…\n", cfg.perWebhook, bc.limitFor)
	limit := plainPostLimit(ctx, "http://"+rln.Addr().String()+"/limit", cfg.perWebhook, bc.limitFor)
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelError}))
	a, err := newApp(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer a.close()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	base := "http://" + ln.Addr().String()
	srv := &http.Server{Handler: a.handler, ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(ln)
	defer srv.Close()
	dctx, stopDispatch := context.WithCancel(ctx)
	defer stopDispatch()
	var dispatched <-chan error
	startDispatcher := func() { dispatched = a.work(dctx) }
	if bc.backlog == 0 {
		startDispatcher()
	}

	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 256, MaxConnsPerHost: 0}}
	if err := benchSetup(client, base, a.adminToken, receiverURL); err != nil {
		return err
	}

	if bc.cpuProfile != "" {
		f, err := os.Create(bc.cpuProfile)
		if err != nil {
			return err
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer func() { pprof.StopCPUProfile(); f.Close() }()
	}
	publishedAt, answeredIn := make([]int64, bc.events), make([]int64, bc.events)
	progressDone := make(chan struct{})
	var published atomic.Int64
	go benchProgress(stderr, bc.events, &published, &rcv.received, progressDone)
	start := time.Now()
	if err := benchPublish(ctx, client, []string{base}, a.adminToken, bc, publishedAt, answeredIn, &published); err != nil {
		close(progressDone)
		return err
	}
	publishDone := time.Now()
	drainStart := start
	if bc.backlog > 0 {
		drainStart = time.Now()
		startDispatcher()
	}
	for rcv.received.Load() < int64(bc.events) {
		if ctx.Err() != nil {
			close(progressDone)
			return ctx.Err()
		}
		time.Sleep(5 * time.Millisecond)
	}
	var last int64
	for i := range rcv.arrivedAt {
		last = max(last, rcv.arrivedAt[i].Load())
	}
	close(progressDone)
	stopDispatch()
	<-dispatched

	dbSize := benchDBSize(ctx, cfg)
	lat := make([]time.Duration, 0, bc.events)
	for i := range rcv.arrivedAt {
		if t := rcv.arrivedAt[i].Load(); t > 0 && bc.backlog == 0 {
			lat = append(lat, time.Duration(t-publishedAt[i]))
		}
	}
	slices.Sort(lat)
	var answered []time.Duration
	for _, d := range answeredIn {
		if d > 0 {
			answered = append(answered, time.Duration(d))
		}
	}
	slices.Sort(answered)
	deliveredPerSec := float64(bc.events) / time.Duration(last-drainStart.UnixNano()).Seconds()

	w := stdout
	fmt.Fprintf(w, "onetalk-webhooks bench: %d events, %s, %s\n", bc.events, benchModeText(bc), benchDBText(bc.db))
	fmt.Fprintf(w, "%-44s %12.0f POSTs/s\n", fmt.Sprintf("machine limit (plain POSTs, %d at a time)", cfg.perWebhook), limit)
	if bc.backlog == 0 {
		fmt.Fprintf(w, "%-44s %12.0f events/s\n", "accepted (202, committed)", float64(bc.events)/publishDone.Sub(start).Seconds())
	} else {
		fmt.Fprintf(w, "%-44s %12.0f events/s\n", "backlog filled (dispatcher stopped)", float64(bc.events)/publishDone.Sub(start).Seconds())
	}
	fmt.Fprintf(w, "%-44s %12.0f deliveries/s  (%.2f of the limit)\n", "delivered end to end", deliveredPerSec, deliveredPerSec/limit)
	if len(answered) > 0 && bc.backlog == 0 {
		fmt.Fprintf(w, "%-44s p50 %s  p99 %s  max %s\n", "publish → 202", ms(answered[len(answered)/2]), ms(answered[len(answered)*99/100]), ms(answered[len(answered)-1]))
	}
	if len(lat) > 0 {
		fmt.Fprintf(w, "%-44s p50 %s  p99 %s  max %s\n", "publish → receipt", ms(lat[len(lat)/2]), ms(lat[len(lat)*99/100]), ms(lat[len(lat)-1]))
	}
	fmt.Fprintf(w, "%-44s %12.1f MB\n", "peak RSS (service, receiver and publisher)", float64(peakRSS())/(1<<20))
	if dbSize > 0 {
		fmt.Fprintf(w, "%-44s %12.0f bytes per event\n", "database size", float64(dbSize)/float64(bc.events))
	}
	fmt.Fprintf(w, "%-44s %12d\n", "delivered twice", rcv.dupes.Load())
	if bc.sizes {
		return printSizes(ctx, w, cfg, bc.events)
	}
	return nil
}

func benchModeText(bc benchConfig) string {
	switch {
	case bc.backlog > 0:
		return fmt.Sprintf("backlog drain, filled in batches of %d", bc.batch)
	case bc.mode == "batch":
		return fmt.Sprintf("batches of %d, %d publishers", bc.batch, bc.concurrency)
	case bc.rate > 0:
		return fmt.Sprintf("one event per request at %d/s, %d clients", bc.rate, bc.concurrency)
	}
	return fmt.Sprintf("one event per request, %d clients", bc.concurrency)
}

func benchDBText(db string) string {
	if db == "sqlite" {
		return "SQLite"
	}
	return "PostgreSQL"
}

func ms(d time.Duration) string { return fmt.Sprintf("%.1f ms", float64(d)/float64(time.Millisecond)) }

// plainPostLimit POSTs event-sized bodies to url over keep-alive
// connections, as many at once as the dispatcher sends to one webhook
// (concurrency), and returns the POSTs per second: the most any webhook
// service could deliver to this receiver on this machine.
func plainPostLimit(ctx context.Context, url string, concurrency int, d time.Duration) float64 {
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 512}}
	body := benchEvent(0)
	var n atomic.Int64
	deadline := time.Now().Add(d)
	var wg sync.WaitGroup
	for range concurrency {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for time.Now().Before(deadline) && ctx.Err() == nil {
				resp, err := client.Post(url, "application/json", bytes.NewReader(body))
				if err != nil {
					continue
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				n.Add(1)
			}
		}()
	}
	start := time.Now()
	wg.Wait()
	return float64(n.Load()) / time.Since(start).Seconds()
}

// benchServiceConfig is serve's configuration (defaults and OTW_*
// variables, so a setting can be measured) on a fresh database.
func benchServiceConfig(ctx context.Context, db string) (config, func(), error) {
	var cfg config
	if err := cfg.parse(cfg.flags("bench", io.Discard), nil); err != nil {
		return cfg, nil, err
	}
	key := make([]byte, 32)
	rand.Read(key) // never fails: see "Randomness cannot fail" in docs/design.md
	cfg.secretKey = base64.StdEncoding.EncodeToString(key)
	cfg.adminToken = "ota_bench_" + hex.EncodeToString(key[:8])
	cfg.allowPrivate = true
	if db == "sqlite" {
		dir, err := os.MkdirTemp("", "otw-bench-")
		if err != nil {
			return cfg, nil, err
		}
		cfg.db = "sqlite:" + filepath.Join(dir, "otw.db")
		return cfg, func() {
			if os.Getenv("OTW_BENCH_KEEP") == "" {
				os.RemoveAll(dir)
			} else {
				fmt.Fprintln(os.Stderr, "kept", dir)
			}
		}, nil
	}
	schema := "otw_bench_" + hex.EncodeToString(key[8:14])
	conn, err := pgx.Connect(ctx, db)
	if err != nil {
		return cfg, nil, fmt.Errorf("bench: connecting to PostgreSQL: %w", err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "CREATE SCHEMA "+schema); err != nil {
		return cfg, nil, err
	}
	u, err := url.Parse(db)
	if err != nil {
		return cfg, nil, err
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	cfg.db = u.String()
	return cfg, func() {
		if c, err := pgx.Connect(context.Background(), db); err == nil {
			c.Exec(context.Background(), "DROP SCHEMA "+schema+" CASCADE")
			c.Close(context.Background())
		}
	}, nil
}

// benchSetup creates the organization and its webhook through the API.
func benchSetup(client *http.Client, base, admin, receiverURL string) error {
	return benchOrg(client, base, admin, 1111, receiverURL)
}

// benchOrg creates organization id with a webhook to receiverURL.
func benchOrg(client *http.Client, base, admin string, id int, receiverURL string) error {
	var org struct{ APIKey string }
	if err := benchCall(client, "POST", base+"/v1/organizations", admin, fmt.Sprintf(`{"organizationID":%d,"name":"Bench %d"}`, id, id), 201, &org); err != nil {
		return err
	}
	return benchCall(client, "PUT", fmt.Sprintf("%s/v1/organizations/%d/webhook", base, id), org.APIKey,
		`{"enabled":true,"url":"`+receiverURL+`","subscribedEvents":["integration_message_status","case_resolved"]}`, 200, nil)
}

func benchCall(client *http.Client, method, url, token, body string, want int, out any) error {
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != want {
		return fmt.Errorf("bench: %s %s: %d %s", method, url, resp.StatusCode, b)
	}
	if out != nil {
		return json.Unmarshal(b, out)
	}
	return nil
}

// benchPublish publishes every event, recording when each was sent.
// With several bases (nodes), request k goes to bases[k % len(bases)].
// benchPublish publishes bc.events events and records, by event index,
// when each was sent (publishedAt) and, at the index of each request's
// first event, how long its 202 took (answeredIn, in nanoseconds).
func benchPublish(ctx context.Context, client *http.Client, bases []string, admin string, bc benchConfig, publishedAt, answeredIn []int64, published *atomic.Int64) error {
	per := 1
	path := "/v1/events"
	if bc.mode == "batch" || bc.backlog > 0 {
		per, path = bc.batch, "/v1/events/batch"
	}
	jobs := make(chan int)
	errs := make(chan error, bc.concurrency)
	var wg sync.WaitGroup
	for range bc.concurrency {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var body bytes.Buffer
			for first := range jobs {
				n := min(per, bc.events-first)
				body.Reset()
				if per > 1 {
					body.WriteByte('[')
				}
				for i := first; i < first+n; i++ {
					if i > first {
						body.WriteByte(',')
					}
					body.Write(benchEvent(i))
				}
				if per > 1 {
					body.WriteByte(']')
				}
				now := time.Now().UnixNano()
				for i := first; i < first+n; i++ {
					publishedAt[i] = now
				}
				if err := benchCall(client, "POST", bases[(first/per)%len(bases)]+path, admin, body.String(), 202, nil); err != nil {
					errs <- err
					return
				}
				answeredIn[first] = time.Now().UnixNano() - now
				published.Add(int64(n))
			}
		}()
	}
	var interval time.Duration
	if bc.rate > 0 {
		interval = time.Second / time.Duration(bc.rate)
	}
	start := time.Now()
feed:
	for first := 0; first < bc.events; first += per {
		if interval > 0 {
			if wait := time.Until(start.Add(time.Duration(first) * interval)); wait > 0 {
				time.Sleep(wait)
			}
		}
		select {
		case jobs <- first:
		case err := <-errs:
			close(jobs)
			wg.Wait()
			return err
		case <-ctx.Done():
			break feed
		}
	}
	close(jobs)
	wg.Wait()
	select {
	case err := <-errs:
		return err
	default:
	}
	return ctx.Err()
}

// benchProgress draws a progress bar on stderr until done closes.
func benchProgress(w io.Writer, total int, published, delivered *atomic.Int64, done chan struct{}) {
	tick := time.NewTicker(200 * time.Millisecond)
	defer tick.Stop()
	draw := func() {
		p, d := published.Load(), delivered.Load()
		const width = 30
		filled := int(float64(width) * float64(d) / float64(total))
		fmt.Fprintf(w, "\r[%s%s] published %d/%d, delivered %d ", strings.Repeat("#", min(filled, width)), strings.Repeat(".", width-min(filled, width)), p, total, d)
	}
	for {
		select {
		case <-done:
			draw()
			fmt.Fprintln(w)
			return
		case <-tick.C:
			draw()
		}
	}
}

// benchDBSize is the database's size on disk.
func benchDBSize(ctx context.Context, cfg config) int64 {
	if path := cfg.sqlitePath(); path != "" {
		var n int64
		for _, p := range []string{path, path + "-wal"} {
			if st, err := os.Stat(p); err == nil {
				n += st.Size()
			}
		}
		return n
	}
	conn, err := pgx.Connect(ctx, cfg.db)
	if err != nil {
		return 0
	}
	defer conn.Close(ctx)
	var n int64
	conn.QueryRow(ctx, `SELECT coalesce(sum(pg_total_relation_size(c.oid)), 0) FROM pg_class c
		JOIN pg_namespace ns ON ns.oid = c.relnamespace WHERE ns.nspname = current_schema() AND c.relkind = 'r'`).Scan(&n)
	return n
}

// peakRSS is this process's peak resident memory (VmHWM), in bytes.
func peakRSS() int64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return kb << 10
		}
	}
	return 0
}

// startBenchReceiver serves a receiver for n events on a free port of
// 127.0.0.1 until stop.
func startBenchReceiver(n int) (rcv *benchReceiver, ln net.Listener, stop func(), err error) {
	rcv = &benchReceiver{arrivedAt: make([]atomic.Int64, n)}
	if ln, err = net.Listen("tcp", "127.0.0.1:0"); err != nil {
		return nil, nil, nil, err
	}
	srv := &http.Server{Handler: rcv, ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(ln)
	return rcv, ln, func() { srv.Close() }, nil
}
