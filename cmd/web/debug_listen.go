//go:build !nodev || debuglisten

package main

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"slices"
	"time"
)

const debugListenHelp = `  -debug-listen address
    	serve profiles of the running app on this loopback address, e.g. 127.0.0.1:0: CPU, heap and
    	allocations, goroutine stacks, blocking, mutexes and execution traces (net/http/pprof), never
    	the command line, which holds secrets; not in production builds (-tags nodev)
`

const debugListenerBuilt = true

// startDebugListener serves net/http/pprof on its own mux and listener, on loopback only, so
// profiles of the running app can be taken (go tool pprof http://ADDR/debug/pprof/profile).
func startDebugListener(addr string, log *slog.Logger) (bound string, stop func(), err error) {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return "", nil, fmt.Errorf("--debug-listen %q: %w", addr, err)
	}
	if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		return "", nil, fmt.Errorf("--debug-listen %q: profiles are served on loopback only (127.0.0.1, ::1 or localhost)", addr)
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return "", nil, fmt.Errorf("--debug-listen: %w", err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/{$}", debugIndex)
	for _, name := range debugProfiles {
		mux.Handle("/debug/pprof/"+name, pprof.Handler(name))
	}
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	// No /debug/pprof/cmdline: it prints every flag, client secret and session keys included, and
	// in Kubernetes loopback is shared by every container of the pod.
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second, ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelWarn)}
	go func() { _ = srv.Serve(ln) }()
	stop = func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
	}
	return ln.Addr().String(), stop, nil
}

// debugProfiles are the runtime's named profiles served by the debug listener.
var debugProfiles = []string{"allocs", "block", "goroutine", "heap", "mutex", "threadcreate"}

// debugIndex lists what the debug listener serves (pprof.Index would link the command line).
func debugIndex(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	fmt.Fprintln(w, "Profiles of the running app (go tool pprof http://ADDRESS/debug/pprof/NAME):")
	for _, name := range append(slices.Clone(debugProfiles), "profile?seconds=30", "trace?seconds=5", "symbol") {
		fmt.Fprintln(w, "  /debug/pprof/"+name)
	}
	fmt.Fprintln(w, "Add ?debug=1 to a named profile for text.")
}
