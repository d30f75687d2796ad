// Command onetalk-webhooks runs the webhook service and its tools. main
// only parses flags and wires the packages together.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/onetalk/onetalk-webhooks/internal/otw"
)

const usage = `onetalk-webhooks: stores, signs and delivers OneTalk webhook events.

Usage:
  onetalk-webhooks serve     run the API, the web UI and the dispatcher
  onetalk-webhooks migrate   apply database migrations and exit
  onetalk-webhooks org       create an organization (and its webhook) through a running service
  onetalk-webhooks send      POST a signed example event to a URL, to try a receiver
  onetalk-webhooks listen    a local receiver that verifies and prints what arrives
  onetalk-webhooks bench     measure throughput and latency on this machine
  onetalk-webhooks healthcheck  exit 0 when a running serve is ready (for containers)
  onetalk-webhooks version   print the version

Run "onetalk-webhooks <command> -h" for a command's flags.
`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, "onetalk-webhooks:", err)
		}
		os.Exit(exitCode(err))
	}
}

// exitError carries a process exit code other than 1.
type exitError struct{ code int }

func (e exitError) Error() string { return fmt.Sprintf("exit %d", e.code) }

func exitCode(err error) int {
	var e exitError
	if errors.As(err, &e) {
		return e.code
	}
	if errors.Is(err, flag.ErrHelp) {
		return 2
	}
	return 1
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return exitError{2}
	}
	switch args[0] {
	case "serve":
		return serve(ctx, args[1:], stdout, stderr)
	case "migrate":
		return migrate(ctx, args[1:], stdout, stderr)
	case "org":
		return org(ctx, args[1:], stdout, stderr)
	case "send":
		return send(ctx, args[1:], stdout, stderr)
	case "listen":
		return listen(ctx, args[1:], stdout, stderr)
	case "bench":
		return bench(ctx, args[1:], stdout, stderr)
	case "healthcheck":
		return healthcheck(ctx, args[1:], stdout, stderr)
	case "version":
		fmt.Fprintln(stdout, "onetalk-webhooks", otw.Version)
		return nil
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return nil
	}
	fmt.Fprintf(stderr, "unknown command %q\n\n%s", args[0], usage)
	return exitError{2}
}
