package main

import (
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// The README's "Several nodes" section, run as written on PostgreSQL (its
// own schema of the test database, free ports): the three nodes start with
// the settings it exports and print no admin-token line, and org create
// reaches them with the shared admin token, saving a webhook to a receiver
// on this machine that only --allow-private-targets lets through.
func TestSeveralNodesAsWritten(t *testing.T) {
	requirePostgres(t)
	t.Parallel()
	readme, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	blocks := sectionBlocks(t, string(readme), "Several nodes on PostgreSQL")
	if len(blocks) != 2 {
		t.Fatalf("the several-nodes section has %d blocks, not the two (start, org create) this test knows", len(blocks))
	}
	dir := t.TempDir()
	db := postgresDB.args(t, dir)[1] // a fresh schema
	ports := map[string]string{"8081": freePort(t), "8082": freePort(t), "8083": freePort(t), "9000": freePort(t)}
	swaps := []string{
		"createdb -h 127.0.0.1 -U postgres onetalk\n", "", // the schema above stands for the database
		"postgres://postgres@127.0.0.1:5432/onetalk?sslmode=disable", db,
		"go build -o onetalk-webhooks ./cmd/onetalk-webhooks", "cp '" + binary + "' onetalk-webhooks",
	}
	text := blocks[0].code + "\n" + blocks[1].code
	for i := 0; i < len(swaps); i += 2 {
		if !strings.Contains(text, swaps[i]) {
			t.Fatalf("the several-nodes section no longer has %q, which this test replaces", swaps[i])
		}
	}
	for from, to := range ports {
		swaps = append(swaps, from, to)
	}
	rewrite := strings.NewReplacer(swaps...)

	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "OTW_") {
			env = append(env, kv)
		}
	}
	sh := startShell(t, dir, env)
	sh.run(t, rewrite.Replace(blocks[0].code))
	// The nodes run on in the background, printing into the block's output.
	var out string
	serving := func() bool {
		b, _ := os.ReadFile(sh.outFile(1))
		out = string(b)
		return strings.Count(out, "onetalk-webhooks serving") == 3
	}
	if !waitUntil(30*time.Second, serving) {
		t.Fatalf("three nodes did not start; they printed:\n%s", out)
	}
	if strings.Contains(out, "admin token") {
		t.Fatalf("a node with --admin-token given printed an admin-token line:\n%s", out)
	}

	sh.run(t, rewrite.Replace(blocks[1].code))
	b, err := os.ReadFile(filepath.Join(dir, "acme.env"))
	if err != nil {
		t.Fatal(err)
	}
	var key string
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "export KEY="); ok {
			key = strings.Trim(v, "'")
		}
	}
	if key == "" || !strings.Contains(string(b), "export SECRET='whsec_") {
		t.Fatalf("org create wrote no KEY and SECRET:\n%s", b)
	}
	// Another node knows the organization: they share the database.
	req, _ := http.NewRequest("GET", "http://127.0.0.1:"+ports["8082"]+"/v1/organizations/1111/webhook", nil)
	req.Header.Set("Authorization", "Bearer "+key)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("GET the webhook from the second node: %s", resp.Status)
	}
}
