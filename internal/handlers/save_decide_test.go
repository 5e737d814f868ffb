package handlers

import (
	"context"
	"errors"
	"log/slog"
	"testing"

	"golang.org/x/oauth2"

	"pcsupport/internal/auth"
	"pcsupport/internal/support"
)

// staticCredentials are a token that never needs renewing.
type staticCredentials struct{}

func (staticCredentials) Token() (*oauth2.Token, error) { return &oauth2.Token{AccessToken: "t"}, nil }
func (staticCredentials) Renew(string) error            { return errors.New("no renewal in this test") }

// The save is decided from a context, the signed-in person and the values alone: no request, no
// response, no web framework. What it decided is the result; nothing has been answered yet.
func TestSaveIsDecidedWithoutTheWebFramework(t *testing.T) {
	tb := newTestbed(t)
	loaded := tb.pc.current().Contact
	typed := loaded.With(support.Telephone, "+1 425 555 0199")
	in := saveRequest{ctx: context.Background(), user: signedInAda,
		form:     profileForm{typed: typed, loaded: loaded, loadedOK: true, submission: newSubmissionID()},
		upstream: upstreamCalls{ctx: context.Background(), profiles: tb.pc, creds: staticCredentials{}, locale: "en-US"},
		log:      slog.New(slog.DiscardHandler), audit: slog.New(slog.DiscardHandler)}

	res := tb.h.save(in)
	if res.outcome != outcomeSaved || res.stored == nil || *res.stored != typed || *res.current != loaded {
		t.Fatalf("save: %s, stored %v, current %v", res.outcome, res.stored, res.current)
	}
	if res.requestID != in.form.submission || res.correlationID == "" {
		t.Errorf("ids: request %q (want the form's submission), correlation %q", res.requestID, res.correlationID)
	}

	// A session that ended before the form came back is decided the same way: a sign-in to redo,
	// classified once in the result.
	in.userErr, in.user = auth.ErrNotSignedIn, auth.User{}
	res = tb.h.save(in)
	if res.outcome != outcomeSignInRequired || !res.failure.signIn || res.status() != 401 {
		t.Errorf("ended session: %s, failure %+v, status %d", res.outcome, res.failure, res.status())
	}
}
