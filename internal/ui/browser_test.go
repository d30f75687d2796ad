package ui_test

import (
	"context"
	"encoding/json"
	"flag"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/onetalk/onetalk-webhooks/internal/event"
)

var screenshots = flag.String("screenshots", "", "save the browser tests' screenshots into this folder (../docs/screenshots updates the docs)")

// chromium returns Debian's Chromium, or skips the test without it (fails
// it when CI is set: there the browser tests must run).
func chromium(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if path, err := exec.LookPath(name); err == nil {
			return path
		}
	}
	if os.Getenv("CI") != "" {
		t.Fatal("CI is set and no Chromium is installed (apt-get install chromium)")
	}
	t.Skip("no Chromium installed (apt-get install chromium); skipping the browser tests")
	return ""
}

// newChrome starts a headless Chromium with a fresh profile. The flags keep
// it from reaching out to the network, which in a closed sandbox makes it
// hang on connections.
func newChrome(t *testing.T) context.Context {
	t.Helper()
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromium(t)),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 800),
	)
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(actx)
	t.Cleanup(func() { cancel(); cancelAlloc() })
	// The first Run starts the browser; it must not have a deadline.
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(1280, 800)); err != nil {
		t.Fatal(err)
	}
	return ctx
}

// run runs the steps with a time limit, failing the test with what it was
// doing.
func run(t *testing.T, ctx context.Context, what string, steps ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	tctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	if err := chromedp.Do(tctx, steps...); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

func text(t *testing.T, ctx context.Context, sel string) string {
	t.Helper()
	tctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	s, err := chromedp.Run(tctx, chromedp.Text(chromedp.CSS(sel)))
	if err != nil {
		t.Fatalf("reading %s: %v", sel, err)
	}
	return s
}

// shot saves the viewport as name.png (the whole page with full): into -screenshots when given, else
// into a temporary folder, so the capture itself is always exercised.
func shot(t *testing.T, ctx context.Context, name string, full ...bool) {
	t.Helper()
	dir := *screenshots
	if dir == "" {
		dir = t.TempDir()
	}
	capture := chromedp.CaptureScreenshot()
	if len(full) > 0 && full[0] {
		capture = chromedp.FullScreenshot(100) // quality 100 is PNG
	}
	png, err := chromedp.Run(ctx, capture)
	if err != nil {
		t.Fatalf("screenshot %s: %v", name, err)
	}
	if err := os.WriteFile(filepath.Join(dir, name+".png"), png, 0o644); err != nil {
		t.Fatal(err)
	}
}

// count returns how many elements the XPath finds on the page.
func count(t *testing.T, ctx context.Context, xpath string) int {
	t.Helper()
	tctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	n, err := chromedp.Run(tctx, chromedp.Evaluate[int](
		`document.evaluate(`+strconv.Quote(xpath)+`, document, null, XPathResult.ORDERED_NODE_SNAPSHOT_TYPE, null).snapshotLength`))
	if err != nil {
		t.Fatalf("counting %s: %v", xpath, err)
	}
	return n
}

// waitFor reloads the page until the element's text holds want.
func waitFor(t *testing.T, ctx context.Context, sel, want string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		tctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		s, err := chromedp.Run(tctx, chromedp.Text(chromedp.CSS(sel)))
		cancel()
		if err == nil && strings.Contains(s, want) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s never showed %q (last: %q, %v)", sel, want, s, err)
		}
		time.Sleep(200 * time.Millisecond)
		run(t, ctx, "reload", chromedp.Reload())
	}
}

// TestBrowserSetWebhookAndFollowADelivery walks the Integration › Webhooks
// page in Chromium: sign in, Set, enable, type a real receiver's URL, tick
// one event, Save Changes; Send test event offers that event only; publish
// through the API and follow the delivery to its page, where a success
// offers Send again and no Retry; move the URL where nothing listens, see
// the log's last error and each attempt's URL, and Retry; see "Choose a
// minimum of 1 event" when no event is ticked; sign in as the admin and
// pick the organization from the list.
func TestBrowserSetWebhookAndFollowADelivery(t *testing.T) {
	e := newEnv(t)
	ctx := newChrome(t)
	key := e.createOrg(1111, "Acme Support")
	rcv := newReceiver(t)

	run(t, ctx, "open the sign-in page", chromedp.Navigate(e.URL+"/"), chromedp.WaitVisible(chromedp.ID("token")))
	shot(t, ctx, "login")
	run(t, ctx, "sign in",
		chromedp.SendKeys(chromedp.ID("token"), key),
		chromedp.Click(chromedp.CSS(`form[action="/login"] button`)),
		chromedp.WaitVisible(chromedp.CSS(`a[href="/webhooks/edit"]`)))
	if h := text(t, ctx, "main h1"); h != "Webhooks" {
		t.Fatalf("after sign-in the page is %q", h)
	}

	run(t, ctx, "Set", chromedp.Click(chromedp.CSS(`.pagehead a[href="/webhooks/edit"]`)),
		chromedp.WaitVisible(chromedp.ID("url")))
	role, err := chromedp.Run(ctx, chromedp.AttributeValue(chromedp.ID("enabled"), "role"))
	if err != nil || role.Value != "switch" {
		t.Errorf("the Enable webhook toggle has role %q (%v), want switch", role.Value, err)
	}
	run(t, ctx, "fill the form",
		chromedp.Click(chromedp.CSS(`label[for="enabled"]`)),
		chromedp.SendKeys(chromedp.ID("url"), rcv.URL),
		chromedp.Click(chromedp.CSS(`label[for="rateLimit"]`)), // the label leads to its field
		chromedp.SendKeys(chromedp.ID("rateLimit"), "50"),
		chromedp.Click(chromedp.CSS(`input[value="integration_message_status"]`)))
	shot(t, ctx, "webhook-form")
	run(t, ctx, "Save Changes", chromedp.Click(chromedp.Search(`//button[text()="Save Changes"]`)),
		chromedp.WaitVisible(chromedp.CSS(".notice")))
	settings := text(t, ctx, ".facts")
	for _, want := range []string{"Enabled", rcv.URL, "integration_message_status", "50 deliveries per second"} {
		if !strings.Contains(settings, want) {
			t.Errorf("saved settings lack %q:\n%s", want, settings)
		}
	}
	if strings.Contains(settings, "case_resolved") {
		t.Errorf("case_resolved shows as subscribed:\n%s", settings)
	}
	run(t, ctx, "reveal the secret", chromedp.Click(chromedp.Search(`//button[text()="Reveal"]`)),
		chromedp.WaitVisible(chromedp.ID("secret")), chromedp.WaitVisible(chromedp.CSS(`[data-copy="secret"]`)))
	shot(t, ctx, "webhook")
	// Send test event offers only the types the webhook subscribes to.
	offered, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`[...document.querySelectorAll("#test-type option")].map(o => o.value)`))
	if err != nil || strings.Join(offered, ",") != "integration_message_status" {
		t.Errorf("Send test event offers %v (%v), want only integration_message_status", offered, err)
	}

	// The platform publishes; the receiver gets it; the log shows it.
	if e.publish(event.TypeIntegrationMessageStatus, 1111) == "" {
		t.Fatal("publishing made no delivery")
	}
	rcv.wait(t)
	run(t, ctx, "open the log", chromedp.Click(chromedp.CSS(`.tabs a[href="/deliveries"]`)),
		chromedp.WaitVisible(chromedp.CSS("table.log")))
	waitFor(t, ctx, "table.log tbody", "succeeded")
	row := text(t, ctx, "table.log tbody tr")
	for _, want := range []string{"integration_message_status", "succeeded", "1", "200"} {
		if !strings.Contains(row, want) {
			t.Errorf("log row lacks %q: %q", want, row)
		}
	}
	if e := text(t, ctx, `table.log tbody tr td[data-label="Last error"]`); e != "—" {
		t.Errorf("a delivery that succeeded shows the last error %q, want —", e)
	}
	if desc := text(t, ctx, "figure.chart figcaption"); !strings.Contains(desc, "1 succeeded, 0 failed") {
		t.Errorf("chart text alternative: %q", desc)
	}

	run(t, ctx, "open the delivery", chromedp.Click(chromedp.CSS("table.log tbody tr a")),
		chromedp.WaitVisible(chromedp.ID("payload")))
	var sent map[string]any
	if err := json.Unmarshal([]byte(text(t, ctx, "#payload")), &sent); err != nil || sent["type"] != "integration_message_status" {
		t.Errorf("payload on the page: %v, %v", sent, err)
	}
	if n := text(t, ctx, "table.attempts tbody"); !strings.Contains(n, "200") || !strings.Contains(n, rcv.URL) {
		t.Errorf("attempts: %q, want 200 sent to %s", n, rcv.URL)
	}
	// A delivery that succeeded has no orange Retry, only the quiet Send
	// again, which sends it once more.
	if n := count(t, ctx, `//button[text()="Retry"]`); n != 0 {
		t.Errorf("a delivery that succeeded shows Retry")
	}
	run(t, ctx, "Send again", chromedp.Click(chromedp.Search(`//button[text()="Send again"]`)),
		chromedp.WaitVisible(chromedp.CSS(".notice")))
	rcv.wait(t)
	if rcv.count() != 2 {
		t.Errorf("the receiver got %d requests, want 2", rcv.count())
	}
	waitFor(t, ctx, "table.attempts tbody tr:nth-child(2)", "200")

	// The endpoint moves to an address where nothing listens: the attempt
	// fails, the log says why, and the delivery waits for its retry.
	gone := httptest.NewServer(http.NotFoundHandler())
	gone.Close()
	dead := gone.URL + "/onetalk/webhook"
	run(t, ctx, "change the URL", chromedp.Navigate(e.URL+"/webhooks/edit"), chromedp.WaitVisible(chromedp.ID("url")),
		chromedp.SetValue(chromedp.ID("url"), dead),
		chromedp.Click(chromedp.Search(`//button[text()="Save Changes"]`)), chromedp.WaitVisible(chromedp.CSS(".notice")))
	failing := e.publish(event.TypeIntegrationMessageStatus, 1111)
	run(t, ctx, "open the log", chromedp.Navigate(e.URL+"/deliveries"), chromedp.WaitVisible(chromedp.CSS("table.log")))
	waitFor(t, ctx, `table.log tbody tr:first-child td[data-label="Last error"]`, "refused")
	shot(t, ctx, "deliveries", true)
	run(t, ctx, "open the failing delivery", chromedp.Navigate(e.URL+"/deliveries/"+failing), chromedp.WaitVisible(chromedp.ID("payload")))
	if n := text(t, ctx, "table.attempts tbody tr:nth-child(1)"); !strings.Contains(n, dead) || !strings.Contains(n, "refused") {
		t.Errorf("the failed attempt: %q, want sent to %s and refused", n, dead)
	}
	if n := count(t, ctx, `//button[text()="Send again"]`); n != 0 {
		t.Errorf("a delivery waiting for its retry shows Send again")
	}
	// Back to the receiver; Retry sends it now, and each attempt says
	// where it went.
	run(t, ctx, "change the URL back", chromedp.Navigate(e.URL+"/webhooks/edit"), chromedp.WaitVisible(chromedp.ID("url")),
		chromedp.SetValue(chromedp.ID("url"), rcv.URL),
		chromedp.Click(chromedp.Search(`//button[text()="Save Changes"]`)), chromedp.WaitVisible(chromedp.CSS(".notice")),
		chromedp.Navigate(e.URL+"/deliveries/"+failing), chromedp.WaitVisible(chromedp.ID("payload")))
	run(t, ctx, "Retry", chromedp.Click(chromedp.Search(`//button[text()="Retry"]`)),
		chromedp.WaitVisible(chromedp.CSS(".notice")))
	rcv.wait(t)
	waitFor(t, ctx, "table.attempts tbody tr:nth-child(2)", "200")
	if n := text(t, ctx, "table.attempts tbody tr:nth-child(2)"); !strings.Contains(n, rcv.URL) {
		t.Errorf("the retried attempt: %q, want sent to %s", n, rcv.URL)
	}
	if n := count(t, ctx, `//button[text()="Retry"]`); n != 0 {
		t.Errorf("the delivery succeeded on retry and still shows Retry")
	}
	shot(t, ctx, "delivery", true)

	// Untick the only event: refused, and nothing changes.
	run(t, ctx, "edit again", chromedp.Navigate(e.URL+"/webhooks/edit"), chromedp.WaitVisible(chromedp.ID("url")),
		chromedp.Click(chromedp.CSS(`input[value="integration_message_status"]`)),
		chromedp.Click(chromedp.Search(`//button[text()="Save Changes"]`)),
		chromedp.WaitVisible(chromedp.ID("events-error")))
	if msg := text(t, ctx, "#events-error"); msg != "Choose a minimum of 1 event" {
		t.Errorf("refusal: %q", msg)
	}
	shot(t, ctx, "webhook-refused")
	var wh struct{ SubscribedEvents []string }
	e.call("GET", "/v1/organizations/1111/webhook", key, nil, &wh)
	if len(wh.SubscribedEvents) != 1 {
		t.Errorf("the refused save changed the events: %v", wh.SubscribedEvents)
	}

	// The admin signs out and in with the admin token, and picks the
	// organization from the list: nothing to type, nothing that looks
	// filled in.
	run(t, ctx, "sign out", chromedp.Click(chromedp.Search(`//button[text()="Sign out"]`)),
		chromedp.WaitVisible(chromedp.ID("token")))
	run(t, ctx, "sign in as the admin",
		chromedp.SendKeys(chromedp.ID("token"), e.Admin),
		chromedp.Click(chromedp.CSS(`form[action="/login"] button`)),
		chromedp.WaitVisible(chromedp.CSS(".org-list")))
	if n := count(t, ctx, `//input[@placeholder]`); n != 0 {
		t.Errorf("the organization page has %d fields with a placeholder", n)
	}
	shot(t, ctx, "organization")
	run(t, ctx, "choose Acme Support", chromedp.Click(chromedp.Search(`//button[contains(., "Acme Support")]`)),
		chromedp.WaitVisible(chromedp.CSS(`a[href="/webhooks/edit"]`)))
	if who := text(t, ctx, ".who .org"); !strings.Contains(who, "Acme Support") {
		t.Errorf("after choosing, the top bar shows %q", who)
	}

	// A phone: the same pages at 375 px wide.
	run(t, ctx, "phone", chromedp.EmulateViewport(375, 812, chromedp.EmulateMobile),
		chromedp.Navigate(e.URL+"/webhooks"), chromedp.WaitVisible(chromedp.CSS(".facts")))
	shot(t, ctx, "webhook-phone")
	run(t, ctx, "phone log", chromedp.Navigate(e.URL+"/deliveries"), chromedp.WaitVisible(chromedp.CSS("table.log")))
	shot(t, ctx, "deliveries-phone")
	wide, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`document.documentElement.scrollWidth > window.innerWidth`))
	if err != nil || wide {
		t.Errorf("the log scrolls sideways at 375 px (%v)", err)
	}
}

// The scheme is a real control: clicking the Ed25519 option's text chooses
// it, the save switches the webhook, and the page shows the public key
// the API gives.
func TestBrowserChooseEd25519(t *testing.T) {
	e := newEnv(t)
	ctx := newChrome(t)
	key := e.createOrg(1111, "Acme Support")
	run(t, ctx, "sign in", chromedp.Navigate(e.URL+"/"), chromedp.WaitVisible(chromedp.ID("token")),
		chromedp.SendKeys(chromedp.ID("token"), key),
		chromedp.Click(chromedp.CSS(`form[action="/login"] button`)),
		chromedp.WaitVisible(chromedp.CSS(`a[href="/webhooks/edit"]`)))
	run(t, ctx, "Set", chromedp.Click(chromedp.CSS(`.pagehead a[href="/webhooks/edit"]`)),
		chromedp.WaitVisible(chromedp.ID("url")))
	run(t, ctx, "fill the form",
		chromedp.SendKeys(chromedp.ID("url"), "https://example.com/hook"),
		chromedp.Click(chromedp.Search(`//label[.//input[@value="ed25519"]]//span[contains(., "Ed25519")]`)),
		chromedp.Click(chromedp.CSS(`input[value="case_resolved"]`)))
	chosen, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.querySelector('input[name="signing"]:checked').value`))
	if err != nil || chosen != "ed25519" {
		t.Fatalf("after clicking Ed25519 the chosen scheme is %q (%v)", chosen, err)
	}
	run(t, ctx, "Save Changes", chromedp.Click(chromedp.Search(`//button[text()="Save Changes"]`)),
		chromedp.WaitVisible(chromedp.CSS(".notice")), chromedp.WaitVisible(chromedp.ID("secret")))
	if settings := text(t, ctx, ".facts"); !strings.Contains(settings, "Ed25519 (public key)") {
		t.Errorf("the settings do not say Ed25519:\n%s", settings)
	}
	var k struct{ PublicKey string }
	e.call("GET", "/v1/organizations/1111/webhook/secret", key, nil, &k)
	shown, err := chromedp.Run(ctx, chromedp.Value(chromedp.ID("secret")))
	if err != nil || shown != k.PublicKey || !strings.HasPrefix(shown, "whpk_") {
		t.Errorf("the page shows %q (%v), the API's public key is %q", shown, err, k.PublicKey)
	}
	if h := text(t, ctx, "#secret-h"); h != "Public key" {
		t.Errorf("the key section is headed %q", h)
	}
}
