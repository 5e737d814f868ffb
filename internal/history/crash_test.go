package history

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"pcsupport/internal/support"
)

// crashWriterEnv, set to a store spec, makes the test binary a writer that saves until killed.
const crashWriterEnv = "PCS_HISTORY_CRASH_WRITER"

var crashTenants = []string{"crash-shared", "crash-own"}

// runCrashWriter saves without end from three goroutines (two on one tenant), printing each save
// once it is confirmed. Every save is two entries in one transaction (the outside change its GET
// read, then the save), so a half-written save would show as an odd entry.
func runCrashWriter(spec string) int {
	ctx := context.Background()
	s, err := openSpec(ctx, spec)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	var out sync.Mutex
	for g := range 3 {
		go func() {
			tenant := crashTenants[g%2]
			for n := 0; ; n++ {
				tag := fmt.Sprintf("%d.%d.%d", os.Getpid(), g, n)
				if err := s.RecordSave(ctx, save(tenant, "read"+tag, "saved"+tag, time.Now())); err != nil {
					fmt.Fprintln(os.Stderr, err)
					os.Exit(3)
				}
				out.Lock()
				fmt.Printf("%s %s\n", tenant, tag)
				out.Unlock()
			}
		}()
	}
	select {}
}

// crashContract kills (SIGKILL) two writer processes in turn while they write, a replica dying
// mid-transaction with its connections cut, then checks that every confirmed save is there,
// whole, in an unbroken chain, and that writing goes on.
func crashContract(t *testing.T, spec string) {
	confirmed := map[string][]string{}
	for range 2 {
		for tenant, tags := range killWriterMidWrites(t, spec) {
			confirmed[tenant] = append(confirmed[tenant], tags...)
		}
	}
	s := open(t, spec)
	for _, tenant := range crashTenants {
		es := all(t, s, tenant)
		checkChain(t, es)
		if len(es)%2 != 0 {
			t.Errorf("%s: %d entries, an odd number: a save was half written", tenant, len(es))
		}
		saved := map[support.Contact]bool{}
		for i := 0; i+1 < len(es); i += 2 {
			if es[i].Kind == KindSaved || es[i+1].Kind != KindSaved {
				t.Errorf("%s: entries %d, %d are %s, %s; want each save after the change its GET read", tenant, i, i+1, es[i].Kind, es[i+1].Kind)
			}
			saved[es[i+1].After] = true
		}
		for _, tag := range confirmed[tenant] {
			if !saved[contacts("saved"+tag)] {
				t.Errorf("%s: confirmed save %s is missing", tenant, tag)
			}
		}
		mustObserve(t, s, tenant, contacts("after the crash"), time.Now())
		mustRecordSave(t, s, save(tenant, "after the crash", "saved after the crash", time.Now()))
		checkChain(t, all(t, s, tenant))
	}
	if len(confirmed[crashTenants[0]]) == 0 || len(confirmed[crashTenants[1]]) == 0 {
		t.Errorf("confirmed saves per tenant: %d, %d; the writers did not write", len(confirmed[crashTenants[0]]), len(confirmed[crashTenants[1]]))
	}
}

// killWriterMidWrites runs a writer, kills it once it has confirmed saves on both tenants, and returns the
// saves it confirmed, by tenant.
func killWriterMidWrites(t *testing.T, spec string) map[string][]string {
	t.Helper()
	cmd := exec.Command(os.Args[0])
	cmd.Env = append(os.Environ(), crashWriterEnv+"="+spec)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	late := time.AfterFunc(20*time.Second, func() { _ = cmd.Process.Kill() })
	defer late.Stop()
	confirmed := map[string][]string{}
	lines, killed := bufio.NewScanner(stdout), false
	for lines.Scan() {
		tenant, tag, _ := strings.Cut(lines.Text(), " ")
		confirmed[tenant] = append(confirmed[tenant], tag)
		if !killed && len(confirmed[crashTenants[0]]) >= 20 && len(confirmed[crashTenants[1]]) >= 10 {
			killed = true
			_ = cmd.Process.Kill()
		}
	}
	err = cmd.Wait()
	if !killed {
		t.Fatalf("the writer stopped after %d + %d saves (%v): %s", len(confirmed[crashTenants[0]]), len(confirmed[crashTenants[1]]), err, stderr.String())
	}
	return confirmed
}
