package main

import (
	"bytes"
	"context"
	"debug/buildinfo"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"testing"
	"time"
)

// No Docker engine runs here, so scripts/build-binary (run by CI) builds the binary with the
// Dockerfile's command; this test keeps the two commands identical, so they cannot drift apart.
func TestDockerfileBuildsLikeTheScript(t *testing.T) {
	t.Parallel()
	docker := dockerfileInstructions(t)
	var builds []string
	for _, in := range docker {
		if in.op == "RUN" && strings.Contains(in.args, "go build") {
			builds = append(builds, in.args)
		}
	}
	if len(builds) != 1 {
		t.Fatalf("want one RUN with go build in the Dockerfile, found %q", builds)
	}
	script, err := os.ReadFile("../../scripts/build-binary")
	if err != nil {
		t.Fatal(err)
	}
	var scripted []string
	for _, line := range strings.Split(string(script), "\n") {
		if strings.Contains(line, "go build") && !strings.HasPrefix(strings.TrimSpace(line), "#") {
			scripted = append(scripted, strings.TrimSpace(line))
		}
	}
	if len(scripted) != 1 || scripted[0] != builds[0] {
		t.Errorf("scripts/build-binary runs %q; the Dockerfile runs %q", scripted, builds[0])
	}
	for _, flag := range []string{"CGO_ENABLED=0 ", "-trimpath", "-tags nodev ", "./cmd/web"} {
		if !strings.Contains(builds[0], flag) {
			t.Errorf("the build command lacks %s: %s", flag, builds[0])
		}
	}
	if info, err := os.Stat("../../scripts/build-binary"); err != nil || info.Mode()&0o111 == 0 {
		t.Errorf("scripts/build-binary is not executable")
	}
	// Nothing in the build stage may change what the command does behind its back.
	for _, in := range docker {
		if in.op == "FROM" && !strings.Contains(in.args, " AS build") {
			break
		}
		if in.op == "ENV" || in.op == "ARG" {
			t.Errorf("the build stage sets %s %s, which the script does not", in.op, in.args)
		}
	}
}

// The image: pinned bases, distroless static non-root, the data volume, the port the app
// listens on, and a HEALTHCHECK through the binary itself (there is no shell to run curl).
func TestDockerfileImage(t *testing.T) {
	t.Parallel()
	docker := dockerfileInstructions(t)
	var froms []string
	last := map[string]string{}
	for _, in := range docker {
		if in.op == "FROM" {
			froms = append(froms, in.args)
			clear(last)
		}
		last[in.op] = in.args
		if in.op == "ENV" {
			last["ENV "+in.args] = ""
		}
	}
	pinned := regexp.MustCompile(`^\S+:[0-9a-z.\-]+(@sha256:[0-9a-f]{64})?( AS \w+)?$`)
	for _, f := range froms {
		if !pinned.MatchString(f) || strings.Contains(f, ":latest") {
			t.Errorf("base image %q is not pinned to a tag", f)
		}
	}
	if len(froms) < 2 || !strings.HasPrefix(froms[len(froms)-1], "gcr.io/distroless/static-") || !strings.Contains(froms[len(froms)-1], ":nonroot") {
		t.Errorf("the final image is not distroless static non-root: %q", froms)
	}
	want := map[string]string{
		"USER":        "65532:65532",
		"VOLUME":      `["/data"]`,
		"EXPOSE":      "8080",
		"HEALTHCHECK": `--interval=30s --timeout=5s --start-period=10s --retries=3 CMD ["/web", "healthcheck"]`,
		"ENTRYPOINT":  `["/web"]`,
	}
	for op, args := range want {
		if last[op] != args {
			t.Errorf("final stage %s = %q, want %q", op, last[op], args)
		}
	}
	if _, ok := last["ENV PCS_LISTEN=:8080 PCS_DATA_DIR=/data"]; !ok {
		t.Errorf("final stage does not set PCS_LISTEN=:8080 and PCS_DATA_DIR=/data to match EXPOSE and VOLUME")
	}
	ignore, err := os.ReadFile("../../.dockerignore")
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{".git", "node_modules", "data", "bin"} {
		if !regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(p) + `$`).Match(ignore) {
			t.Errorf(".dockerignore does not exclude %s", p)
		}
	}
}

type dockerInstruction struct{ op, args string }

// dockerfileInstructions reads the Dockerfile: continuation lines joined, comments dropped.
func dockerfileInstructions(t *testing.T) []dockerInstruction {
	t.Helper()
	b, err := os.ReadFile("../../Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	var out []dockerInstruction
	var cur strings.Builder
	for _, line := range strings.Split(string(b), "\n") {
		trimmed := strings.TrimSpace(line)
		if strings.HasPrefix(trimmed, "#") || (trimmed == "" && cur.Len() == 0) {
			continue
		}
		if strings.HasSuffix(trimmed, `\`) {
			cur.WriteString(strings.TrimSuffix(trimmed, `\`) + " ")
			continue
		}
		cur.WriteString(trimmed)
		op, args, _ := strings.Cut(strings.Join(strings.Fields(cur.String()), " "), " ")
		out = append(out, dockerInstruction{strings.ToUpper(op), args})
		cur.Reset()
	}
	return out
}

// The binary the image ships, built with the script's very command, holds no development
// stand-in and no profiling listener: none of their code (function names stay in a stripped Go
// binary, for tracebacks) and none of their modules; and it refuses --dev at once, saying why.
func TestProductionBuildHasNoDevStandIns(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("builds the production binary")
	}
	bin := buildAsTheScriptDoes(t)
	info, err := buildinfo.ReadFile(bin)
	if err != nil {
		t.Fatal(err)
	}
	for _, dep := range info.Deps {
		if strings.HasPrefix(dep.Path, "github.com/zitadel/") {
			t.Errorf("the production binary links module %s", dep.Path)
		}
	}
	code, err := os.ReadFile(bin)
	if err != nil {
		t.Fatal(err)
	}
	self, err := os.ReadFile(os.Args[0]) // this test binary, built with the stand-ins: the names do show
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"pcsupport/internal/devidp.", "pcsupport/internal/pcemu.", "pcsupport/internal/devstack.",
		"github.com/zitadel/oidc/v3/pkg/op.", "net/http/pprof."} {
		if !bytes.Contains(self, []byte(name)) {
			t.Errorf("the test binary has no %q: the search finds nothing", name)
		}
		if bytes.Contains(code, []byte(name)) {
			t.Errorf("the production binary holds code of %s", strings.TrimSuffix(name, "."))
		}
	}

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	start := time.Now()
	out, err := exec.CommandContext(ctx, bin, "--dev").CombinedOutput()
	if err == nil || !strings.Contains(string(out), "this build has no development stand-ins") || time.Since(start) > 5*time.Second {
		t.Errorf("web --dev in the production build: %v after %s:\n%s", err, time.Since(start), out)
	}
	out, err = exec.CommandContext(ctx, bin, "--debug-listen", "127.0.0.1:0", "--oidc-issuer", "http://127.0.0.1:9",
		"--client-id", "x", "--client-secret", "y", "--session-keys", sessionKeys(), "--public-url", "http://127.0.0.1:0/",
		"--listen", "127.0.0.1:0", "--data-dir", t.TempDir()).CombinedOutput()
	if err == nil || !strings.Contains(string(out), "this build has no debug listener") {
		t.Errorf("web --debug-listen in the production build: %v:\n%s", err, out)
	}
}

// buildAsTheScriptDoes runs scripts/build-binary's go build line with the output in a temporary
// directory, and returns the binary's path.
func buildAsTheScriptDoes(t *testing.T) string {
	t.Helper()
	script, err := os.ReadFile("../../scripts/build-binary")
	if err != nil {
		t.Fatal(err)
	}
	line := ""
	for _, l := range strings.Split(string(script), "\n") {
		if strings.Contains(l, "go build") && !strings.HasPrefix(strings.TrimSpace(l), "#") {
			line = strings.TrimSpace(l)
		}
	}
	bin := filepath.Join(t.TempDir(), "web")
	if !strings.Contains(line, " -o bin/web ") {
		t.Fatalf("scripts/build-binary: no go build writing bin/web: %q", line)
	}
	cmd := exec.Command("sh", "-c", strings.Replace(line, " -o bin/web ", " -o '"+bin+"' ", 1))
	cmd.Dir = "../.."
	cmd.Env = append(os.Environ(), "PATH="+filepath.Join(runtime.GOROOT(), "bin")+string(os.PathListSeparator)+os.Getenv("PATH"))
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%s: %v\n%s", line, err, out)
	}
	return bin
}
