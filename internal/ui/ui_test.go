package ui_test

import (
	"encoding/base64"
	"html"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/onetalk/onetalk-webhooks/internal/event"
	"github.com/onetalk/onetalk-webhooks/internal/ui"
)

func TestLoginRefusesAWrongKey(t *testing.T) {
	e := newEnv(t)
	e.createOrg(1111, "Acme")
	for _, token := range []string{"otk_not-a-key", "wrong admin token", ""} {
		b := e.browser()
		p := b.post("/login", url.Values{"token": {token}})
		if p.Status != http.StatusUnauthorized || !strings.Contains(p.Body, "not a valid API key or admin token") {
			t.Errorf("token %q: %d, want 401 with the error on the page", token, p.Status)
		}
		if c := p.Header.Get("Set-Cookie"); c != "" {
			t.Errorf("token %q: a cookie was set: %s", token, c)
		}
	}
}

func TestLoginWithAnOrganizationKey(t *testing.T) {
	e := newEnv(t)
	key := e.createOrg(1111, "Acme")
	b := e.browser()
	p := b.post("/login", url.Values{"token": {key}})
	if p.Status != http.StatusSeeOther || p.Header.Get("Location") != "/webhooks" {
		t.Fatalf("sign in: %d to %q", p.Status, p.Header.Get("Location"))
	}
	c := p.Header.Get("Set-Cookie")
	for _, want := range []string{"HttpOnly", "SameSite=Strict", "Path=/"} {
		if !strings.Contains(c, want) {
			t.Errorf("cookie %q lacks %s", c, want)
		}
	}
	if strings.Contains(c, "Secure") {
		t.Errorf("cookie %q is Secure on plain http: the browser would drop it", c)
	}
	p = b.get("/webhooks")
	if p.Status != 200 || !strings.Contains(p.Body, "No webhook yet") || !strings.Contains(p.Body, "Acme") {
		t.Fatalf("webhooks page: %d\n%s", p.Status, p.Body)
	}
	// Signing out drops the cookie and the pages ask to sign in again.
	b.post("/logout", url.Values{})
	if p := b.get("/webhooks"); p.Status != http.StatusSeeOther || p.Header.Get("Location") != "/login" {
		t.Errorf("after sign out: %d to %q", p.Status, p.Header.Get("Location"))
	}
}

func TestTamperedCookieIsRefused(t *testing.T) {
	e := newEnv(t)
	key := e.createOrg(1111, "Acme")
	e.createOrg(2222, "Other")
	b := e.browser()
	b.login(key)
	raw, err := base64.RawURLEncoding.DecodeString(b.cookie.Value)
	if err != nil {
		t.Fatal(err)
	}
	// Point the session at organization 2222 (bytes 2..9 hold the ID)
	// without knowing the key that signs it.
	forged := append([]byte(nil), raw...)
	copy(forged[2:10], []byte{0, 0, 0, 0, 0, 0, 0x08, 0xae})
	for name, value := range map[string]string{
		"other organization": base64.RawURLEncoding.EncodeToString(forged),
		"cut signature":      base64.RawURLEncoding.EncodeToString(raw[:len(raw)-1]),
		"garbage":            "not-a-session",
	} {
		b.cookie = &http.Cookie{Name: "otw_session", Value: value}
		p := b.get("/webhooks")
		if p.Status != http.StatusSeeOther || p.Header.Get("Location") != "/login" {
			t.Errorf("%s: %d to %q, want a redirect to /login", name, p.Status, p.Header.Get("Location"))
		}
		if strings.Contains(p.Body, "2222") {
			t.Errorf("%s: the other organization's page was shown", name)
		}
		if b.cookie != nil {
			t.Errorf("%s: the bad cookie was not cleared", name)
		}
	}
}

func TestRevokedKeyEndsItsSessions(t *testing.T) {
	e := newEnv(t)
	e.createOrg(1111, "Acme")
	var k struct{ ID, APIKey string }
	if st := e.call("POST", "/v1/organizations/1111/api-keys", e.Admin, nil, &k); st != 201 {
		t.Fatalf("new key: %d", st)
	}
	b := e.browser()
	b.login(k.APIKey)
	if p := b.get("/webhooks"); p.Status != 200 {
		t.Fatalf("before revoking: %d", p.Status)
	}
	if st := e.call("DELETE", "/v1/organizations/1111/api-keys/"+k.ID, e.Admin, nil, nil); st != 204 {
		t.Fatalf("revoke: %d", st)
	}
	if p := b.get("/webhooks"); p.Status != http.StatusSeeOther {
		t.Errorf("after revoking: %d, want a redirect to sign in", p.Status)
	}
}

func TestCrossOriginPostIsRefused(t *testing.T) {
	e := newEnv(t)
	key := e.createOrg(1111, "Acme")
	b := e.browser()
	b.login(key)
	form := url.Values{"enabled": {"on"}, "url": {"https://example.com/hook"}, "subscribedEvents": {"case_resolved"}}
	p := b.do("POST", "/webhooks", form, "Sec-Fetch-Site", "cross-site")
	if p.Status != http.StatusForbidden {
		t.Fatalf("cross-site POST: %d, want 403", p.Status)
	}
	if st := e.call("GET", "/v1/organizations/1111/webhook", key, nil, nil); st != 404 {
		t.Errorf("the cross-site POST saved a webhook (GET answered %d)", st)
	}
	// An old browser sends no Sec-Fetch-Site: a foreign Origin is refused too.
	if p := b.do("POST", "/webhooks", form, "Origin", "https://evil.example"); p.Status != http.StatusForbidden {
		t.Errorf("POST with a foreign Origin: %d, want 403", p.Status)
	}
	// The same form from the page itself goes through.
	if p := b.do("POST", "/webhooks", form, "Sec-Fetch-Site", "same-origin"); p.Status != http.StatusSeeOther {
		t.Errorf("same-origin POST: %d, want 303", p.Status)
	}
}

var inlineScript = regexp.MustCompile(`<script(?:\s[^>]*)?>`)

func TestEveryPageHasTheCSPAndNoInlineScript(t *testing.T) {
	e := newEnv(t)
	key := e.createOrg(1111, "Acme")
	rcv := newReceiver(t)
	b := e.browser()
	b.login(key)
	b.post("/webhooks", url.Values{"enabled": {"on"}, "url": {rcv.URL}, "subscribedEvents": {"case_resolved"}})
	id := e.publish(event.TypeCaseResolved, 1111)

	pages := map[string]page{}
	for _, path := range []string{"/login", "/webhooks", "/webhooks/edit", "/deliveries", "/deliveries/" + id,
		"/deliveries/nope", "/no-such-page", "/static/style.css", "/static/app.js"} {
		pages["GET "+path] = b.get(path)
	}
	pages["POST /webhooks/secret/reveal"] = b.post("/webhooks/secret/reveal", url.Values{})
	pages["POST /webhooks (invalid)"] = b.post("/webhooks", url.Values{"url": {"x"}})
	pages["POST /login (wrong)"] = e.browser().post("/login", url.Values{"token": {"x"}})
	pages["POST cross-site"] = b.do("POST", "/webhooks", url.Values{}, "Sec-Fetch-Site", "cross-site")
	for name, p := range pages {
		csp := p.Header.Get("Content-Security-Policy")
		if !strings.Contains(csp, "default-src 'self'") || !strings.Contains(csp, "script-src 'self'") || strings.Contains(csp, "unsafe") {
			t.Errorf("%s (%d): CSP %q", name, p.Status, csp)
		}
		for _, tag := range inlineScript.FindAllString(p.Body, -1) {
			if !strings.Contains(tag, "src=") {
				t.Errorf("%s: inline script %s", name, tag)
			}
		}
		if strings.HasPrefix(p.Header.Get("Content-Type"), "text/html") && p.Header.Get("Cache-Control") != "no-store" {
			t.Errorf("%s: Cache-Control %q", name, p.Header.Get("Cache-Control"))
		}
	}
}

func TestAnotherOrganizationsDeliveryIsNotFound(t *testing.T) {
	e := newEnv(t)
	keyA := e.createOrg(1111, "Acme")
	keyB := e.createOrg(2222, "Other")
	rcv := newReceiver(t)
	bB := e.browser()
	bB.login(keyB)
	bB.post("/webhooks", url.Values{"enabled": {"on"}, "url": {rcv.URL}, "subscribedEvents": {"case_resolved"}})
	theirs := e.publish(event.TypeCaseResolved, 2222)
	if theirs == "" {
		t.Fatal("no delivery for organization 2222")
	}
	if p := bB.get("/deliveries/" + theirs); p.Status != 200 {
		t.Fatalf("its own organization: %d", p.Status)
	}
	bA := e.browser()
	bA.login(keyA)
	if p := bA.get("/deliveries/" + theirs); p.Status != 404 || strings.Contains(p.Body, "caseResolved") {
		t.Errorf("another organization's delivery: %d, want the 404 page", p.Status)
	}
	if p := bA.post("/deliveries/"+theirs+"/retry", url.Values{}); p.Status != 404 {
		t.Errorf("retrying another organization's delivery: %d, want 404", p.Status)
	}
	if p := bA.get("/deliveries"); strings.Contains(p.Body, theirs) {
		t.Error("the log lists another organization's delivery")
	}
}

func TestSaveRefusesWhatTheAPIRefuses(t *testing.T) {
	e := newEnv(t)
	key := e.createOrg(1111, "Acme")
	b := e.browser()
	b.login(key)
	good := url.Values{"enabled": {"on"}, "url": {"https://example.com/hook"}, "subscribedEvents": {"case_resolved"}}
	if p := b.post("/webhooks", good); p.Status != http.StatusSeeOther {
		t.Fatalf("saving: %d\n%s", p.Status, p.Body)
	}
	for name, tc := range map[string]struct {
		form url.Values
		want string
	}{
		"no event":      {url.Values{"enabled": {"on"}, "url": {"https://example.com/other"}}, "Choose a minimum of 1 event"},
		"ftp URL":       {url.Values{"url": {"ftp://example.com/x"}, "subscribedEvents": {"case_resolved"}}, "The URL must be an absolute http or https URL"},
		"credentials":   {url.Values{"url": {"https://u:p@example.com/"}, "subscribedEvents": {"case_resolved"}}, "The URL must not contain a user name or password"},
		"unknown event": {url.Values{"url": {"https://example.com/"}, "subscribedEvents": {"nope"}}, `nknown event type &#34;nope&#34;`},
	} {
		p := b.post("/webhooks", tc.form)
		if p.Status != http.StatusUnprocessableEntity || !strings.Contains(p.Body, tc.want) {
			t.Errorf("%s: %d, want 422 showing %q\n%s", name, p.Status, tc.want, p.Body)
		}
		// The form keeps what was typed, so it can be corrected.
		if u := tc.form.Get("url"); !strings.Contains(p.Body, `value="`+strings.ReplaceAll(u, "&", "&amp;")+`"`) {
			t.Errorf("%s: the form lost the URL %q", name, u)
		}
	}
	var wh struct {
		URL              string
		SubscribedEvents []string
	}
	e.call("GET", "/v1/organizations/1111/webhook", key, nil, &wh)
	if wh.URL != "https://example.com/hook" || len(wh.SubscribedEvents) != 1 {
		t.Errorf("a refused save changed the webhook: %+v", wh)
	}
}

// The admin picks the organization from a list, paged, instead of typing
// its ID; an ID that names none is refused.
func TestAdminChoosesAnOrganization(t *testing.T) {
	e := newEnv(t)
	e.createOrg(3333, "Gamma")
	e.createOrg(1111, "Acme")
	e.createOrg(2222, "Beta")
	b := e.browser()
	p := b.post("/login", url.Values{"token": {e.Admin}})
	if p.Status != http.StatusSeeOther || p.Header.Get("Location") != "/organization" {
		t.Fatalf("admin sign in: %d to %q", p.Status, p.Header.Get("Location"))
	}
	if p := b.get("/webhooks"); p.Header.Get("Location") != "/organization" {
		t.Errorf("before choosing: %d to %q", p.Status, p.Header.Get("Location"))
	}
	// Two a page, in ID order: Next walks on, Previous walks back.
	choice := regexp.MustCompile(`name="organizationID" value="(\d+)"`)
	link := regexp.MustCompile(`href="([^"]*)">(← Previous|Next →)`)
	links := func(p page) map[string]string {
		out := map[string]string{}
		for _, m := range link.FindAllStringSubmatch(p.Body, -1) {
			out[m[2]] = html.UnescapeString(m[1])
		}
		return out
	}
	var listed []string
	path := "/organization?limit=2"
	var last page
	for path != "" {
		last = b.get(path)
		if last.Status != 200 {
			t.Fatalf("GET %s: %d", path, last.Status)
		}
		for _, m := range choice.FindAllStringSubmatch(last.Body, -1) {
			listed = append(listed, m[1])
		}
		path = links(last)["Next →"]
	}
	if strings.Join(listed, ",") != "1111,2222,3333" {
		t.Errorf("the pages list %v, want 1111, 2222, 3333", listed)
	}
	if prev := links(last)["← Previous"]; prev == "" {
		t.Error("the last page has no link back")
	} else if p := b.get(prev); !strings.Contains(p.Body, `value="1111"`) || !strings.Contains(p.Body, "Acme") {
		t.Errorf("Previous from the last page (%s) does not show the first", prev)
	}
	if p := b.post("/organization", url.Values{"organizationID": {"9999"}}); p.Status != 422 || !strings.Contains(p.Body, "There is no organization 9999") {
		t.Errorf("unknown organization: %d", p.Status)
	}
	if p := b.post("/organization", url.Values{"organizationID": {"abc"}}); p.Status != 422 {
		t.Errorf("not a number: %d", p.Status)
	}
	b.post("/organization", url.Values{"organizationID": {"1111"}})
	if p := b.get("/webhooks"); p.Status != 200 || !strings.Contains(p.Body, "Acme") || !strings.Contains(p.Body, "Switch organization") {
		t.Errorf("after choosing: %d", p.Status)
	}
	if p := b.get("/organization"); !strings.Contains(p.Body, `value="1111" aria-current="true"`) {
		t.Error("the list does not mark the organization open now")
	}
}

// No field carries a placeholder: one that looks like a value ("1111", a
// URL) reads as filled in. Examples go in the hint beside the field.
func TestNoPlaceholderLooksFilledIn(t *testing.T) {
	e := newEnv(t)
	key := e.createOrg(1111, "Acme")
	b := e.browser()
	pages := map[string]page{"/login": b.get("/login")}
	b.login(e.Admin)
	pages["/organization"] = b.get("/organization")
	pages["/organization (refused)"] = b.post("/organization", url.Values{"organizationID": {"9999"}})
	b = e.browser()
	b.login(key)
	for _, path := range []string{"/webhooks", "/webhooks/edit", "/deliveries"} {
		pages[path] = b.get(path)
	}
	pages["/webhooks (refused)"] = b.post("/webhooks", url.Values{"url": {"x"}})
	for name, p := range pages {
		if strings.Contains(p.Body, "placeholder=") {
			t.Errorf("%s has a placeholder", name)
		}
	}
}

func TestSecretRevealAndRotate(t *testing.T) {
	e := newEnv(t)
	key := e.createOrg(1111, "Acme")
	b := e.browser()
	b.login(key)
	b.post("/webhooks", url.Values{"url": {"https://example.com/hook"}, "subscribedEvents": {"case_resolved"}})
	if p := b.get("/webhooks"); strings.Contains(p.Body, "whsec_") && !strings.Contains(p.Body, "whsec_••") {
		t.Error("the secret is on the page before Reveal")
	}
	var s struct{ Secret string }
	e.call("GET", "/v1/organizations/1111/webhook/secret", key, nil, &s)
	p := b.post("/webhooks/secret/reveal", url.Values{})
	if p.Status != 200 || !strings.Contains(html.UnescapeString(p.Body), `value="`+s.Secret+`"`) {
		t.Fatalf("reveal: %d, the secret %s is not on the page", p.Status, s.Secret)
	}
	p = b.post("/webhooks/secret/rotate", url.Values{})
	e.call("GET", "/v1/organizations/1111/webhook/secret", key, nil, &s)
	if p.Status != 200 || !strings.Contains(html.UnescapeString(p.Body), `value="`+s.Secret+`"`) || !strings.Contains(p.Body, "keeps signing") {
		t.Errorf("rotate: %d, the new secret %s is not on the page", p.Status, s.Secret)
	}
}

func TestTestEventAndPaging(t *testing.T) {
	e := newEnv(t)
	key := e.createOrg(1111, "Acme")
	rcv := newReceiver(t)
	b := e.browser()
	b.login(key)
	b.post("/webhooks", url.Values{"enabled": {"on"}, "url": {rcv.URL},
		"subscribedEvents": {"case_resolved", "integration_message_status"}})
	var ids []string
	for range 3 {
		p := b.post("/webhooks/test", url.Values{"eventType": {"case_resolved"}})
		loc := p.Header.Get("Location")
		if p.Status != http.StatusSeeOther || !strings.HasPrefix(loc, "/deliveries/") {
			t.Fatalf("send test event: %d to %q", p.Status, loc)
		}
		ids = append(ids, strings.TrimSuffix(strings.TrimPrefix(loc, "/deliveries/"), "?notice=test-sent"))
		rcv.wait(t)
	}
	// Newest first, one per page: Older walks down, Newer walks back up.
	path := "/deliveries?limit=1"
	link := regexp.MustCompile(`href="([^"]*)">(← Newer|Older →)`)
	var seen []string
	for i := 0; i < 3; i++ {
		p := b.get(path)
		for _, id := range ids {
			if strings.Contains(p.Body, "/deliveries/"+id+`"`) {
				seen = append(seen, id)
			}
		}
		next := ""
		for _, m := range link.FindAllStringSubmatch(p.Body, -1) {
			if m[2] == "Older →" {
				next = strings.ReplaceAll(m[1], "&amp;", "&")
			}
		}
		if next == "" {
			break
		}
		path = next
	}
	if strings.Join(seen, ",") != ids[2]+","+ids[1]+","+ids[0] {
		t.Fatalf("paging older showed %v, want %v reversed", seen, ids)
	}
	p := b.get(path)
	var newer string
	for _, m := range link.FindAllStringSubmatch(p.Body, -1) {
		if m[2] == "← Newer" {
			newer = strings.ReplaceAll(m[1], "&amp;", "&")
		}
	}
	if p := b.get(newer); !strings.Contains(p.Body, "/deliveries/"+ids[1]+`"`) {
		t.Errorf("Newer from the last page (%s) does not show the middle delivery", newer)
	}
	// The filters narrow the log: no integration_message_status was sent.
	if p := b.get("/deliveries?eventType=integration_message_status"); !strings.Contains(p.Body, "No delivery matches these filters") {
		t.Error("the event type filter did not filter")
	}
	if p := b.get("/deliveries?status=bogus"); p.Status != 422 {
		t.Errorf("a bad status filter: %d, want 422", p.Status)
	}
}

// Guessing keys at the sign-in page is slowed down like guessing them at
// the API: after 20 wrong tries, 429, and then even a right key waits.
func TestLoginGuessesAreRateLimited(t *testing.T) {
	e := newEnv(t)
	key := e.createOrg(1111, "Acme")
	b := e.browser()
	for i := range 20 {
		if p := b.post("/login", url.Values{"token": {"otk_guess"}}); p.Status != http.StatusUnauthorized {
			t.Fatalf("guess %d: %d, want 401", i+1, p.Status)
		}
	}
	p := b.post("/login", url.Values{"token": {key}})
	if p.Status != http.StatusTooManyRequests || p.Header.Get("Retry-After") == "" || !strings.Contains(p.Body, "Too many failed sign-ins") {
		t.Fatalf("after 20 wrong guesses: %d (Retry-After %q), want 429 with the reason", p.Status, p.Header.Get("Retry-After"))
	}
	if c := p.Header.Get("Set-Cookie"); c != "" {
		t.Errorf("a blocked sign-in set a cookie: %s", c)
	}
}

// The rate limit is set on the Set form: a visible label, empty for no
// limit, the API's rules with the message beside the field, and the
// settings view says what is saved.
func TestRateLimitOnTheForm(t *testing.T) {
	e := newEnv(t)
	key := e.createOrg(1111, "Acme")
	b := e.browser()
	b.login(key)
	if p := b.get("/webhooks/edit"); !strings.Contains(p.Body, `<label for="rateLimit">Rate limit (deliveries per second)</label>`) ||
		!strings.Contains(p.Body, `id="rateLimit" name="rateLimit"`) {
		t.Fatalf("the form has no labelled rate limit field:\n%s", p.Body)
	}
	form := func(limit string) url.Values {
		return url.Values{"enabled": {"on"}, "url": {"https://example.com/hook"}, "subscribedEvents": {"case_resolved"}, "rateLimit": {limit}}
	}
	var wh struct{ RateLimit *int }
	if p := b.post("/webhooks", form(" 40 ")); p.Status != http.StatusSeeOther {
		t.Fatalf("saving 40: %d\n%s", p.Status, p.Body)
	}
	if e.call("GET", "/v1/organizations/1111/webhook", key, nil, &wh); wh.RateLimit == nil || *wh.RateLimit != 40 {
		t.Fatalf("after saving 40 the API says %v", wh.RateLimit)
	}
	if p := b.get("/webhooks"); !strings.Contains(p.Body, "<dt>Rate limit</dt><dd>40 deliveries per second</dd>") {
		t.Errorf("the settings do not show the rate limit:\n%s", p.Body)
	}
	if p := b.get("/webhooks/edit"); !strings.Contains(p.Body, `value="40"`) {
		t.Errorf("the form does not show the saved rate limit")
	}

	for _, bad := range []string{"0", "-3", "2.5", "100001", "ten", "1e"} {
		p := b.post("/webhooks", form(bad))
		if p.Status != http.StatusUnprocessableEntity || !strings.Contains(p.Body, `id="rateLimit-error"`) ||
			!strings.Contains(p.Body, "The rate limit must be a whole number from 1 to 100000; leave it empty for no limit.") {
			t.Errorf("rate limit %q: %d, want 422 with the message beside the field\n%s", bad, p.Status, p.Body)
		}
		if !strings.Contains(p.Body, `value="`+bad+`"`) || !strings.Contains(p.Body, `aria-invalid="true"`) {
			t.Errorf("rate limit %q: the form lost what was typed or does not mark the field", bad)
		}
	}
	if e.call("GET", "/v1/organizations/1111/webhook", key, nil, &wh); wh.RateLimit == nil || *wh.RateLimit != 40 {
		t.Fatalf("refused saves changed the rate limit to %v", wh.RateLimit)
	}

	if p := b.post("/webhooks", form("")); p.Status != http.StatusSeeOther {
		t.Fatalf("saving with no rate limit: %d", p.Status)
	}
	wh.RateLimit = nil
	if e.call("GET", "/v1/organizations/1111/webhook", key, nil, &wh); wh.RateLimit != nil {
		t.Errorf("an empty field saved rate limit %d, want none", *wh.RateLimit)
	}
	if p := b.get("/webhooks"); !strings.Contains(p.Body, "<dt>Rate limit</dt><dd>No limit</dd>") {
		t.Errorf("the settings do not say there is no limit")
	}
}

// A pending delivery's page says what it waits for, linking the earlier
// delivery of its message; a test event is not held behind the real one
// and is marked test on its page and in the log.
func TestDeliveryPageSaysWhatItWaitsFor(t *testing.T) {
	e := newEnv(t)
	key := e.createOrg(1111, "Acme")
	// The endpoint fails: a tried delivery waits an hour for its retry
	// (the env's schedule), and the next of its message waits for it.
	tried := make(chan struct{}, 10)
	failing := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusServiceUnavailable)
		tried <- struct{}{}
	}))
	t.Cleanup(failing.Close)
	waitTried := func() {
		t.Helper()
		select {
		case <-tried:
		case <-time.After(10 * time.Second):
			t.Fatal("the endpoint got no request within 10 s")
		}
	}
	b := e.browser()
	b.login(key)
	settings := url.Values{"enabled": {"on"}, "url": {failing.URL}, "subscribedEvents": {"integration_message_status"}}
	b.post("/webhooks", settings)

	first := e.publish(event.TypeIntegrationMessageStatus, 1111)
	waitTried()
	// The attempt is recorded a moment after the endpoint answers.
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		var d struct{ AttemptCount int }
		e.call("GET", "/v1/organizations/1111/deliveries/"+first, key, nil, &d)
		if d.AttemptCount == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the first attempt was not recorded within 10 s")
		}
	}
	second := e.publish(event.TypeIntegrationMessageStatus, 1111) // the same trxID: the example's

	link := `<a href="/deliveries/` + first + `" class="mono">` + first + `</a>, an earlier event of the same message or case`
	p := b.get("/deliveries/" + second)
	if !strings.Contains(p.Body, `<dt>Waiting for</dt><dd id="waiting-for">`+link) {
		t.Errorf("the second's facts do not name the first:\n%s", p.Body)
	}
	if !strings.Contains(p.Body, `No attempt yet. Waiting for `+link) || strings.Contains(p.Body, "on its way") {
		t.Errorf("the second's attempts do not say what it waits for:\n%s", p.Body)
	}
	if p := b.get("/deliveries/" + first); !strings.Contains(p.Body, `<dd id="waiting-for">its next attempt.</dd>`) {
		t.Errorf("the first, waiting for its retry:\n%s", p.Body)
	}

	settings.Set("rateLimit", "5")
	b.post("/webhooks", settings)
	if p := b.get("/deliveries/" + first); !strings.Contains(p.Body, "its turn under the webhook's rate limit of 5 deliveries per second.") {
		t.Errorf("the first with a rate limit of 5:\n%s", p.Body)
	}
	if p := b.get("/deliveries/" + second); !strings.Contains(p.Body, link) {
		t.Error("with a rate limit, the second no longer names the first it waits for")
	}

	// Send test event: the same example, sent at once all the same.
	p = b.post("/webhooks/test", url.Values{"eventType": {"integration_message_status"}})
	test := strings.TrimSuffix(strings.TrimPrefix(p.Header.Get("Location"), "/deliveries/"), "?notice=test-sent")
	waitTried()
	if p := b.get("/deliveries/" + test); !strings.Contains(p.Body, `<span class="badge test" title="Sent with Send test event">test</span></h1>`) {
		t.Errorf("the test delivery's page has no test badge:\n%s", p.Body)
	}
	if p := b.get("/deliveries/" + first); strings.Contains(p.Body, `class="badge test"`) {
		t.Error("a published delivery's page has the test badge")
	}
	rows := strings.Split(b.get("/deliveries").Body, "<tr>")
	badges := 0
	for _, row := range rows {
		if strings.Contains(row, `class="badge test"`) {
			badges++
			if !strings.Contains(row, "/deliveries/"+test+`"`) {
				t.Errorf("the log marks another row a test:\n%s", row)
			}
		}
	}
	if badges != 1 {
		t.Errorf("the log has %d test badges, want 1 (the test's row)", badges)
	}

	// Switched off, what no earlier delivery holds waits for the switch.
	settings.Del("enabled")
	b.post("/webhooks", settings)
	if p := b.get("/deliveries/" + first); !strings.Contains(p.Body, `<dd id="waiting-for">the webhook to be enabled: it is switched off.</dd>`) {
		t.Errorf("the first with the webhook switched off:\n%s", p.Body)
	}
}

// Signing out ends the session on the server: a copy of the cookie (kept
// by another tab, or stolen) gets the sign-in page afterwards, on this
// node and on another node of the same database, for an organization's
// key and for the admin.
func TestSignOutEndsTheSessionOnEveryNode(t *testing.T) {
	e := newEnv(t)
	key := e.createOrg(1111, "Acme")
	other := e.node(func(*ui.Config) {})
	other.Start()
	for name, token := range map[string]string{"organization key": key, "admin token": e.Admin} {
		b := e.browser()
		b.login(token)
		copied := *b.cookie
		elsewhere := &browser{t: t, base: other.URL, cookie: &copied}
		if p := elsewhere.get("/organization"); p.Status != 200 && p.Status != http.StatusSeeOther {
			t.Fatalf("%s: the session on another node before signing out: %d", name, p.Status)
		} else if p.Header.Get("Location") == "/login" {
			t.Fatalf("%s: another node refused the session before signing out", name)
		}
		if p := b.post("/logout", url.Values{}); p.Status != http.StatusSeeOther || p.Header.Get("Location") != "/login" {
			t.Fatalf("%s: sign out: %d to %q", name, p.Status, p.Header.Get("Location"))
		}
		for where, c := range map[string]*browser{
			"this node":    {t: t, base: e.URL, cookie: &copied},
			"another node": {t: t, base: other.URL, cookie: &copied},
		} {
			if p := c.get("/webhooks"); p.Status != http.StatusSeeOther || p.Header.Get("Location") != "/login" {
				t.Errorf("%s: the signed-out cookie on %s: %d to %q, want the sign-in page", name, where, p.Status, p.Header.Get("Location"))
			}
		}
	}
}

// Cookies are Secure when the browser reaches the service over HTTPS:
// directly, or through a proxy that the public URL names; on plain http
// they are not, or the browser would drop them.
func TestCookiesAreSecureOverHTTPS(t *testing.T) {
	e := newEnv(t)
	key := e.createOrg(1111, "Acme")
	behindProxy := e.node(func(c *ui.Config) { c.PublicURL = "https://hooks.example.com" })
	behindProxy.Start()
	plainPublic := e.node(func(c *ui.Config) { c.PublicURL = "http://127.0.0.1:8080" })
	plainPublic.Start()
	direct := e.node(func(*ui.Config) {})
	direct.StartTLS()
	for _, c := range []struct {
		name   string
		b      *browser
		secure bool
	}{
		{"plain http", e.browser(), false},
		{"plain http with an http public URL", &browser{t: t, base: plainPublic.URL}, false},
		{"behind a proxy with an https public URL", &browser{t: t, base: behindProxy.URL}, true},
		{"TLS to the service itself", &browser{t: t, base: direct.URL, client: direct.Client()}, true},
	} {
		p := c.b.post("/login", url.Values{"token": {key}})
		if got := strings.Contains(p.Header.Get("Set-Cookie"), "Secure"); p.Status != http.StatusSeeOther || got != c.secure {
			t.Errorf("%s: sign in %d, cookie %q; want Secure %v", c.name, p.Status, p.Header.Get("Set-Cookie"), c.secure)
		}
		p = c.b.post("/logout", url.Values{})
		if got := strings.Contains(p.Header.Get("Set-Cookie"), "Secure"); got != c.secure {
			t.Errorf("%s: the sign-out's cookie %q; want Secure %v", c.name, p.Header.Get("Set-Cookie"), c.secure)
		}
	}
}

// The chart's y axis fits the counts: five deliveries in the busiest hour
// make an axis of 0 to 5, not 0 to 10.
func TestChartAxisFitsTheCounts(t *testing.T) {
	e := newEnv(t)
	key := e.createOrg(1111, "Acme")
	rcv := newReceiver(t)
	b := e.browser()
	b.login(key)
	b.post("/webhooks", url.Values{"enabled": {"on"}, "url": {rcv.URL}, "subscribedEvents": {"case_resolved"}})
	for range 5 {
		e.publish(event.TypeCaseResolved, 1111)
	}
	for range 5 {
		rcv.wait(t)
	}
	var p page
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		if p = b.get("/deliveries"); strings.Contains(p.Body, "Succeeded 5 ") || time.Now().After(deadline) {
			break
		}
	}
	var labels []string
	for _, m := range axisLabel.FindAllStringSubmatch(p.Body, -1) {
		labels = append(labels, m[1])
	}
	if strings.Join(labels, ",") != "0,1,2,3,4,5" {
		t.Errorf("y axis labels %v, want 0 to 5 by 1", labels)
	}
}

// axisLabel is a y-axis label of the chart (the x axis's are times).
var axisLabel = regexp.MustCompile(`<text class="axis" x="30"[^>]*>(\d+)</text>`)

// The scheme is chosen on the Set form with a real control; an Ed25519
// webhook's page shows its public key (never the private key) and says
// what it is for, and a rotation shows the new public key.
func TestEd25519OnTheForm(t *testing.T) {
	e := newEnv(t)
	key := e.createOrg(1111, "Acme")
	b := e.browser()
	b.login(key)
	if p := b.get("/webhooks/edit"); !strings.Contains(p.Body, `<input type="radio" name="signing" value="hmac-sha256" checked>`) ||
		!strings.Contains(p.Body, `<input type="radio" name="signing" value="ed25519">`) {
		t.Fatalf("the form has no scheme control with HMAC chosen:\n%s", p.Body)
	}
	form := func(signing string) url.Values {
		return url.Values{"enabled": {"on"}, "url": {"https://example.com/hook"}, "subscribedEvents": {"case_resolved"}, "signing": {signing}}
	}
	if p := b.post("/webhooks", form("ed448")); p.Status != http.StatusUnprocessableEntity || !strings.Contains(p.Body, `id="signing-error"`) {
		t.Fatalf("signing ed448: %d, want 422 with the message beside the control\n%s", p.Status, p.Body)
	}
	if p := b.post("/webhooks", form("ed25519")); p.Status != http.StatusSeeOther {
		t.Fatalf("saving ed25519: %d\n%s", p.Status, p.Body)
	}
	var wh struct{ Signing string }
	if e.call("GET", "/v1/organizations/1111/webhook", key, nil, &wh); wh.Signing != "ed25519" {
		t.Fatalf("after saving ed25519 the API says %q", wh.Signing)
	}
	var k struct{ PublicKey, Secret string }
	e.call("GET", "/v1/organizations/1111/webhook/secret", key, nil, &k)
	p := b.get("/webhooks")
	body := html.UnescapeString(p.Body)
	if !strings.HasPrefix(k.PublicKey, "whpk_") || k.Secret != "" || !strings.Contains(body, `value="`+k.PublicKey+`"`) ||
		!strings.Contains(body, "Public key") || !strings.Contains(body, "<dd>Ed25519 (public key)</dd>") {
		t.Fatalf("the page does not show the public key %q:\n%s", k.PublicKey, p.Body)
	}
	if strings.Contains(body, "whsk_") || strings.Contains(body, "whsec_") || strings.Contains(body, "/webhooks/secret/reveal") {
		t.Error("an Ed25519 webhook's page shows a secret or offers to reveal one")
	}
	if p := b.get("/webhooks/edit"); !strings.Contains(p.Body, `value="ed25519" checked`) {
		t.Error("the form does not show Ed25519 chosen")
	}
	old := k.PublicKey
	p = b.post("/webhooks/secret/rotate", url.Values{})
	e.call("GET", "/v1/organizations/1111/webhook/secret", key, nil, &k)
	if k.PublicKey == old || !strings.Contains(html.UnescapeString(p.Body), `value="`+k.PublicKey+`"`) || !strings.Contains(p.Body, "keeps signing") {
		t.Errorf("rotate: %d, the new public key %s is not on the page", p.Status, k.PublicKey)
	}
	if p := b.post("/webhooks", form("hmac-sha256")); p.Status != http.StatusSeeOther {
		t.Fatalf("saving hmac-sha256: %d", p.Status)
	}
	if p := b.get("/webhooks"); !strings.Contains(p.Body, "Signing secret") || !strings.Contains(p.Body, "choose Ed25519 under Set") {
		t.Error("back on HMAC the page does not show the signing secret section")
	}
}
