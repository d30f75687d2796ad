package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/onetalk/onetalk-webhooks/internal/event"
)

// orgTimeout bounds each call org create makes to the service.
const orgTimeout = 15 * time.Second

// org runs the organization commands. They are clients of a running
// service's API, so that a newcomer's shell gets the API key and the
// signing secret without copying them out of JSON by hand.
func org(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "create" {
		fmt.Fprint(stderr, "Usage: onetalk-webhooks org create --id N --name NAME [--webhook-url URL] [--env]\n")
		return exitError{2}
	}
	return orgCreate(ctx, args[1:], stdout, stderr)
}

func orgCreate(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("org create", flag.ContinueOnError)
	fs.SetOutput(stderr)
	id := fs.Int64("id", 0, "the organizationID (required)")
	name := fs.String("name", "", "the organization's name (required)")
	webhookURL := fs.String("webhook-url", "", "also save an enabled webhook to this URL, and print its signing secret")
	var types []string
	for _, t := range event.Types() {
		types = append(types, t.Name)
	}
	events := fs.String("events", strings.Join(types, ","), "the event types the webhook subscribes to, comma separated")
	env := fs.Bool("env", false, "print shell lines, export KEY=… and export SECRET=…, for eval or a file to source")
	addr := fs.String("addr", "127.0.0.1:8080", "the running service's address, as given to serve")
	db := fs.String("db", "sqlite:./data/onetalk-webhooks.db", "serve's database: the admin token is read from the file beside a SQLite one")
	admin := fs.String("admin-token", "", "the admin token; read from the file serve saved beside the SQLite database when empty")
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), "Usage: onetalk-webhooks org create --id N --name NAME [--webhook-url URL] [--env]\n\n"+
			"Creates an organization through the running service's API and prints its API key;\n"+
			"with --webhook-url, also saves its webhook and prints the webhook's signing secret.\n"+
			"The API key and the secret are shown only now.\n\n")
		fs.PrintDefaults()
	}
	fs.VisitAll(func(f *flag.Flag) {
		if e := flagEnv[f.Name]; e != "" {
			f.Usage += " (" + e + ")"
		}
	})
	if err := applyEnv(fs); err != nil {
		return err
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	if *id <= 0 {
		return errors.New("--id is required: the organizationID, a positive number")
	}
	if *name == "" {
		return errors.New("--name is required")
	}
	token := *admin
	if token == "" {
		cfg := config{db: *db}
		if cfg.sqlitePath() == "" {
			return errors.New("--admin-token (OTW_ADMIN_TOKEN) is required with a PostgreSQL --db")
		}
		b, err := os.ReadFile(adminTokenPath(cfg))
		if err != nil {
			return fmt.Errorf("reading the admin token (give --admin-token, or run from where serve keeps its data): %v", err)
		}
		token = strings.TrimSpace(string(b))
	}
	c := &apiClient{base: *addr, token: token}
	if !strings.Contains(c.base, "://") {
		c.base = "http://" + c.base
	}

	var created struct {
		APIKey string `json:"apiKey"`
	}
	if err := c.call(ctx, "POST", "/v1/organizations", map[string]any{"organizationID": *id, "name": *name}, &created); err != nil {
		return err
	}
	// The key is printed before the webhook is saved: it is shown only
	// once, and must not be lost if saving the webhook fails.
	if *env {
		fmt.Fprintf(stdout, "export KEY='%s'\n", created.APIKey)
	} else {
		fmt.Fprintf(stdout, "organization %d (%s) created\nAPI key (shown only now): %s\n", *id, *name, created.APIKey)
	}
	if *webhookURL == "" {
		return nil
	}
	c.token = created.APIKey
	subscribed := []string{}
	for _, t := range strings.Split(*events, ",") {
		if t = strings.TrimSpace(t); t != "" {
			subscribed = append(subscribed, t)
		}
	}
	path := fmt.Sprintf("/v1/organizations/%d/webhook", *id)
	if err := c.call(ctx, "PUT", path, map[string]any{"enabled": true, "url": *webhookURL, "subscribedEvents": subscribed}, nil); err != nil {
		return fmt.Errorf("organization %d was created (its API key went to standard output) but its webhook was not saved: %w", *id, err)
	}
	var secret struct {
		Secret string `json:"secret"`
	}
	if err := c.call(ctx, "GET", path+"/secret", nil, &secret); err != nil {
		return err
	}
	if *env {
		fmt.Fprintf(stdout, "export SECRET='%s'\n", secret.Secret)
	} else {
		fmt.Fprintf(stdout, "webhook: %s for %s\nsigning secret: %s\n", *webhookURL, strings.Join(subscribed, ", "), secret.Secret)
	}
	return nil
}

// apiClient calls the service's API with one bearer token.
type apiClient struct {
	base, token string
}

// call sends body as JSON and decodes a 2xx answer into out; any other
// answer is an error holding the service's problem document, which names
// what is wrong.
func (c *apiClient) call(ctx context.Context, method, path string, body, out any) error {
	ctx, cancel := context.WithTimeout(ctx, orgTimeout)
	defer cancel()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, rd)
	if err != nil {
		return fmt.Errorf("--addr: %v", err)
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("the service does not answer at %s (is serve running there? --addr / OTW_ADDR): %v", c.base, err)
	}
	defer resp.Body.Close()
	answer, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return fmt.Errorf("%s %s: reading the answer: %v", method, path, err)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return fmt.Errorf("%s %s: %s: %s", method, path, resp.Status, bytes.TrimSpace(answer))
	}
	if out == nil {
		return nil
	}
	if err := json.Unmarshal(answer, out); err != nil {
		return fmt.Errorf("%s %s: the answer is not what was expected: %v", method, path, err)
	}
	return nil
}
