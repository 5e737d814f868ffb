//go:build !nodev

package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"pcsupport/internal/clientauth"
	"pcsupport/internal/config"
	"pcsupport/internal/devidp"
)

// devWorkloadTokenLifetime is the life of each token the stand-in Kubernetes issuer writes; it
// is rewritten long before, as the kubelet does.
const devWorkloadTokenLifetime = 10 * time.Minute

// devClient registers the app with the dev provider as --dev-client-auth says, and returns the
// credential the app then uses: a certificate made now, or a federated token that a stand-in for
// the Kubernetes token issuer writes to a file and rotates until stop is called; for a secret,
// credential is nil and the stand-ins make the secret, which the provider takes only the way
// --client-auth-method forces (client_secret_basic unless it forces post).
func devClient(cfg *config.Config, log *slog.Logger) (client devidp.Client, credential clientauth.Credential, stop func(), err error) {
	client = devidp.Client{ID: devClientID, RedirectURIs: []string{cfg.RedirectURL()}, PostLogoutRedirectURIs: []string{cfg.SignedOutURL()}}
	stop = func() {}
	switch cfg.DevClientAuth {
	case "certificate":
		cert, key, err := clientauth.SelfSigned("pcsupport development", 24*time.Hour)
		if err != nil {
			return client, nil, stop, err
		}
		client.Certificate = cert
		credential, err = clientauth.NewCertificate(devClientID, cert, key)
		return client, credential, stop, err
	case "federated":
		issuer, err := devidp.NewWorkloadIssuer("https://kubernetes.dev.invalid", "system:serviceaccount:pcsupport:web", "api://AzureADTokenExchange")
		if err != nil {
			return client, nil, stop, err
		}
		client.Federated = issuer.Credential()
		file, stop, err := rotateWorkloadTokens(issuer, devRotationInterval(cfg.DevTokenLifetime), log)
		if err != nil {
			return client, nil, stop, err
		}
		credential, err = clientauth.NewFederatedToken(devClientID, file)
		return client, credential, stop, err
	default: // a secret: the stand-ins make one (credential nil)
		if cfg.ClientAuthMethod == clientauth.SecretBasic || cfg.ClientAuthMethod == clientauth.SecretPost {
			client.SecretMethod = cfg.ClientAuthMethod
		}
		return client, nil, stop, nil
	}
}

// devRotationInterval rotates the federated token at least once per access-token lifetime, so
// that refreshes meet rotated files.
func devRotationInterval(tokenLifetime time.Duration) time.Duration {
	return min(max(tokenLifetime/2, time.Second), 5*time.Minute)
}

// rotateWorkloadTokens writes a token to a new temporary file now and again every interval,
// until stop, which also removes the file.
func rotateWorkloadTokens(issuer *devidp.WorkloadIssuer, interval time.Duration, log *slog.Logger) (string, func(), error) {
	dir, err := os.MkdirTemp("", "pcsupport-dev-token-")
	if err != nil {
		return "", func() {}, fmt.Errorf("federated token directory: %w", err)
	}
	file := filepath.Join(dir, "azure-identity-token")
	if err := issuer.WriteToken(file, devWorkloadTokenLifetime); err != nil {
		os.RemoveAll(dir)
		return "", func() {}, fmt.Errorf("federated token: %w", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		tick := time.NewTicker(interval)
		defer tick.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
				if err := issuer.WriteToken(file, devWorkloadTokenLifetime); err != nil {
					log.Warn("dev federated token not rotated", "err", err)
				}
			}
		}
	}()
	return file, func() { cancel(); <-done; os.RemoveAll(dir) }, nil
}
