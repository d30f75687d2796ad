package ui_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// TestBrowserFindAndRetryAllFailed finds a message's delivery by its trxID
// in Chromium, and sends the failed ones of that view again: "Retry all N
// failed in this view" says the count first, on a page of its own, and
// only its button sends.
func TestBrowserFindAndRetryAllFailed(t *testing.T) {
	e := newEnv(t)
	ctx := newChrome(t)
	key := e.createOrg(1111, "Acme Support")
	// An endpoint that answers 410 Gone: the service disables the webhook
	// and records the deliveries as failed at once.
	gone := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusGone) }))
	defer gone.Close()
	hook := func(url string) {
		t.Helper()
		if st := e.call("PUT", "/v1/organizations/1111/webhook", key, map[string]any{"enabled": true, "url": url,
			"subscribedEvents": []string{"integration_message_status"}}, nil); st != 200 {
			t.Fatalf("saving the webhook: %d", st)
		}
	}
	hook(gone.URL + "/hook")
	publish := func(trx string) string {
		t.Helper()
		body := fmt.Sprintf(`{"type":"integration_message_status","organizationID":1111,"integrationMessageStatus":{"channelID":"0123456","channelType":"whatsapp","contactPhone":"628123456789","reason":"","status":"read","timestamp":1587352926788,"trxID":%q}}`, trx)
		var out struct{ DeliveryID string }
		if st := e.call("POST", "/v1/events", e.Admin, json.RawMessage(body), &out); st != 202 || out.DeliveryID == "" {
			t.Fatalf("publishing %s: %d, delivery %q", trx, st, out.DeliveryID)
		}
		return out.DeliveryID
	}
	first := publish("find-A")
	deadline := time.Now().Add(10 * time.Second)
	for {
		var d struct{ Status string }
		e.call("GET", "/v1/organizations/1111/deliveries/"+first, key, nil, &d)
		if d.Status == "failed" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the delivery to a 410 is %s, want failed", d.Status)
		}
		time.Sleep(50 * time.Millisecond)
	}
	other := publish("find-B") // recorded failed: the webhook is disabled
	rcv := newReceiver(t)
	hook(rcv.URL)

	run(t, ctx, "sign in", chromedp.Navigate(e.URL+"/"), chromedp.WaitVisible(chromedp.ID("token")),
		chromedp.SendKeys(chromedp.ID("token"), key),
		chromedp.Click(chromedp.CSS(`form[action="/login"] button`)),
		chromedp.WaitVisible(chromedp.CSS(`a[href="/webhooks/edit"]`)))
	run(t, ctx, "open the log", chromedp.Navigate(e.URL+"/deliveries"), chromedp.WaitVisible(chromedp.CSS("table.log")))
	if got := text(t, ctx, "#retry-all"); got != "Retry all 2 failed in this view" {
		t.Errorf("the whole log offers %q", got)
	}
	run(t, ctx, "search the trxID", chromedp.Click(chromedp.CSS(`label[for="f-q"]`)), // the label leads to its field
		chromedp.SendKeys(chromedp.ID("f-q"), "find-A"),
		chromedp.Click(chromedp.Search(`//button[text()="Filter"]`)),
		chromedp.WaitVisible(chromedp.ID("search-result")))
	shot(t, ctx, "deliveries-search", true)
	if got := text(t, ctx, "#search-result"); !strings.Contains(got, "trxID") || !strings.Contains(got, "find-A") {
		t.Errorf("the search says %q", got)
	}
	if n := count(t, ctx, `//table[@class="log"]/tbody/tr/td/a[contains(@href, "`+first+`")]`); n != 1 || count(t, ctx, `//table[@class="log"]/tbody/tr`) != 1 {
		t.Errorf("searching find-A does not list only its delivery %s", first)
	}
	if got := text(t, ctx, "#retry-all"); got != "Retry all 1 failed in this view" {
		t.Errorf("the view of find-A offers %q", got)
	}
	run(t, ctx, "Retry all", chromedp.Click(chromedp.ID("retry-all")), chromedp.WaitVisible(chromedp.ID("confirm-retry")))
	shot(t, ctx, "deliveries-retry")
	if h := text(t, ctx, "main h1"); h != "Retry 1 failed delivery?" {
		t.Errorf("the confirmation asks %q", h)
	}
	if rcv.count() != 0 {
		t.Fatal("something was sent before the confirmation")
	}
	run(t, ctx, "confirm", chromedp.Click(chromedp.ID("confirm-retry")), chromedp.WaitVisible(chromedp.CSS(".notice")))
	rcv.wait(t)
	rcv.mu.Lock()
	body := string(rcv.bodies[0])
	rcv.mu.Unlock()
	if !strings.Contains(body, "find-A") {
		t.Errorf("the retry sent %s, not find-A", body)
	}
	// find-B is still failed: it was not in the view.
	var d struct{ Status string }
	if e.call("GET", "/v1/organizations/1111/deliveries/"+other, key, nil, &d); d.Status != "failed" {
		t.Errorf("find-B, outside the view, is %s", d.Status)
	}
	// An event ID is found too; a bad time is refused naming its field.
	var ev struct{ EventID string }
	e.call("GET", "/v1/organizations/1111/deliveries/"+other, key, nil, &ev)
	run(t, ctx, "search the event ID", chromedp.Navigate(e.URL+"/deliveries?q="+ev.EventID), chromedp.WaitVisible(chromedp.ID("search-result")))
	if got := text(t, ctx, "#search-result"); !strings.Contains(got, "event ID") {
		t.Errorf("searching an event ID says %q", got)
	}
	if p := e.browser(); true {
		p.login(key)
		if page := p.get("/deliveries?from=yesterday"); page.Status != 422 || !strings.Contains(page.Body, "from") {
			t.Errorf("a bad from: %d", page.Status)
		}
	}
}
