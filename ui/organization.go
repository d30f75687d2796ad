package ui

import (
	"net/http"
	"strconv"
	"strings"

	otw "github.com/onetalk/onetalk-webhooks"
)

// showOrganization asks an admin which organization to look at. The store
// lists none, and the platform knows its own organization IDs: the admin
// types one and it is checked.
func (u *UI) showOrganization(w http.ResponseWriter, r *http.Request, s session) {
	if !s.Admin {
		http.Redirect(w, r, "/webhooks", http.StatusSeeOther)
		return
	}
	u.render(w, r, http.StatusOK, "organization", &view{Title: "Choose an organization", Session: &s,
		Data: organizationForm{}})
}

type organizationForm struct {
	OrganizationID string
}

func (u *UI) chooseOrganization(w http.ResponseWriter, r *http.Request, s session) {
	if !s.Admin {
		http.Redirect(w, r, "/webhooks", http.StatusSeeOther)
		return
	}
	form := organizationForm{OrganizationID: strings.TrimSpace(r.PostFormValue("organizationID"))}
	id, err := strconv.ParseInt(form.OrganizationID, 10, 64)
	var msg string
	if err != nil || id <= 0 {
		msg = "Organization ID must be a positive integer, such as 1111."
	} else if _, err := u.cfg.Store.GetOrganization(r.Context(), id); otw.IsNotFound(err) {
		msg = "There is no organization " + form.OrganizationID + "."
	} else if err != nil {
		u.fail(w, r, &s, err)
		return
	}
	if msg != "" {
		u.render(w, r, http.StatusUnprocessableEntity, "organization", &view{Title: "Choose an organization",
			Session: &s, Error: msg, Data: form})
		return
	}
	s.Org = id
	u.setSession(w, r, s)
	http.Redirect(w, r, "/webhooks", http.StatusSeeOther)
}
