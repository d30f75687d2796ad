package ui

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/onetalk/onetalk-webhooks/internal/otw"
	"github.com/onetalk/onetalk-webhooks/internal/service"
)

// organizationPage is the admin's list of organizations to open, a page
// at a time, in ID order.
type organizationPage struct {
	Organizations []otw.Organization
	Current       int64 // the organization open now, 0 for none
	// Next and Previous are the paging links ("" when there is no such
	// page).
	Next, Previous string
}

// showOrganization lists the organizations for an admin to pick one.
// The query is read as GET /v1/organizations reads it
// (service.ParsePageParams: limit, cursor).
func (u *UI) showOrganization(w http.ResponseWriter, r *http.Request, s session) {
	if !s.Admin {
		http.Redirect(w, r, "/webhooks", http.StatusSeeOther)
		return
	}
	u.renderOrganizations(w, r, s, http.StatusOK, "")
}

func (u *UI) renderOrganizations(w http.ResponseWriter, r *http.Request, s session, status int, msg string) {
	params, err := service.ParsePageParams(r.URL.Query())
	if err != nil {
		u.fail(w, r, &s, err)
		return
	}
	list, next, err := u.svc.ListOrganizations(r.Context(), params)
	if err != nil {
		u.fail(w, r, &s, err)
		return
	}
	p := organizationPage{Organizations: list, Current: s.Org}
	p.Next, p.Previous = pageLinks("/organization", r.URL.Query(), []string{"limit"}, params.Cursor, next)
	u.render(w, r, status, "organization", &view{Title: "Choose an organization", Session: &s, Notice: notice(r), Error: msg, Data: p})
}

// chooseOrganization opens the organization whose button was pressed. The
// ID is checked, as any input is: a stale page may name one that no
// longer exists.
func (u *UI) chooseOrganization(w http.ResponseWriter, r *http.Request, s session) {
	if !s.Admin {
		http.Redirect(w, r, "/webhooks", http.StatusSeeOther)
		return
	}
	raw := strings.TrimSpace(r.PostFormValue("organizationID"))
	id, err := strconv.ParseInt(raw, 10, 64)
	if err != nil || id <= 0 {
		u.renderOrganizations(w, r, s, http.StatusUnprocessableEntity, "Choose an organization from the list.")
		return
	}
	_, err = u.svc.GetOrganization(r.Context(), id)
	if otw.IsNotFound(err) {
		u.renderOrganizations(w, r, s, http.StatusUnprocessableEntity, "There is no organization "+raw+".")
		return
	}
	if err != nil {
		u.fail(w, r, &s, err)
		return
	}
	s.Org = id
	u.setSession(w, r, s)
	http.Redirect(w, r, "/webhooks", http.StatusSeeOther)
}
