package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
)

// runNodesBench is bench --nodes N: N serve processes (this binary) on one
// fresh PostgreSQL schema, with the same admin token and secret key, the
// publishes spread across them and the receiver in this process. Besides
// the rates it reports the CPU the nodes and PostgreSQL spent per delivered
// event, read from /proc: the nodes' user+sys time, and that of the
// PostgreSQL backends serving the nodes (found in pg_stat_activity by the
// application_name the nodes connect with), so that a capacity model can
// rest on it (docs/capacity.md).
func runNodesBench(ctx context.Context, bc benchConfig, stdout, stderr io.Writer) error {
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
	appName := "otw-bench-nodes-" + strconv.Itoa(os.Getpid())
	u, err := url.Parse(cfg.db)
	if err != nil {
		return err
	}
	q := u.Query()
	q.Set("application_name", appName)
	u.RawQuery = q.Encode()
	nodeDB := u.String()

	fmt.Fprintf(stderr, "measuring the machine's limit: plain keep-alive POSTs to the receiver, %d at a time, for %s…\n", cfg.perWebhook, bc.limitFor)
	limit := plainPostLimit(ctx, "http://"+rln.Addr().String()+"/limit", cfg.perWebhook, bc.limitFor)

	exe, err := os.Executable()
	if err != nil {
		return err
	}
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "OTW_DB=") && !strings.HasPrefix(kv, "OTW_ADDR=") && !strings.HasPrefix(kv, "OTW_ADMIN_TOKEN=") && !strings.HasPrefix(kv, "OTW_SECRET_KEY=") {
			env = append(env, kv)
		}
	}
	env = append(env, "OTW_DB="+nodeDB, "OTW_ADMIN_TOKEN="+cfg.adminToken, "OTW_SECRET_KEY="+cfg.secretKey, "OTW_ALLOW_PRIVATE_TARGETS=true")
	logDir, err := os.MkdirTemp("", "otw-bench-nodes-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(logDir)
	var nodes []*exec.Cmd
	var bases []string
	defer func() {
		for _, n := range nodes {
			n.Process.Signal(syscall.SIGTERM)
		}
		for _, n := range nodes {
			n.Wait()
		}
	}()
	for i := range bc.nodes {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return err
		}
		addr := l.Addr().String()
		l.Close()
		logf, err := os.Create(filepath.Join(logDir, fmt.Sprintf("node%d.log", i+1)))
		if err != nil {
			return err
		}
		defer logf.Close()
		cmd := exec.Command(exe, "serve", "--addr", addr)
		cmd.Env = append(slices.Clone(env), "OTW_ADDR="+addr)
		cmd.Stdout, cmd.Stderr = logf, logf
		if err := cmd.Start(); err != nil {
			return err
		}
		nodes = append(nodes, cmd)
		bases = append(bases, "http://"+addr)
	}
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 256}}
	for i, base := range bases {
		if err := waitReady(ctx, client, base); err != nil {
			b, _ := os.ReadFile(filepath.Join(logDir, fmt.Sprintf("node%d.log", i+1)))
			return fmt.Errorf("bench: node %d did not become ready: %w\n%s", i+1, err, b)
		}
	}
	if err := benchSetup(client, bases[0], cfg.adminToken, receiverURL); err != nil {
		return err
	}
	pgConn, err := pgx.Connect(ctx, bc.db)
	if err != nil {
		return err
	}
	defer pgConn.Close(ctx)
	nodeCPU := func() time.Duration {
		var d time.Duration
		for _, n := range nodes {
			d += procCPU(n.Process.Pid)
		}
		return d
	}
	// A backend is counted from the first time it is seen; one that
	// started and ended between two looks would be missed, but the nodes'
	// pools keep theirs open.
	pgSeen := map[int]time.Duration{} // pid → CPU at the first look
	pgLast := map[int]time.Duration{}
	pgLook := func() {
		rows, err := pgConn.Query(ctx, `SELECT pid FROM pg_stat_activity WHERE application_name = $1`, appName)
		if err != nil {
			return
		}
		pids, _ := pgx.CollectRows(rows, pgx.RowTo[int32])
		for _, p := range pids {
			c := procCPU(int(p))
			if _, ok := pgSeen[int(p)]; !ok {
				pgSeen[int(p)] = c
			}
			pgLast[int(p)] = c
		}
	}
	pgCPU := func() time.Duration {
		var d time.Duration
		for p, c := range pgLast {
			d += c - pgSeen[p]
		}
		return d
	}
	var wal0 string // WAL position: the WAL written per event (the whole server's)
	pgConn.QueryRow(ctx, `SELECT pg_current_wal_lsn()::text`).Scan(&wal0)
	allPG0 := allPostgresCPU()
	pgLook()
	node0 := nodeCPU()

	publishedAt := make([]int64, bc.events)
	progressDone := make(chan struct{})
	var published atomic.Int64
	go benchProgress(stderr, bc.events, &published, &rcv.received, progressDone)
	looking := make(chan struct{})
	go func() { // new backends appear as the pools grow
		defer close(looking)
		t := time.NewTicker(200 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-progressDone:
				return
			case <-t.C:
				pgLook()
			}
		}
	}()
	start := time.Now()
	if err := benchPublish(ctx, client, bases, cfg.adminToken, bc, publishedAt, make([]int64, bc.events), &published); err != nil {
		close(progressDone)
		return err
	}
	publishDone := time.Now()
	for rcv.received.Load() < int64(bc.events) {
		if ctx.Err() != nil {
			close(progressDone)
			return ctx.Err()
		}
		time.Sleep(5 * time.Millisecond)
	}
	close(progressDone)
	<-looking
	pgLook()
	nodesUsed := nodeCPU() - node0
	pgUsed := pgCPU()
	allPGUsed := allPostgresCPU() - allPG0
	var walBytes float64
	pgConn.QueryRow(ctx, `SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), $1::pg_lsn)::float8`, wal0).Scan(&walBytes)
	var last int64
	lat := make([]time.Duration, 0, bc.events)
	for i := range rcv.arrivedAt {
		t := rcv.arrivedAt[i].Load()
		last = max(last, t)
		if t > 0 {
			lat = append(lat, time.Duration(t-publishedAt[i]))
		}
	}
	slices.Sort(lat)
	wall := time.Duration(last - start.UnixNano())
	deliveredPerSec := float64(bc.events) / wall.Seconds()
	perEvent := func(d time.Duration) string {
		return fmt.Sprintf("%12.1f µs CPU per event  (%.2f cores)", float64(d.Microseconds())/float64(bc.events), d.Seconds()/wall.Seconds())
	}

	w := stdout
	fmt.Fprintf(w, "onetalk-webhooks bench: %d events, %s, %d serve processes on PostgreSQL\n", bc.events, benchModeText(bc), bc.nodes)
	fmt.Fprintf(w, "%-44s %12.0f POSTs/s\n", fmt.Sprintf("machine limit (plain POSTs, %d at a time)", cfg.perWebhook), limit)
	fmt.Fprintf(w, "%-44s %12.0f events/s\n", "accepted (202, committed)", float64(bc.events)/publishDone.Sub(start).Seconds())
	fmt.Fprintf(w, "%-44s %12.0f deliveries/s  (%.2f of the limit)\n", "delivered end to end", deliveredPerSec, deliveredPerSec/limit)
	if len(lat) > 0 {
		fmt.Fprintf(w, "%-44s p50 %s  p99 %s  max %s\n", "publish → receipt", ms(lat[len(lat)/2]), ms(lat[len(lat)*99/100]), ms(lat[len(lat)-1]))
	}
	fmt.Fprintf(w, "%-44s %s\n", "nodes (user+sys)", perEvent(nodesUsed))
	fmt.Fprintf(w, "%-44s %s\n", fmt.Sprintf("PostgreSQL backends of the nodes (%d)", len(pgSeen)), perEvent(pgUsed))
	fmt.Fprintf(w, "%-44s %s\n", "all postgres processes (others' work too)", perEvent(allPGUsed))
	fmt.Fprintf(w, "%-44s %12.0f bytes per event\n", "WAL written (the whole server's)", walBytes/float64(bc.events))
	fmt.Fprintf(w, "%-44s %12d\n", "delivered twice", rcv.dupes.Load())
	if bc.sizes {
		return printSizes(ctx, w, cfg, bc.events)
	}
	return nil
}

// waitReady polls base/readyz until it answers 200.
func waitReady(ctx context.Context, client *http.Client, base string) error {
	deadline := time.Now().Add(30 * time.Second)
	for {
		err := getReady(client, base)
		if err == nil {
			return nil
		}
		if time.Now().After(deadline) {
			return err
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// getReady asks base/readyz once: nil when it answers 200.
func getReady(client *http.Client, base string) error {
	resp, err := client.Get(base + "/readyz")
	if err != nil {
		return err
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("status %d", resp.StatusCode)
	}
	return nil
}

// procCPU is a process's user+sys CPU time from /proc/<pid>/stat (fields
// 14 and 15, in clock ticks of 1/100 s, which Linux fixes for /proc).
func procCPU(pid int) time.Duration {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0
	}
	// The command name, field 2, is in parentheses and may hold spaces.
	i := strings.LastIndexByte(string(b), ')')
	if i < 0 {
		return 0
	}
	f := strings.Fields(string(b[i+1:])) // f[0] is field 3
	if len(f) < 13 {
		return 0
	}
	ut, _ := strconv.ParseInt(f[11], 10, 64)
	st, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(ut+st) * (time.Second / 100)
}

// allPostgresCPU is the CPU of every process named postgres on this
// machine: the backends of everyone, the WAL writer, the checkpointer.
func allPostgresCPU() time.Duration {
	ents, err := os.ReadDir("/proc")
	if err != nil {
		return 0
	}
	var d time.Duration
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if comm, err := os.ReadFile("/proc/" + e.Name() + "/comm"); err == nil && strings.TrimSpace(string(comm)) == "postgres" {
			d += procCPU(pid)
		}
	}
	return d
}
