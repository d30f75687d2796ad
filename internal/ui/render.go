package ui

import (
	"bytes"
	"context"
	"embed"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"strings"
	"time"

	"github.com/onetalk/onetalk-webhooks/internal/web"
)

//go:embed templates/*.html
var templateFiles embed.FS

// pages holds one template set per page, each its page file on top of
// layout.html.
type pages map[string]*template.Template

var funcs = template.FuncMap{
	"time": fmtTime,
	"timeptr": func(t *time.Time) string {
		if t == nil {
			return "—"
		}
		return fmtTime(*t)
	},
	"iso":  func(t time.Time) string { return t.UTC().Format(time.RFC3339) },
	"date": func(t time.Time) string { return t.UTC().Format("2006-01-02") },
	"code": func(c *int) string { return intOrDash(c) },
}

// fmtTime shows times in UTC, the zone of the API and of the logs, so a
// time on a page can be matched with them.
func fmtTime(t time.Time) string { return t.UTC().Format("2006-01-02 15:04:05") + " UTC" }

func intOrDash(c *int) string {
	if c == nil {
		return "—"
	}
	return fmt.Sprint(*c)
}

func parsePages() (pages, error) {
	names, err := fs.Glob(templateFiles, "templates/*.html")
	if err != nil {
		return nil, err
	}
	p := pages{}
	for _, name := range names {
		page := strings.TrimSuffix(strings.TrimPrefix(name, "templates/"), ".html")
		if page == "layout" {
			continue
		}
		t, err := template.New(page).Funcs(funcs).ParseFS(templateFiles, "templates/layout.html", name)
		if err != nil {
			return nil, fmt.Errorf("ui: template %s: %w", page, err)
		}
		if t.Lookup("content") == nil {
			return nil, fmt.Errorf("ui: template %s defines no content", page)
		}
		p[page] = t
	}
	return p, nil
}

// view is what every page gets: the layout's parts and the page's own Data.
type view struct {
	Title   string
	Nav     string // the current tab: "webhooks" or "deliveries"
	Session *session
	OrgName string
	Notice  string
	Error   string
	Data    any
}

// render writes the page with status. It renders into a buffer first, so a
// template failure becomes a clean 500 instead of half a page.
func (u *UI) render(w http.ResponseWriter, r *http.Request, status int, page string, v *view) {
	if v.Session != nil && v.Session.Org > 0 && v.OrgName == "" {
		v.OrgName = u.orgName(r.Context(), v.Session.Org)
	}
	var buf bytes.Buffer
	if err := u.pages[page].ExecuteTemplate(&buf, "layout", v); err != nil {
		u.cfg.Logger.ErrorContext(r.Context(), "rendering a page", "page", page, "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	// Pages show secrets and personal data: no cache keeps them.
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

// orgName is the name of the organization a page shows, for its header;
// "" when it cannot be read: the page is still worth showing without.
func (u *UI) orgName(ctx context.Context, org int64) string {
	o, err := u.svc.GetOrganization(ctx, org)
	if err != nil {
		return ""
	}
	return o.Name
}

// fail renders the error page for err: 404 for what does not exist (or
// belongs to another organization: the same answer, so nothing leaks),
// the message for a user's mistake, a generic page for our own.
func (u *UI) fail(w http.ResponseWriter, r *http.Request, s *session, err error) {
	status, msg := statusOf(err)
	if status >= 500 {
		u.cfg.Logger.ErrorContext(r.Context(), "ui request failed", "method", r.Method, "path", r.URL.Path, "err", err)
	}
	if status == http.StatusServiceUnavailable {
		w.Header().Set("Retry-After", web.RetryAfterUnavailable)
	}
	u.render(w, r, status, "error", &view{Title: http.StatusText(status), Session: s, Error: msg,
		Data: status})
}

func (u *UI) notFound(w http.ResponseWriter, r *http.Request, s *session) {
	u.render(w, r, http.StatusNotFound, "error", &view{Title: "Not found", Session: s,
		Error: "There is nothing at this address.", Data: http.StatusNotFound})
}
