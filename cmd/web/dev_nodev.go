//go:build nodev

package main

import (
	"io"
	"log/slog"

	"pcsupport/internal/config"
)

// The production build (-tags nodev) carries no development stand-ins: no emulator or
// development sign-in provider code ships, and --dev is refused at once (errNoDevStandIns).
const devStandInsBuilt = false

type devStandIns struct{}

func startDevStandIns(*config.Config, *slog.Logger) (*devStandIns, error) {
	return nil, errNoDevStandIns
}

func (*devStandIns) close()                   {}
func (*devStandIns) toolsURL() string         { return "" }
func (*devStandIns) notificationsURL() string { return "" }
func (*devStandIns) announce(io.Writer)       {}
