package ui_test

import (
	"reflect"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/onetalk/onetalk-webhooks/internal/event"
)

// TestBrowserSetAFilter sets a filter on the webhook form in Chromium:
// open integration_message_status's filters, reach the status field by
// its label, type a value the field never takes and see the message
// beside it, fix it to "failed, read", and see the filter on the settings
// page and in the API. The example (a delivered status) is then filtered,
// and the form shows the saved values again.
func TestBrowserSetAFilter(t *testing.T) {
	e := newEnv(t)
	ctx := newChrome(t)
	key := e.createOrg(1111, "Acme Support")
	rcv := newReceiver(t)

	run(t, ctx, "sign in", chromedp.Navigate(e.URL+"/"), chromedp.WaitVisible(chromedp.ID("token")),
		chromedp.SendKeys(chromedp.ID("token"), key),
		chromedp.Click(chromedp.CSS(`form[action="/login"] button`)),
		chromedp.WaitVisible(chromedp.CSS(`a[href="/webhooks/edit"]`)))
	status := `#filter-integration_message_status-status`
	run(t, ctx, "fill the form with a filter",
		chromedp.Navigate(e.URL+"/webhooks/edit"), chromedp.WaitVisible(chromedp.ID("url")),
		chromedp.Click(chromedp.CSS(`label[for="enabled"]`)),
		chromedp.SendKeys(chromedp.ID("url"), rcv.URL),
		chromedp.Click(chromedp.CSS(`input[value="integration_message_status"]`)),
		chromedp.Click(chromedp.Search(`//summary[code[text()="integration_message_status"]]`)),
		chromedp.WaitVisible(chromedp.CSS(status)),
		chromedp.Click(chromedp.CSS(`label[for="filter-integration_message_status-status"]`)), // the label leads to its field
		chromedp.SendKeys(chromedp.CSS(status), "faild, read"),
		chromedp.Click(chromedp.Search(`//button[text()="Save Changes"]`)),
		chromedp.WaitVisible(chromedp.CSS(status+`-error`)))
	if msg := text(t, ctx, status+"-error"); !strings.Contains(msg, `never "faild"`) {
		t.Errorf("the status field's error says %q", msg)
	}
	if inv, err := chromedp.Run(ctx, chromedp.AttributeValue(chromedp.CSS(status), "aria-invalid")); err != nil || inv.Value != "true" {
		t.Errorf("the status field is not marked invalid: %q, %v", inv.Value, err)
	}
	shot(t, ctx, "webhook-form-filter-error", true)
	run(t, ctx, "fix the value", chromedp.SetValue(chromedp.CSS(status), "failed, read"),
		chromedp.Click(chromedp.Search(`//button[text()="Save Changes"]`)),
		chromedp.WaitVisible(chromedp.CSS(".notice")))
	settings := text(t, ctx, ".facts")
	if !strings.Contains(settings, `integration_message_status only when status is failed or read`) {
		t.Errorf("the settings do not show the filter:\n%s", settings)
	}
	var wh struct {
		Filters map[string]map[string][]string
	}
	if st := e.call("GET", "/v1/organizations/1111/webhook", key, nil, &wh); st != 200 ||
		!reflect.DeepEqual(wh.Filters, map[string]map[string][]string{"integration_message_status": {"status": {"failed", "read"}}}) {
		t.Errorf("GET webhook: %d, filters %v", st, wh.Filters)
	}
	if id := e.publish(event.TypeIntegrationMessageStatus, 1111); id != "" {
		t.Errorf("the example (a delivered status) made delivery %s through a filter for failed and read", id)
	}
	run(t, ctx, "open the form again", chromedp.Navigate(e.URL+"/webhooks/edit"), chromedp.WaitVisible(chromedp.CSS(status)))
	if value, err := chromedp.Run(ctx, chromedp.Value(chromedp.CSS(status))); err != nil || value != "failed, read" {
		t.Errorf("the form shows the saved status filter as %q (%v)", value, err)
	}
}
