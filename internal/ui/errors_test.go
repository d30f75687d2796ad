package ui_test

import (
	"context"
	"html"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/onetalk/onetalk-webhooks/internal/otw"
	"github.com/onetalk/onetalk-webhooks/internal/store"
)

// failingWebhook is a store whose GetWebhook answers err while it is set.
type failingWebhook struct {
	store.Store
	mu  sync.Mutex
	err error
}

func (s *failingWebhook) fail(err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.err = err
}

func (s *failingWebhook) GetWebhook(ctx context.Context, org int64) (otw.Webhook, error) {
	s.mu.Lock()
	err := s.err
	s.mu.Unlock()
	if err != nil {
		return otw.Webhook{}, err
	}
	return s.Store.GetWebhook(ctx, org)
}

// An error page has the API's status for the error's code: a conflict,
// too many requests, a refusal and a body too large are not the user's
// bad request (the UI once answered each of them 400).
func TestErrorPagesHaveTheAPIsStatuses(t *testing.T) {
	var st *failingWebhook
	e := newEnvOn(t, func(s store.Store) store.Store {
		st = &failingWebhook{Store: s}
		return st
	})
	b := e.browser()
	b.login(e.createOrg(1111, "Acme"))
	for code, want := range map[string]int{
		otw.ECONFLICT:  http.StatusConflict,
		otw.ETOOMANY:   http.StatusTooManyRequests,
		otw.EFORBIDDEN: http.StatusForbidden,
		otw.ETOOLARGE:  http.StatusRequestEntityTooLarge,
	} {
		msg := "the " + code + " of this test"
		st.fail(otw.Errorf(code, "%s", msg))
		p := b.get("/webhooks")
		if p.Status != want || !strings.Contains(html.UnescapeString(p.Body), msg) {
			t.Errorf("%s: %d, want %d with the error's message\n%s", code, p.Status, want, p.Body)
		}
	}
	st.fail(nil)
	if p := b.get("/webhooks"); p.Status != http.StatusOK {
		t.Errorf("once the store answers: %d", p.Status)
	}
}
