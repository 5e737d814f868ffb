//go:build nodev && !debuglisten

package main

import "log/slog"

// Production builds carry no profiling endpoint at all (build with -tags nodev,debuglisten to
// profile the production code).
const debugListenHelp = ""

const debugListenerBuilt = false

func startDebugListener(string, *slog.Logger) (string, func(), error) {
	return "", nil, errNoDebugListener
}
