package main

import (
	"database/sql"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	_ "modernc.org/sqlite" // to read the database file after the server is gone

	"github.com/onetalk/onetalk-webhooks/internal/relay"
)

// mountSmallDisk mounts a tmpfs of size bytes in a fresh folder, or skips:
// mounting needs root, which CI has and a developer's machine may not.
func mountSmallDisk(t *testing.T, size int) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "disk")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", fmt.Sprintf("size=%d", size), "tmpfs", dir).CombinedOutput(); err != nil {
		t.Skipf("a full disk needs a small filesystem, and mounting one was refused: %v: %s", err, out)
	}
	// Registered after TempDir's cleanup, so it runs before it; and before
	// the server's, so after the server is gone (cleanups run last first).
	t.Cleanup(func() { exec.Command("umount", "-l", dir).Run() })
	return dir
}

// fill allocates a file that leaves about room bytes free on dir's
// filesystem (allocated, not sparse: a sparse file takes no space).
func fill(t *testing.T, dir string, room int64) string {
	t.Helper()
	var fs syscall.Statfs_t
	if err := syscall.Statfs(dir, &fs); err != nil {
		t.Fatal(err)
	}
	free := int64(fs.Bavail) * fs.Bsize
	path := filepath.Join(dir, "filler")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := syscall.Fallocate(int(f.Fd()), 0, 0, free-room); err != nil {
		t.Fatal(err)
	}
	return path
}

// problemOf checks that r is a 503 problem with Retry-After and returns
// its detail.
func problemOf(t *testing.T, what string, r response) string {
	t.Helper()
	if r.Status != 503 || r.Header.Get("Content-Type") != "application/problem+json" {
		t.Fatalf("%s: %d %s: %s; want a 503 problem", what, r.Status, r.Header.Get("Content-Type"), r.Body)
	}
	if ra := r.Header.Get("Retry-After"); ra == "" {
		t.Fatalf("%s: 503 without Retry-After", what)
	}
	detail, _ := r.json(t)["detail"].(string)
	return detail
}

// The disk under the SQLite file fills up while the platform publishes:
// publishes answer 503 with Retry-After and say why, /readyz says the same,
// and once space is freed publishes are accepted again at once; every
// event that got a 202 is delivered and in the file, which is intact.
func TestFullDiskAnswers503AndRecovers(t *testing.T) {
	t.Parallel()
	disk := mountSmallDisk(t, 64<<20)
	// The receiver holds every request until the disk is full, so that
	// deliveries of stored events are still to go when no write fits.
	gate := make(chan struct{})
	var opened sync.Once
	open := func() { opened.Do(func() { close(gate) }) }
	t.Cleanup(open)
	rc := newReceiver(t, func(int, http.ResponseWriter, *http.Request) int { <-gate; return 200 })
	s := sqliteDB.start(t, disk)
	s.createOrg(1111, rc.URL)
	if r := s.do("GET", "/readyz", "", nil); r.Status != 200 {
		t.Fatalf("/readyz on an empty disk: %d %s", r.Status, r.Body)
	}

	filler := fill(t, disk, 3<<20)
	accepted := map[string]bool{}
	batch := func(b int) string {
		events := make([]string, 200)
		for i := range events {
			events[i] = messageStatus(1111, fmt.Sprintf("trx-%d-%d", b, i), "delivered")
		}
		return "[" + strings.Join(events, ",") + "]"
	}
	var full response
	for b := 0; ; b++ {
		r := s.do("POST", "/v1/events/batch", s.Token, batch(b))
		if r.Status != 202 {
			full = r
			break
		}
		for _, id := range r.json(t)["eventIDs"].([]any) {
			accepted[id.(string)] = true
		}
		if b == 1000 {
			t.Fatal("1000 batches fitted in 3 MB")
		}
	}
	const outOfSpace = "the database is out of disk space"
	if d := problemOf(t, "publish on a full disk", full); d != outOfSpace {
		t.Fatalf("publish on a full disk: detail %q, want %q", d, outOfSpace)
	}
	if d := problemOf(t, "/readyz on a full disk", s.do("GET", "/readyz", "", nil)); d != outOfSpace {
		t.Fatalf("/readyz on a full disk: detail %q, want %q", d, outOfSpace)
	}
	// One small event may still fit where a batch did not: then it is
	// accepted, and durable as any other.
	switch one := s.do("POST", "/v1/events", s.Token, messageStatus(1111, "trx-single", "delivered")); one.Status {
	case 202:
		accepted[one.json(t)["eventID"].(string)] = true
	default:
		if d := problemOf(t, "a single publish on a full disk", one); d != outOfSpace {
			t.Fatalf("a single publish on a full disk: detail %q, want %q", d, outOfSpace)
		}
	}
	// Whichever it was, too little space is left for what a ready service
	// must take.
	if d := problemOf(t, "/readyz on a full disk, after a single publish", s.do("GET", "/readyz", "", nil)); d != outOfSpace {
		t.Fatalf("/readyz on a full disk: detail %q, want %q", d, outOfSpace)
	}
	t.Logf("%d events accepted before the disk was full", len(accepted))

	// Deliveries of what was stored go on while no write fits: their
	// outcomes are kept for later, and none is sent twice meanwhile.
	open()
	whileFull := rc.waitForDistinct(t, 60*time.Second, len(accepted))
	if n := duplicates(whileFull); n > 0 {
		t.Fatalf("%d deliveries sent twice while the disk was full", n)
	}
	t.Logf("all %d delivered while the disk was still full", len(whileFull))

	if err := os.Remove(filler); err != nil {
		t.Fatal(err)
	}
	freed := time.Now()
	r := s.do("POST", "/v1/events/batch", s.Token, batch(-1))
	if r.Status != 202 {
		t.Fatalf("the first publish after space was freed: %d %s", r.Status, r.Body)
	}
	t.Logf("accepted again %s after the space was freed", time.Since(freed))
	for _, id := range r.json(t)["eventIDs"].([]any) {
		accepted[id.(string)] = true
	}
	if r := s.do("GET", "/readyz", "", nil); r.Status != 200 {
		t.Fatalf("/readyz once publishes commit again: %d %s", r.Status, r.Body)
	}

	count := rc.waitForDistinct(t, 60*time.Second, len(accepted))
	for id := range count {
		if !accepted[id] {
			t.Errorf("webhook-id %q was never accepted", id)
		}
	}
	if n := duplicates(count); n > 0 {
		t.Errorf("%d deliveries sent twice", n)
	}
	s.kill()
	db, err := sql.Open("sqlite", "file:"+filepath.Join(disk, "otw.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var ok string
	if err := db.QueryRow(`PRAGMA integrity_check`).Scan(&ok); err != nil || ok != "ok" {
		t.Fatalf("integrity_check = %q, %v", ok, err)
	}
	var n int
	if err := db.QueryRow(`SELECT count(*) FROM events`).Scan(&n); err != nil || n != len(accepted) {
		t.Fatalf("the file holds %d events (%v); %d were accepted", n, err, len(accepted))
	}
}

// PostgreSQL stops answering (its port closed, here by cutting a relay in
// front of it): publishes and /readyz answer 503 with Retry-After and say
// so; once it answers again publishes are accepted within about a second,
// and every accepted event is delivered.
func TestUnreachablePostgresAnswers503AndRecovers(t *testing.T) {
	requirePostgres(t)
	t.Parallel()
	dir := t.TempDir()
	args := postgresDB.args(t, dir)
	u, err := url.Parse(args[1])
	if err != nil {
		t.Fatal(err)
	}
	r, err := relay.Start(u.Host)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(r.Close)
	u.Host = r.Addr
	args[1] = u.String()
	rc := newReceiver(t, nil)
	s := startServer(t, dir, args...)
	orgKey := s.createOrg(1111, rc.URL)
	accepted := map[string]bool{}
	publish := func(trx string) response {
		ans := s.do("POST", "/v1/events", s.Token, messageStatus(1111, trx, "delivered"))
		if ans.Status == 202 {
			accepted[ans.json(t)["eventID"].(string)] = true
		}
		return ans
	}
	if ans := publish("trx-before"); ans.Status != 202 {
		t.Fatalf("publish: %d %s", ans.Status, ans.Body)
	}

	r.Cut()
	const gone = "the database does not answer"
	if d := problemOf(t, "publish with the database gone", publish("trx-gone")); d != gone {
		t.Fatalf("publish with the database gone: detail %q, want %q", d, gone)
	}
	if d := problemOf(t, "/readyz with the database gone", s.do("GET", "/readyz", "", nil)); d != gone {
		t.Fatalf("/readyz with the database gone: detail %q, want %q", d, gone)
	}

	// The web UI's sign-in looks the key up: the same fault, as a page.
	page, err := http.PostForm(s.URL+"/login", url.Values{"token": {orgKey}})
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(page.Body)
	page.Body.Close()
	if page.StatusCode != 503 || page.Header.Get("Retry-After") == "" || !strings.Contains(string(body), "The database does not answer.") {
		t.Fatalf("sign-in with the database gone: %d, Retry-After %q; want 503 saying the database does not answer:\n%s",
			page.StatusCode, page.Header.Get("Retry-After"), body)
	}

	if err := r.Restore(); err != nil {
		t.Fatal(err)
	}
	back := time.Now()
	n := 0
	eventually(t, 10*time.Second, "a publish accepted after the database came back", func() bool {
		n++
		return publish(fmt.Sprint("trx-back-", n)).Status == 202
	})
	t.Logf("accepted again %s after the database came back (%d tries)", time.Since(back), n)
	if ans := s.do("GET", "/readyz", "", nil); ans.Status != 200 {
		t.Fatalf("/readyz once publishes commit again: %d %s", ans.Status, ans.Body)
	}
	count := rc.waitForDistinct(t, 30*time.Second, len(accepted))
	for id := range count {
		if !accepted[id] {
			t.Errorf("webhook-id %q was never accepted", id)
		}
	}
}
