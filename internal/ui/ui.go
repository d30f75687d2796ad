// Package ui is the web UI: server-rendered pages (html/template,
// embedded assets, no build step) for the Integration › Webhooks page
// and the delivery log. Every operation is the service's
// (internal/service), the one the REST API serves too, so both do and
// refuse exactly the same things.
//
// Every page works without JavaScript: each action is a form. static/app.js
// only adds copy-to-clipboard and a confirmation.
package ui

import (
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/onetalk/onetalk-webhooks/internal/service"
	"github.com/onetalk/onetalk-webhooks/internal/web"
)

// Config wires a UI.
type Config struct {
	// Service does every operation the pages offer, the same one the REST
	// API serves, so that each is done one way.
	Service *service.Service
	// SessionKey signs session cookies (HMAC-SHA256), at least 32 bytes.
	// Every node of one service must be given the same key so that each
	// accepts the cookies of the others; SessionKeyFrom derives one.
	SessionKey []byte
	// SessionTTL is how long a sign-in lasts (12 h).
	SessionTTL time.Duration
	// PublicURL is the address people open the UI at, such as
	// https://hooks.example.com. When it is https, session cookies are
	// Secure even though the request reaches the service as plain http
	// (a proxy ending TLS in front of it); "" leaves that to the request.
	PublicURL string
	// Failures limits failed sign-ins per client address, shared with the
	// API (nil: the UI keeps its own).
	Failures *web.FailureLimiter
	Logger   *slog.Logger
}

// UI serves the pages.
type UI struct {
	cfg   Config
	svc   *service.Service
	pages pages
	cop   *http.CrossOriginProtection
	// httpsPublic: PublicURL is https, so every cookie is Secure.
	httpsPublic bool
}

// New returns a UI with cfg's defaults filled in. It parses every template
// now, so a broken one stops the service at start rather than a page later.
func New(cfg Config) (*UI, error) {
	if cfg.Service == nil {
		return nil, errors.New("ui: Service is required")
	}
	if len(cfg.SessionKey) < 32 {
		return nil, errors.New("ui: SessionKey must be at least 32 bytes")
	}
	if cfg.Failures == nil {
		cfg.Failures = &web.FailureLimiter{}
	}
	if cfg.SessionTTL <= 0 {
		cfg.SessionTTL = 12 * time.Hour
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	p, err := parsePages()
	if err != nil {
		return nil, err
	}
	u := &UI{cfg: cfg, svc: cfg.Service, pages: p, cop: http.NewCrossOriginProtection(),
		httpsPublic: strings.HasPrefix(strings.ToLower(cfg.PublicURL), "https://")}
	u.cop.SetDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u.render(w, r, http.StatusForbidden, "error", &view{Title: "Forbidden", Data: http.StatusForbidden,
			Error: "This form was sent from another site, so it was refused. Open the page here and send it again."})
	}))
	return u, nil
}

// Register adds the UI's routes to mux. "/" is registered without a method:
// with one it would conflict with the API's "/v1/" pattern.
func (u *UI) Register(mux *http.ServeMux) {
	mux.Handle("/", u.wrap(http.HandlerFunc(u.root)))
	mux.Handle("GET /static/", u.wrap(staticHandler()))

	mux.Handle("GET /login", u.wrap(http.HandlerFunc(u.showLogin)))
	mux.Handle("POST /login", u.wrap(http.HandlerFunc(u.login)))
	mux.Handle("POST /logout", u.wrap(http.HandlerFunc(u.logout)))
	mux.Handle("GET /organization", u.wrap(u.signedIn(u.showOrganization)))
	mux.Handle("POST /organization", u.wrap(u.signedIn(u.chooseOrganization)))
	mux.Handle("GET /organizations/{org}", u.wrap(u.signedIn(u.showManage)))
	mux.Handle("POST /organizations/{org}/rename", u.wrap(u.signedIn(u.renameOrganization)))
	mux.Handle("POST /organizations/{org}/delete", u.wrap(u.signedIn(u.deleteOrganization)))

	mux.Handle("GET /webhooks", u.wrap(u.withOrg(u.showWebhook)))
	mux.Handle("GET /webhooks/edit", u.wrap(u.withOrg(u.editWebhook)))
	mux.Handle("POST /webhooks", u.wrap(u.withOrg(u.saveWebhook)))
	mux.Handle("POST /webhooks/secret/reveal", u.wrap(u.withOrg(u.revealSecret)))
	mux.Handle("POST /webhooks/secret/rotate", u.wrap(u.withOrg(u.rotateSecret)))
	mux.Handle("POST /webhooks/test", u.wrap(u.withOrg(u.sendTestEvent)))

	mux.Handle("GET /deliveries", u.wrap(u.withOrg(u.listDeliveries)))
	mux.Handle("GET /deliveries/retry", u.wrap(u.withOrg(u.confirmBulkRetry)))
	mux.Handle("POST /deliveries/retry", u.wrap(u.withOrg(u.bulkRetry)))
	mux.Handle("GET /deliveries/{id}", u.wrap(u.withOrg(u.showDelivery)))
	mux.Handle("POST /deliveries/{id}/retry", u.wrap(u.withOrg(u.retryDelivery)))
}

// root sends "/" to the webhook page and answers 404 for any path no
// other route claims.
func (u *UI) root(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != "/" {
		u.notFound(w, r, nil)
		return
	}
	http.Redirect(w, r, "/webhooks", http.StatusSeeOther)
}
