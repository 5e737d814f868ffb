package main

import (
	"context"
	"crypto/sha512"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"sync/atomic"
	"syscall"
	"time"

	"pcsupport/cmd/bench/internal/load"
	"pcsupport/cmd/bench/internal/proc"
	"pcsupport/internal/devidp"
	"pcsupport/internal/history"
	"pcsupport/internal/support"
)

// Saves while downloads of the change history are held open by slow readers (issue 19). An
// export used to hold one of the history's database connections for as long as its reader
// took: with four such downloads open, a save waited for a connection, for seconds or for ever.
// The same app measures saves with no download under way (quiet) and with heldDownloads
// downloads of a long history read slowly (held), in rounds that alternate which goes first.
const (
	downloadsQuiet = "quiet"
	downloadsHeld  = "held"
	// heldDownloads is how many downloads are held open: the app's limit in all, each by a
	// person of their own (the limit per person is one).
	heldDownloads = 4
	// downloadedEntries is the length of the history downloaded, with long values of little
	// redundancy: about 8.8 MB of CSV. The kernel buffers some of a download whatever its
	// reader does (the app's send buffer grows to 4 MB on loopback here); the rest waits in
	// the app, on its reader.
	downloadedEntries = 8000
	// A slow reader takes slowReadChunk every slowReadEvery (64 KB/s) through a receive buffer
	// of slowReadBuffer (fixed: the kernel would grow it to megabytes), asking for the file
	// without gzip, as a script or a download tool does.
	slowReadChunk  = 16 << 10
	slowReadEvery  = 250 * time.Millisecond
	slowReadBuffer = 64 << 10
	// downloadsSettle is how long the downloads run before the warm-up: each begins by reading
	// a page and writing it until the connection's buffers are full, a burst of a few
	// milliseconds; what is measured is their being held open.
	downloadsSettle = time.Second
	// historyDB is the app's SQLite file in --data-dir (history.File).
	historyDB = "history.db"
)

// downloadsResult is every window of the comparison.
type downloadsResult struct{ samples []downloadsSample }

// downloadsSample is one window: saves at a session count, with downloads held open or not.
type downloadsSample struct {
	variant     string
	conc, round int
	res         load.Result
	cpuTicks    int64   // the app's CPU time over the warm-up and the window
	taken       []int64 // what each held download's reader took, from its start to the window's end
}

func (s downloadsSample) cpuPerSave() time.Duration {
	if s.res.Requests == 0 {
		return 0
	}
	return proc.TicksToDuration(s.cpuTicks) / time.Duration(s.res.Requests)
}

func (s downloadsSample) rate() float64 { return s.res.Throughput() }

func (s downloadsSample) percentile(p float64) float64 {
	return float64(load.Percentile(s.res.Latencies, p))
}

// downloadsPhase gives the dev partner a long history, starts the app again on the load's port,
// data directory and session keys (the sessions with a tenant each stay signed in), signs in the
// auditors who download, and measures saves with and without their downloads, round by round.
func (b *bench) downloadsPhase(ctx context.Context) (*downloadsResult, error) {
	c := b.appCfg
	c.logFile, c.debugPort, c.databaseURL = "", 0, ""
	b.logf("save-exports: %d entries of history to download", downloadedEntries)
	if err := fillDownloadedHistory(ctx, filepath.Join(c.dataDir, historyDB)); err != nil {
		return nil, err
	}
	app, _, err := startApp(b.env.appBin, b.stack, c, b.opts.appEnv)
	if err != nil {
		return nil, err
	}
	defer app.stop()
	b.transport.CloseIdleConnections() // they were to the app stopped before
	auditors := make([]*session, heldDownloads)
	tr := newTransport(heldDownloads)
	for i := range auditors {
		if auditors[i], err = signIn(ctx, -1, app.url, auditorPersona(i), tr); err != nil {
			return nil, fmt.Errorf("sign in %s: %w", auditorPersona(i), err)
		}
	}
	r := &downloadsResult{}
	conc := nearestLevel(b.opts.levels, targetSessions)
	for round := range b.opts.historyRounds {
		variants := []string{downloadsQuiet, downloadsHeld}
		if round%2 == 1 {
			variants[0], variants[1] = variants[1], variants[0]
		}
		for _, v := range variants {
			s := downloadsSample{variant: v, conc: conc, round: round}
			if err := b.downloadsSample(ctx, app, auditors, &s); err != nil {
				return nil, fmt.Errorf("saves with downloads %s, round %d: %w\napp log:\n%s", v, round+1, err, app.Logs)
			}
			r.samples = append(r.samples, s)
		}
	}
	return r, nil
}

// downloadsSample measures one window of saves, each session opening the page first; with the
// downloads held, each auditor's download is under way, read slowly, from before the warm-up
// to the window's end.
func (b *bench) downloadsSample(ctx context.Context, app *appProcess, auditors []*session, s *downloadsSample) error {
	savers := b.own[:s.conc]
	if err := forEach(savers, 8, func(x *session) error { return x.reload(ctx) }); err != nil {
		return err
	}
	var held []*slowDownload
	defer func() {
		for _, d := range held {
			d.stop()
		}
	}()
	if s.variant == downloadsHeld {
		for _, a := range auditors {
			d, err := startSlowDownload(ctx, a, app.url+"history.csv")
			if err != nil {
				return err
			}
			held = append(held, d)
		}
		select {
		case <-time.After(downloadsSettle):
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	spec := load.Spec{Workers: s.conc, Warmup: b.opts.warmup, Measure: b.opts.historyWindow, MaxRequests: b.opts.maxRequests, Drain: time.Minute}
	cpu0, err := proc.CPUTicks(app.PID())
	if err != nil {
		return err
	}
	s.res = load.Run(ctx, spec, func(ctx context.Context, w int) (int, error) { return savers[w].save(ctx) })
	cpu1, err := proc.CPUTicks(app.PID())
	if err != nil {
		return err
	}
	s.cpuTicks = cpu1 - cpu0
	var stillOpen []error
	for _, d := range held {
		s.taken = append(s.taken, d.taken.Load())
		stillOpen = append(stillOpen, d.stop())
	}
	b.logf("save-exports downloads %-5s %3d sessions: %s, app CPU %s per save; downloads' readers took %v bytes",
		s.variant, s.conc, s.res, us0(s.cpuPerSave()), s.taken)
	if err := errors.Join(stillOpen...); err != nil {
		return fmt.Errorf("a download was not held open through the window: %w", err)
	}
	return s.valid()
}

// valid says whether the window measured what the comparison claims: every save saved.
func (s downloadsSample) valid() error {
	saved := s.res.Outcomes[outcomeSaved]
	switch {
	case s.res.Errors > 0:
		return fmt.Errorf("%d errors (first: %s)", s.res.Errors, s.res.ErrorMsgs[0])
	case saved != s.res.Requests:
		return fmt.Errorf("%d of %d saves saved (conflicts or nothing to save: a tenant per session should have none)", saved, s.res.Requests)
	}
	return nil
}

// slowDownload is a download of the history by a reader on a slow link.
type slowDownload struct {
	cancel context.CancelFunc
	taken  atomic.Int64
	ended  chan error // how the body ended (nil: the whole file), when it ended before stop
}

// startSlowDownload asks for u as s's person, on a connection of its own with a small receive
// buffer, and reads the answer slowly until stopped.
func startSlowDownload(ctx context.Context, s *session, u string) (*slowDownload, error) {
	ctx, cancel := context.WithCancel(ctx)
	dialer := &net.Dialer{Control: func(_, _ string, c syscall.RawConn) error {
		var err error
		if cerr := c.Control(func(fd uintptr) {
			err = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, slowReadBuffer)
		}); cerr != nil {
			return cerr
		}
		return err
	}}
	client := &http.Client{Jar: s.client.Jar,
		Transport:     &http.Transport{DialContext: dialer.DialContext, DisableKeepAlives: true, DisableCompression: true},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	resp, err := client.Do(req)
	if err != nil {
		cancel()
		return nil, fmt.Errorf("download: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		body, _ := readBody(resp)
		cancel()
		return nil, fmt.Errorf("download: %d: %.300s", resp.StatusCode, body)
	}
	d := &slowDownload{cancel: cancel, ended: make(chan error, 1)}
	go func() {
		defer resp.Body.Close()
		tick := time.NewTicker(slowReadEvery)
		defer tick.Stop()
		for {
			n, err := io.CopyN(io.Discard, resp.Body, slowReadChunk)
			d.taken.Add(n)
			if err != nil {
				if errors.Is(err, io.EOF) {
					err = nil
				}
				d.ended <- err
				return
			}
			select {
			case <-tick.C:
			case <-ctx.Done():
				return
			}
		}
	}()
	return d, nil
}

// stop ends the download and says whether it was still under way until then, as the
// comparison needs.
func (d *slowDownload) stop() error {
	defer d.cancel()
	select {
	case err := <-d.ended:
		if err == nil {
			return errors.New("the whole file came: the download did not last the window")
		}
		return fmt.Errorf("the download was cut after %d bytes: %w", d.taken.Load(), err)
	default:
		return nil
	}
}

// fillDownloadedHistory gives the dev partner downloadedEntries entries, each a change made
// elsewhere with values of the longest the form allows, through the history store the app will
// open (the app is not running).
func fillDownloadedHistory(ctx context.Context, path string) error {
	store, err := history.OpenSQLite(ctx, path)
	if err != nil {
		return err
	}
	// From now on: a change noticed before the entries already recorded (the sign-ins' first
	// look at the partner) would be a read older than them, which the store ignores.
	at := time.Now()
	for i := range downloadedEntries {
		var raw []byte
		for j := range 3 {
			sum := sha512.Sum512([]byte(fmt.Sprint(i, j)))
			raw = append(raw, sum[:]...)
		}
		noise := base64.RawURLEncoding.EncodeToString(raw) // 256 characters that gzip little
		c := support.Contact{
			Email:     noise[:230] + "@contoso-partner.example",
			Telephone: fmt.Sprintf("+33 1 23 %02d %02d %02d", i/10000%100, i/100%100, i%100),
			Website:   "https://contoso-partner.example/" + noise[:220],
		}
		if err := store.Observe(ctx, devidp.TenantID, c, at.Add(time.Duration(i)*time.Millisecond)); err != nil {
			_ = store.Close()
			return fmt.Errorf("fill the history to download: %w", err)
		}
	}
	return store.Close()
}
