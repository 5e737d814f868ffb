package main

import (
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"

	"pcsupport/internal/testkit"
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

// The binary the image ships (-tags nodev, as scripts/build-binary builds it) links no
// development stand-in and no profiling listener: none of their packages is among its
// dependencies, while the ordinary build has them all (so the check finds what it looks for).
// CI runs the built binary too: it refuses --dev and --debug-listen, saying why (.ci/run).
func TestProductionBuildHasNoDevStandIns(t *testing.T) {
	t.Parallel()
	deps := func(tags ...string) map[string]bool {
		t.Helper()
		args := append([]string{"list", "-deps", "-f", "{{.ImportPath}}"}, tags...)
		out, err := exec.Command(testkit.GoCommand(t), append(args, ".")...).Output()
		if err != nil {
			t.Fatalf("go %s: %v", strings.Join(args, " "), err)
		}
		set := map[string]bool{}
		for _, p := range strings.Fields(string(out)) {
			set[p] = true
		}
		return set
	}
	production, ordinary := deps("-tags", "nodev"), deps()
	for _, pkg := range []string{"pcsupport/internal/devidp", "pcsupport/internal/pcemu", "pcsupport/internal/devstack", "pcsupport/internal/devnotify",
		"pcsupport/internal/devsignin", "github.com/zitadel/oidc/v3/pkg/op", "net/http/pprof"} {
		if pkg != "pcsupport/internal/devsignin" && !ordinary[pkg] {
			t.Errorf("the ordinary build does not link %s: the check looks for the wrong name", pkg)
		}
		if production[pkg] {
			t.Errorf("the production build links %s", pkg)
		}
	}
	for p := range production {
		if strings.HasPrefix(p, "github.com/zitadel/") {
			t.Errorf("the production build links %s", p)
		}
	}
}
