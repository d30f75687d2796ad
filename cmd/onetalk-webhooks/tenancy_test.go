package main

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/onetalk/onetalk-webhooks/internal/api"
	"github.com/onetalk/onetalk-webhooks/internal/event"
)

// adminOnly are the routes only the admin token may call: an organization's
// own key gets 403 on them. Every other route under /v1/ is open to the
// key of the organization it names.
var adminOnly = map[string]bool{
	"GET /v1/organizations":                        true,
	"POST /v1/organizations":                       true,
	"POST /v1/organizations/{org}/api-keys":        true,
	"DELETE /v1/organizations/{org}/api-keys/{id}": true,
	"GET /v1/organizations/{org}":                  true,
	"PATCH /v1/organizations/{org}":                true,
	"DELETE /v1/organizations/{org}":               true,
	"GET /v1/organizations/{org}/api-keys":         true,
	"POST /v1/events":                              true,
	"POST /v1/events/batch":                        true,
}

// tenant is one organization of the tenancy test and everything of it that
// another organization must never see.
type tenant struct {
	id              int
	key, spareKeyID string // spareKeyID: a key the table may revoke
	revoked         string // a key of its own, revoked
	url             string
	deliveryID      string
	secrets         []string
	private         []string // grows as the test learns more of it
}

// leaks returns the first of t's private values found in body, or "".
// What the caller itself sent (its request path) is no leak when echoed.
func (t *tenant) leaks(body []byte, sent string) string {
	for _, v := range t.private {
		if strings.Contains(string(body), v) && !strings.Contains(sent, v) {
			return v
		}
	}
	return ""
}

// newTenant creates organization id with a webhook to a receiver of its
// own, publishes an event of each type for it and waits for its
// deliveries, so that every route has something to show.
func newTenant(t *testing.T, s *server, id int) *tenant {
	rc := newReceiver(t, nil)
	tn := &tenant{id: id, url: fmt.Sprintf("%s/hook-of-org-%d-%s", rc.URL, id, randomHex(4))}
	tn.key = s.createOrg(id, tn.url)
	org := fmt.Sprintf("/v1/organizations/%d", id)
	spare := s.mustDo(201, "POST", org+"/api-keys", s.Token, nil)
	tn.spareKeyID = spare["id"].(string)
	gone := s.mustDo(201, "POST", org+"/api-keys", s.Token, nil)
	tn.revoked = gone["apiKey"].(string)
	s.mustDo(204, "DELETE", org+"/api-keys/"+gone["id"].(string), s.Token, nil)
	tn.secrets = append(tn.secrets, s.mustDo(200, "GET", org+"/webhook/secret", tn.key, nil)["secret"].(string))
	tn.private = append(tn.private, tn.key, tn.revoked, tn.spareKeyID, gone["id"].(string), tn.url, strings.TrimPrefix(tn.url, rc.URL), tn.secrets[0])
	for _, typ := range []string{event.TypeIntegrationMessageStatus, event.TypeCaseResolved} {
		body, err := event.Example(typ, int64(id))
		if err != nil {
			t.Fatal(err)
		}
		ans := s.mustDo(202, "POST", "/v1/events", s.Token, body)
		tn.private = append(tn.private, ans["eventID"].(string), ans["deliveryID"].(string))
		tn.deliveryID = ans["deliveryID"].(string)
	}
	rc.waitFor(t, 10*time.Second, "both deliveries", func(r []received) bool { return len(r) >= 2 })
	return tn
}

// clientFrom returns an HTTP client whose connections come from ip, an
// address of 127.0.0.0/8: the server limits failed authentications per
// client address, and this test fails more often than one address may.
func clientFrom(ip string) *http.Client {
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}, Timeout: 5 * time.Second}
	return &http.Client{Transport: &http.Transport{DialContext: d.DialContext}}
}

// call is server.do through client c, with a JSON body when body is not "".
func (s *server) call(c *http.Client, method, path, token, body string) response {
	s.t.Helper()
	req, err := http.NewRequest(method, s.URL+path, strings.NewReader(body))
	if err != nil {
		s.t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := c.Do(req)
	if err != nil {
		s.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		s.t.Fatal(err)
	}
	return response{Status: resp.StatusCode, Header: resp.Header, Body: b}
}

// Every organization-scoped route of the API, called on organization A by
// A's key, B's key, no key, A's revoked key and the admin token: the status
// is the one each caller deserves, and no answer holds anything of an
// organization the caller may not see. Routes come from api.Routes(), so a
// new route is in the table the day it is served.
func TestTenancy(t *testing.T) {
	eachDB(t, func(t *testing.T, db database) {
		s := db.start(t, t.TempDir())
		a, b := newTenant(t, s, 7001), newTenant(t, s, 7002)

		bodies := map[string]string{
			"PUT /v1/organizations/{org}/webhook":                fmt.Sprintf(`{"enabled":true,"url":%q,"subscribedEvents":["case_resolved","integration_message_status"]}`, a.url),
			"POST /v1/organizations/{org}/webhook/test":          `{"eventType":"case_resolved"}`,
			"POST /v1/organizations/{org}/deliveries/recover":    `{"since":"2020-01-01T00:00:00Z"}`,
			"POST /v1/organizations/{org}/api-keys":              ``,
			"POST /v1/organizations/{org}/webhook/secret/rotate": ``,
		}
		// path fills a route's parameters with owner's organization and ids
		// of ids' (the same tenant, or another to try its ids through the
		// owner's path).
		path := func(pattern string, owner, ids *tenant) string {
			p := strings.SplitN(pattern, " ", 2)[1]
			p = strings.ReplaceAll(p, "{org}", fmt.Sprint(owner.id))
			switch {
			case strings.Contains(p, "/api-keys/{id}"):
				p = strings.ReplaceAll(p, "{id}", ids.spareKeyID)
			case strings.Contains(p, "/deliveries/{id}"):
				p = strings.ReplaceAll(p, "{id}", ids.deliveryID)
			case strings.Contains(p, "{"):
				t.Fatalf("route %s has a parameter this test does not know: teach it one", pattern)
			}
			return p
		}
		body := func(pattern string) string {
			if b, ok := bodies[pattern]; ok {
				return b
			}
			if strings.HasPrefix(pattern, "GET ") {
				return ""
			}
			return "{}"
		}

		type answer struct {
			what   string
			body   []byte
			unseen []*tenant // whose data this caller may not see
		}
		var answers []answer
		local := clientFrom("127.0.0.1")
		n := 0
		var orgRoutes int
		for _, pattern := range api.Routes() {
			method := strings.SplitN(pattern, " ", 2)[0]
			if !strings.Contains(pattern, " /v1/") {
				continue
			}
			if !strings.Contains(pattern, "{org}") {
				// Not scoped: only admin-only ones concern tenancy.
				if adminOnly[pattern] {
					r := s.call(local, method, path(pattern, a, a), a.key, body(pattern))
					if r.Status != http.StatusForbidden {
						t.Errorf("%s with an organization key: status %d, want 403: %s", pattern, r.Status, r.Body)
					}
					answers = append(answers, answer{pattern + " with A's key", r.Body, []*tenant{b}})
				}
				continue
			}
			orgRoutes++
			p := path(pattern, a, a)
			ownWant := "not 401 or 403"
			if adminOnly[pattern] {
				ownWant = "403"
			}
			for _, c := range []struct {
				caller string
				client *http.Client
				token  string
				want   string
				unseen []*tenant
			}{
				{"A's key", local, a.key, ownWant, []*tenant{b}},
				{"B's key", local, b.key, "403", []*tenant{a}},
				{"no key", local, "", "401", []*tenant{a, b}},
				// A fresh address for each: these are failed authentications.
				{"A's revoked key", clientFrom(fmt.Sprintf("127.0.1.%d", 1+n%250)), a.revoked, "401", []*tenant{a, b}},
				{"the admin token", local, s.Token, "not 401 or 403", []*tenant{b}},
			} {
				if c.caller == "the admin token" && pattern == "DELETE /v1/organizations/{org}" {
					continue // it would end the test's tenant: TestOrganizationLifecycle has it
				}
				n++
				r := s.call(c.client, method, p, c.token, body(pattern))
				ok := fmt.Sprint(r.Status) == c.want
				if c.want == "not 401 or 403" {
					ok = r.Status != 401 && r.Status != 403 && r.Status < 500
				}
				if !ok {
					t.Errorf("%s %s with %s: status %d, want %s: %s", method, p, c.caller, r.Status, c.want, r.Body)
				}
				if c.caller == "A's key" || c.caller == "the admin token" {
					a.learn(r.Body)
				}
				answers = append(answers, answer{fmt.Sprintf("%s %s with %s", method, p, c.caller), r.Body, c.unseen})
			}
		}
		if orgRoutes < 10 {
			t.Fatalf("only %d organization-scoped routes in api.Routes()", orgRoutes)
		}

		// A's own key and the admin token on A's path, but with B's ids:
		// nothing of B is found, changed or revoked.
		for _, pattern := range api.Routes() {
			if !strings.Contains(pattern, "{org}") || !strings.Contains(pattern, "{id}") {
				continue
			}
			method := strings.SplitN(pattern, " ", 2)[0]
			p := path(pattern, a, b)
			for _, token := range []string{a.key, s.Token} {
				r := s.call(local, method, p, token, body(pattern))
				if r.Status < 400 || r.Status == 401 || r.Status >= 500 {
					t.Errorf("%s %s (B's id on A's path): status %d, want 403 or 404: %s", method, p, r.Status, r.Body)
				}
				answers = append(answers, answer{fmt.Sprintf("%s %s (B's id on A's path)", method, p), r.Body, []*tenant{b}})
			}
		}
		s.mustDo(200, "GET", fmt.Sprintf("/v1/organizations/%d/webhook", b.id), b.key, nil)
		if r := s.do("GET", fmt.Sprintf("/v1/organizations/%d/deliveries/%s", b.id, b.deliveryID), b.key, nil); r.Status != 200 {
			t.Errorf("B's delivery after A's calls: status %d: %s", r.Status, r.Body)
		}

		for _, ans := range answers {
			for _, other := range ans.unseen {
				if v := other.leaks(ans.body, ans.what); v != "" {
					t.Errorf("%s: the answer holds %q of organization %d: %s", ans.what, v, other.id, ans.body)
				}
			}
		}
	})
}

// learn adds to t's private values the ids and secrets an answer to t or
// the admin gave: new keys, rotated secrets, the test event's ids.
func (t *tenant) learn(body []byte) {
	for _, prefix := range []string{"whsec_", "otk_", "evt_", "key_", "dlv_"} {
		for rest := string(body); ; {
			i := strings.Index(rest, prefix)
			if i < 0 {
				break
			}
			end := i + strings.IndexFunc(rest[i:]+`"`, func(r rune) bool { return r == '"' })
			t.private = append(t.private, rest[i:end])
			rest = rest[end:]
		}
	}
}
