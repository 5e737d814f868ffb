package main

import (
	"fmt"
	"time"

	"pcsupport/cmd/bench/internal/floor"
	"pcsupport/internal/devidp"
	"pcsupport/internal/devstack"
)

const (
	appClientID   = "pcsupport-bench"
	proxyClientID = "bench-proxy"
	// proxyRedirect is never served: the proxy's sign-in stops at the redirect and reads the code.
	proxyRedirect = "http://127.0.0.1:9/bench-proxy/callback"
	pcScope       = "https://api.partnercenter.microsoft.com/user_impersonation"
)

// startStandIns starts the dev provider, with the app and the proxy registered, and the
// emulator, in this process: their counters are read directly.
func startStandIns(appRedirect string, tokenLifetime time.Duration, personas []devidp.Persona) (*devstack.Stack, error) {
	return devstack.Start(devstack.Options{
		Clients: []devstack.Client{
			{ID: appClientID, RedirectURIs: []string{appRedirect}},
			{ID: proxyClientID, RedirectURIs: []string{proxyRedirect}},
		},
		AccessTokenLifetime: tokenLifetime,
		Personas:            personas,
	})
}

// proxyRegistration is how the proxy signs in.
func proxyRegistration(s *devstack.Stack) floor.Registration {
	return floor.Registration{ProviderURL: s.ProviderURL, ClientID: proxyClientID, Secret: s.Secret(proxyClientID),
		Redirect: proxyRedirect, Scope: pcScope}
}

// ownTenantPersonas are the dev personas and n admins with MFA, each in a partner tenant of
// their own, for the save scenario without a shared tenant.
func ownTenantPersonas(n int) []devidp.Persona {
	ps := devidp.Personas()
	for i := range n {
		ps = append(ps, devidp.Persona{
			Key:      ownPersona(i),
			ObjectID: fmt.Sprintf("00000000-0000-4000-8000-%012d", i),
			Name:     fmt.Sprintf("Owen Own %03d", i),
			UPN:      fmt.Sprintf("owen%03d@partner%03d.example", i, i),
			TenantID: fmt.Sprintf("00000000-0000-4000-9000-%012d", i),
			MFA:      true,
			Role:     "AccountAdmin",
		})
	}
	return ps
}

func ownPersona(i int) string { return fmt.Sprintf("own%03d", i) }

// auditorPersonas are heldDownloads people of the dev partner with MFA, each downloading its
// history in the save-exports comparison (the app allows one download per person).
func auditorPersonas() []devidp.Persona {
	var ps []devidp.Persona
	for i := range heldDownloads {
		ps = append(ps, devidp.Persona{
			Key:      auditorPersona(i),
			ObjectID: fmt.Sprintf("00000000-0000-4000-a000-%012d", i),
			Name:     fmt.Sprintf("Audrey Auditor %d", i),
			UPN:      fmt.Sprintf("audrey%d@contoso-partner.example", i),
			TenantID: devidp.TenantID,
			MFA:      true,
			Role:     "AccountAdmin",
		})
	}
	return ps
}

func auditorPersona(i int) string { return fmt.Sprintf("auditor%d", i) }
