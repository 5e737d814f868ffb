package main

import (
	"errors"
	"net/http"

	"pcsupport/internal/auth"
	"pcsupport/internal/handlers"
	"pcsupport/internal/metrics"
)

// countedSignIns counts finished sign-ins by outcome; everything else goes straight through.
type countedSignIns struct {
	handlers.SignIn
	m *metrics.Metrics
}

func (s countedSignIns) FinishSignIn(w http.ResponseWriter, r *http.Request) (string, error) {
	to, err := s.SignIn.FinishSignIn(w, r)
	var pe *auth.ProviderError
	switch {
	case err == nil:
		s.m.SignIn(metrics.SignInSucceeded)
	case errors.As(err, &pe):
		s.m.SignIn(metrics.SignInRefused)
	case errors.Is(err, auth.ErrSignInState):
		s.m.SignIn(metrics.SignInExpired)
	default:
		s.m.SignIn(metrics.SignInFailed)
	}
	return to, err
}
