// Package e2e tests in a real browser what only a browser shows (htmx swaps, focus, the keyboard,
// pages without JavaScript, accessibility at phone and desktop widths), on the app as people run
// it: the `web` binary built from this module, started with --dev as a process of its own. Its
// tests need Chromium at /usr/bin/chromium and skip without it, unless PCS_REQUIRE_BROWSER=1.
package e2e
