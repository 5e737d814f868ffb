//go:build nodev && !debuglisten

package main

import (
	"errors"
	"log/slog"
)

// Production builds carry no profiling endpoint at all (build with -tags nodev,debuglisten to
// profile the production code).
const debugListenHelp = ""

func startDebugListener(string, *slog.Logger) (string, func(), error) {
	return "", nil, errors.New("--debug-listen: this build has no debug listener (a production build, -tags nodev); " +
		"build with -tags nodev,debuglisten to profile it, or use go run ./cmd/web")
}
