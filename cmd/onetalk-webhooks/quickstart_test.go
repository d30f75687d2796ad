package main

import (
	"bufio"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// The README's quick start, run from README.md itself, so that it cannot
// drift from what the service does. The README is read as a newcomer
// reads it:
//   - a ```sh block is pasted into one terminal, whose variables carry
//     from block to block; a block whose text before it says "new
//     terminal" runs on in a terminal of its own, which inherits nothing;
//   - a line of a block that starts with "# " shows what the block prints,
//     "…" standing for what differs from run to run;
//   - a ```text block shows what a terminal opened earlier prints next.
//
// The blocks run in an empty directory (with the repository's event/
// examples) on free ports: 8080 and 9000 in the text become them, and
// OTW_ADDR, which serve and org create read, is the first. `go run
// ./cmd/onetalk-webhooks` becomes the binary TestMain built.
func TestQuickStartAsWritten(t *testing.T) {
	t.Parallel()
	readme, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	blocks := quickStartBlocks(t, string(readme))
	servePort, receiverPort := freePort(t), freePort(t)
	rewrite := strings.NewReplacer("go run ./cmd/onetalk-webhooks", binary, "8080", servePort, "9000", receiverPort)

	dir := t.TempDir()
	repoEvent, err := filepath.Abs(filepath.Join("..", "..", "webhook"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(repoEvent, filepath.Join(dir, "webhook")); err != nil {
		t.Fatal(err)
	}
	env := []string{"OTW_ADDR=127.0.0.1:" + servePort}
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "OTW_") {
			env = append(env, kv)
		}
	}

	sh := startShell(t, dir, env)
	var terminals []*syncBuffer // what each terminal opened for a block prints
	for _, b := range blocks {
		code, want := rewrite.Replace(b.code), expectedLines(rewrite.Replace(b.code))
		switch {
		case b.text:
			want = strings.Split(rewrite.Replace(b.code), "\n")
			printed := func() bool {
				for _, out := range terminals {
					if inOrder(out.String(), want) == "" {
						return true
					}
				}
				return false
			}
			if !waitUntil(10*time.Second, printed) {
				t.Fatalf("no terminal opened earlier printed:\n%s\nthey printed:\n%s", b.code, joinOutputs(terminals))
			}
		case b.newTerminal:
			out, exited := startTerminal(t, dir, env, code)
			terminals = append(terminals, out)
			printed := func() bool { return inOrder(out.String(), want) == "" }
			if !waitUntil(20*time.Second, func() bool { return printed() || isClosed(exited) }) || !printed() {
				t.Fatalf("the block run in a new terminal:\n%s\ndid not print %q; it printed:\n%s", b.code, inOrder(out.String(), want), out)
			}
		default:
			out := sh.run(t, code)
			if missing := inOrder(out, want); missing != "" {
				t.Fatalf("the block:\n%s\ndid not print %q; it printed:\n%s", b.code, missing, out)
			}
		}
	}
}

// block is one code block of the quick start.
type block struct {
	code        string
	text        bool // a ```text block: what an open terminal prints
	newTerminal bool // runs on in a terminal of its own
}

// quickStartBlocks returns the code blocks of the README's "Quick start"
// section in order.
func quickStartBlocks(t *testing.T, readme string) []block {
	t.Helper()
	blocks := sectionBlocks(t, readme, "Quick start")
	var serves, listens int
	for _, b := range blocks {
		for _, cmd := range []string{" serve", " listen"} {
			if !b.text && strings.Contains(b.code, "onetalk-webhooks"+cmd) && !b.newTerminal {
				t.Fatalf("the block:\n%s\nkeeps running, but the text before it does not say to open a new terminal", b.code)
			}
		}
		serves += strings.Count(b.code, "onetalk-webhooks serve")
		listens += strings.Count(b.code, "onetalk-webhooks listen")
	}
	if len(blocks) < 5 || serves != 1 || listens != 1 {
		t.Fatalf("the quick start has %d blocks, %d serve and %d listen: not the quick start this test knows", len(blocks), serves, listens)
	}
	return blocks
}

// sectionBlocks returns the code blocks of the README's section under
// "## heading", in order.
func sectionBlocks(t *testing.T, readme, heading string) []block {
	t.Helper()
	_, section, ok := strings.Cut(readme, "\n## "+heading+"\n")
	if !ok {
		t.Fatalf(`README.md has no "## %s" section`, heading)
	}
	section, _, _ = strings.Cut(section, "\n## ")
	var blocks []block
	var prose, code strings.Builder
	var in *block
	for _, line := range strings.Split(section, "\n") {
		switch {
		case in == nil && (line == "```sh" || line == "```text"):
			in = &block{text: line == "```text", newTerminal: strings.Contains(prose.String(), "new terminal")}
			code.Reset()
		case in == nil && strings.HasPrefix(line, "```"):
			t.Fatalf("the quick start has a %s block: only sh and text are run or checked", line)
		case in == nil:
			prose.WriteString(line + "\n")
		case line == "```":
			in.code = strings.TrimSuffix(code.String(), "\n")
			blocks = append(blocks, *in)
			in = nil
			prose.Reset()
		default:
			code.WriteString(line + "\n")
		}
	}
	return blocks
}

// expectedLines returns what a block says it prints: its lines that start
// with "# ".
func expectedLines(code string) []string {
	var want []string
	for _, line := range strings.Split(code, "\n") {
		if rest, ok := strings.CutPrefix(line, "# "); ok {
			want = append(want, rest)
		}
	}
	return want
}

// inOrder returns "" when out holds every line of want in order, each
// line's parts between "…" in order too; else the first line it lacks.
func inOrder(out string, want []string) string {
	pos := 0
	for _, line := range want {
		for _, part := range strings.Split(strings.TrimRight(line, " "), "…") {
			i := strings.Index(out[pos:], part)
			if i < 0 {
				return line
			}
			pos += i + len(part)
		}
	}
	return ""
}

// waitUntil polls cond until it holds (true) or the time is up (false).
func waitUntil(timeout time.Duration, cond func() bool) bool {
	for deadline := time.Now().Add(timeout); !cond(); time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			return false
		}
	}
	return true
}

func isClosed(c <-chan struct{}) bool {
	select {
	case <-c:
		return true
	default:
		return false
	}
}

func joinOutputs(outs []*syncBuffer) string {
	var b strings.Builder
	for i, o := range outs {
		fmt.Fprintf(&b, "--- terminal %d\n%s\n", i+1, o)
	}
	return b.String()
}

func freePort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)
}

// shell is the one terminal the quick start's blocks are pasted into: one
// bash, so that what a block sets is there for the next.
type shell struct {
	stdin   *os.File
	markers *bufio.Scanner
	scratch string
	n       int
}

func startShell(t *testing.T, dir string, env []string) *shell {
	t.Helper()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("bash", "--noprofile", "--norc", "-s")
	cmd.Dir, cmd.Env, cmd.Stdin = dir, env, r
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	r.Close()
	t.Cleanup(func() {
		w.Close()
		syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		cmd.Wait()
	})
	// A command that fails ends the shell, so the block that failed is
	// the last one run.
	fmt.Fprintln(w, "set -e -o pipefail")
	return &shell{stdin: w, markers: bufio.NewScanner(stdout), scratch: t.TempDir()}
}

// run pastes code into the shell and returns what it printed, failing the
// test when a command of it fails.
func (s *shell) run(t *testing.T, code string) string {
	t.Helper()
	s.n++
	file := filepath.Join(s.scratch, fmt.Sprintf("block-%d.sh", s.n))
	outFile := s.outFile(s.n)
	if err := os.WriteFile(file, []byte(code+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	fmt.Fprintf(s.stdin, ". %q > %q 2>&1\necho done %d\n", file, outFile, s.n)
	done := make(chan bool, 1)
	go func() { done <- s.markers.Scan() && s.markers.Text() == fmt.Sprint("done ", s.n) }()
	var ok bool
	select {
	case ok = <-done:
	case <-time.After(30 * time.Second):
	}
	out, _ := os.ReadFile(outFile)
	if !ok {
		t.Fatalf("the block:\n%s\nfailed or did not finish; it printed:\n%s", code, out)
	}
	return string(out)
}

// outFile holds what the n-th block printed, and what the jobs it left in
// the background print still.
func (s *shell) outFile(n int) string {
	return filepath.Join(s.scratch, fmt.Sprintf("block-%d.out", n))
}

// startTerminal runs code in a shell of its own that inherits nothing from
// the first terminal, and returns what it prints and a channel closed when
// it exits; it is stopped when the test ends.
func startTerminal(t *testing.T, dir string, env []string, code string) (*syncBuffer, <-chan struct{}) {
	t.Helper()
	out := &syncBuffer{}
	cmd := exec.Command("bash", "--noprofile", "--norc", "-e", "-c", code)
	cmd.Dir, cmd.Env, cmd.Stdout, cmd.Stderr = dir, env, out, out
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() { cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(15 * time.Second):
			syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			<-exited
		}
	})
	return out, exited
}
