package ui

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/onetalk/onetalk-webhooks/internal/otw"
)

// managePage is the admin's page of one organization: its name, its API
// keys (never a key itself) and the way to delete it.
type managePage struct {
	Organization otw.Organization
	Keys         []otw.APIKey
	// Errors holds the messages by field: name, confirm.
	Errors map[string]string
}

// manageTarget reads {org} of an admin's manage route: nil when the
// caller is no admin (redirected) or the organization is unknown (404).
func (u *UI) manageTarget(w http.ResponseWriter, r *http.Request, s session) *otw.Organization {
	if !s.Admin {
		http.Redirect(w, r, "/webhooks", http.StatusSeeOther)
		return nil
	}
	id, err := strconv.ParseInt(r.PathValue("org"), 10, 64)
	if err != nil {
		u.fail(w, r, &s, otw.Errorf(otw.ENOTFOUND, "no organization %q", r.PathValue("org")))
		return nil
	}
	o, err := u.svc.GetOrganization(r.Context(), id)
	if err != nil {
		u.fail(w, r, &s, err)
		return nil
	}
	return &o
}

func (u *UI) showManage(w http.ResponseWriter, r *http.Request, s session) {
	if o := u.manageTarget(w, r, s); o != nil {
		u.renderManage(w, r, s, *o, http.StatusOK, nil)
	}
}

func (u *UI) renderManage(w http.ResponseWriter, r *http.Request, s session, o otw.Organization, status int, errs map[string]string) {
	keys, err := u.svc.ListAPIKeys(r.Context(), o.ID)
	if err != nil {
		u.fail(w, r, &s, err)
		return
	}
	u.render(w, r, status, "organization_manage", &view{Title: o.Name, Session: &s, Notice: notice(r),
		Data: managePage{Organization: o, Keys: keys, Errors: errs}})
}

// renameOrganization saves a new name. The service holds it to the rule,
// 1 to 200 characters; the page words its refusal for the form.
func (u *UI) renameOrganization(w http.ResponseWriter, r *http.Request, s session) {
	o := u.manageTarget(w, r, s)
	if o == nil {
		return
	}
	_, err := u.svc.RenameOrganization(r.Context(), o.ID, r.PostFormValue("name"))
	if otw.ErrorCode(err) == otw.EINVALID {
		u.renderManage(w, r, s, *o, http.StatusUnprocessableEntity, map[string]string{"name": "A name has 1 to 200 characters."})
		return
	}
	if err != nil {
		u.fail(w, r, &s, err)
		return
	}
	http.Redirect(w, r, "/organizations/"+strconv.FormatInt(o.ID, 10)+"?notice=renamed", http.StatusSeeOther)
}

// deleteOrganization removes the organization and everything of it once
// the admin has typed its ID: a deletion cannot be undone, so a click
// alone is not enough.
func (u *UI) deleteOrganization(w http.ResponseWriter, r *http.Request, s session) {
	o := u.manageTarget(w, r, s)
	if o == nil {
		return
	}
	if strings.TrimSpace(r.PostFormValue("confirm")) != strconv.FormatInt(o.ID, 10) {
		u.renderManage(w, r, s, *o, http.StatusUnprocessableEntity,
			map[string]string{"confirm": "Type the organization's ID, " + strconv.FormatInt(o.ID, 10) + ", to delete it."})
		return
	}
	if err := u.svc.DeleteOrganization(r.Context(), o.ID); err != nil {
		u.fail(w, r, &s, err)
		return
	}
	if s.Org == o.ID {
		s.Org = 0 // it no longer exists to be open
		u.setSession(w, r, s)
	}
	http.Redirect(w, r, "/organization?notice=deleted", http.StatusSeeOther)
}
