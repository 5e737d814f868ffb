package main

import (
	"errors"
	"fmt"
	"strings"
)

// takeDebugListen removes --debug-listen ADDR (or --debug-listen=ADDR) from args. The flag is
// not one of internal/config's settings: only builds that carry the debug listener
// (debug_listen.go) can open it, and production builds refuse it (debug_listen_off.go).
func takeDebugListen(args []string) (rest []string, addr string, err error) {
	for i := 0; i < len(args); i++ {
		name, value, hasValue := strings.Cut(args[i], "=")
		if name != "--debug-listen" && name != "-debug-listen" {
			rest = append(rest, args[i])
			continue
		}
		if !hasValue {
			if i+1 == len(args) {
				return nil, "", fmt.Errorf("%s needs an address, e.g. 127.0.0.1:6060", name)
			}
			i++
			value = args[i]
		}
		addr = value
	}
	return rest, addr, nil
}

// errNoDebugListener refuses --debug-listen, before anything starts, in a build without the
// listener.
var errNoDebugListener = errors.New("--debug-listen: this build has no debug listener (a production build, -tags nodev); " +
	"build with -tags nodev,debuglisten to profile it, or use go run ./cmd/web")
