// Package settings declares a command's settings once (flag, environment variable, default,
// help) and reads them: a flag wins over its environment variable, and every problem found,
// here or by the command's own checks, is reported together in one message.
//
// github.com/peterbourgon/ff/v3 was the candidate. It stops at the first value it cannot set
// (one problem per start, not all of them), derives a variable for every flag (--dev must have
// none), splits every variable or none into lists, and leaves the variables out of --help.
package settings

import (
	"cmp"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"
	"unicode"
)

// Naming says how messages name a setting.
type Naming int

const (
	// ByFlag names a setting by its flag: "--listen".
	ByFlag Naming = iota
	// ByEnvironment names a setting by its environment variable, "PCS_LISTEN" (by its flag when it
	// has none): for commands configured mostly through the environment, as in containers.
	ByEnvironment
)

// Set is the settings of one command.
type Set struct {
	command, intro string
	naming         Naming
	all            []*Setting
	problems       []string
}

// New starts the settings of command; intro opens its --help.
func New(command string, naming Naming, intro string) *Set {
	return &Set{command: command, naming: naming, intro: intro}
}

type kind int

const (
	text kind = iota
	boolean
	list
)

// Setting is one declared setting. Its value is read after Parse.
type Setting struct {
	Flag, Env, Default, Help string

	kind      kind
	set       *Set
	fromFlag  []string // values given as flags, in order
	fromEnv   string
	file      *Setting // the "-file" companion (WithFile)
	resolved  bool     // the value (or file) has been read and checked once
	value     string
	fileError bool
}

func (s *Set) add(st *Setting) *Setting {
	st.set = s
	s.all = append(s.all, st)
	return st
}

// String declares a setting holding text; def is used when neither flag nor variable gives one.
// env may be empty for a flag that the environment must not set. A word of help in backquotes
// names the value in --help, as with package flag.
func (s *Set) String(flagName, env, def, help string) *Setting {
	return s.add(&Setting{Flag: flagName, Env: env, Default: def, Help: help, kind: text})
}

// Bool declares a switch, off by default: --name alone turns it on, --name=false off, and the
// variable takes true or false (also 1, 0, ...).
func (s *Set) Bool(flagName, env, help string) *Setting {
	return s.add(&Setting{Flag: flagName, Env: env, Default: "false", Help: help, kind: boolean})
}

// List declares a setting of several values: the flag may be repeated and each value may be a
// comma (or space) separated list; the variable holds such a list. Flags replace the variable.
func (s *Set) List(flagName, env, help string) *Setting {
	return s.add(&Setting{Flag: flagName, Env: env, Help: help, kind: list})
}

// WithFile adds the companion "--<flag>-file" / "<ENV>_FILE" naming a file that holds the value
// (a mounted secret): Value then reads it, trimmed. Giving both is reported as a problem.
func (st *Setting) WithFile(help string) *Setting {
	env := ""
	if st.Env != "" {
		env = st.Env + "_FILE"
	}
	st.file = st.set.add(&Setting{Flag: st.Flag + "-file", Env: env, Help: help, kind: text})
	return st
}

// Parse reads args (without the program name), then the environment through getenv for what
// no flag set. It returns flag.ErrHelp after writing the usage to usage when --help was asked,
// and the flag package's error for a malformed command line; malformed values are problems,
// reported by Err with the others.
func (s *Set) Parse(args []string, getenv func(string) string, usage io.Writer) error {
	fs := flag.NewFlagSet(s.command, flag.ContinueOnError)
	fs.SetOutput(usage)
	for _, st := range s.all {
		fs.Var(flagValue{st}, st.Flag, st.Help)
	}
	fs.Usage = func() { s.PrintUsage(usage) }
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		s.Problem("unexpected arguments: %s", strings.Join(fs.Args(), " "))
	}
	for _, st := range s.all {
		if st.Env != "" {
			st.fromEnv = getenv(st.Env)
		}
	}
	return nil
}

// Problem records a problem, for Err.
func (s *Set) Problem(format string, a ...any) {
	s.problems = append(s.problems, fmt.Sprintf(format, a...))
}

// Err lists every problem recorded, one per line, or returns nil.
func (s *Set) Err() error {
	if len(s.problems) == 0 {
		return nil
	}
	return errors.New("configuration is incomplete:\n  - " + strings.Join(s.problems, "\n  - "))
}

// Doc is a setting as documented.
type Doc struct{ Flag, Env, Default, Help string }

// Documented lists every setting in the order declared, for --help and documentation checks.
func (s *Set) Documented() []Doc {
	docs := make([]Doc, 0, len(s.all))
	for _, st := range s.all {
		docs = append(docs, Doc{st.Flag, st.Env, st.Default, st.Help})
	}
	return docs
}

// PrintUsage writes the intro and every setting with its variable and default.
func (s *Set) PrintUsage(w io.Writer) {
	fmt.Fprintf(w, "Usage: %s [flags]\n\n%s\n\n", s.command, strings.TrimSpace(s.intro))
	for _, st := range s.all {
		arg, help := argName(st)
		fmt.Fprintf(w, "  --%s%s\n    \t%s", st.Flag, arg, help)
		var notes []string
		if st.Env != "" {
			notes = append(notes, "env "+st.Env)
		} else {
			notes = append(notes, "no environment variable")
		}
		if st.kind == list {
			notes = append(notes, "comma separated, or repeat the flag")
		}
		if st.Default != "" && st.kind != boolean {
			notes = append(notes, "default "+st.Default)
		}
		fmt.Fprintf(w, " (%s)\n", strings.Join(notes, ", "))
	}
}

// argName is the value's name in usage (a backquoted word of the help, or "value"), and the
// help without the backquotes.
func argName(st *Setting) (string, string) {
	if st.kind == boolean {
		return "", st.Help
	}
	if i := strings.Index(st.Help, "`"); i >= 0 {
		if j := strings.Index(st.Help[i+1:], "`"); j >= 0 {
			name := st.Help[i+1 : i+1+j]
			return " " + name, st.Help[:i] + name + st.Help[i+1+j+1:]
		}
	}
	return " value", st.Help
}

// Name is how messages name the setting (see Naming).
func (st *Setting) Name() string {
	if st.set.naming == ByEnvironment && st.Env != "" {
		return st.Env
	}
	return "--" + st.Flag
}

// Given reports whether a flag or the environment gave the setting (or its file) a value.
func (st *Setting) Given() bool {
	return len(st.fromFlag) > 0 || st.fromEnv != "" || st.file != nil && st.file.Given()
}

// raw is the value given, the flag's over the variable's, or the default.
func (st *Setting) raw() string {
	switch {
	case len(st.fromFlag) > 0:
		return cmp.Or(st.fromFlag[len(st.fromFlag)-1], st.Default)
	case st.fromEnv != "":
		return st.fromEnv
	}
	return st.Default
}

// Value is the setting's text: the flag's, else the variable's, else the contents of its file
// (WithFile), else the default. A problem with the file is recorded once.
func (st *Setting) Value() string {
	if st.file == nil {
		return st.raw()
	}
	if !st.resolved {
		st.resolved = true
		st.value, st.fileError = st.valueOrFile()
	}
	return st.value
}

func (st *Setting) valueOrFile() (string, bool) {
	direct := len(st.fromFlag) > 0 && st.fromFlag[len(st.fromFlag)-1] != "" || st.fromEnv != ""
	path := st.file.raw()
	switch {
	case direct && path != "":
		st.set.Problem("%s and %s are both set: keep one", st.Name(), st.file.Name())
		return "", true
	case path == "":
		return st.raw(), false
	}
	b, err := os.ReadFile(path)
	if err != nil {
		st.set.Problem("%s: %v", st.file.Name(), err)
		return "", true
	}
	return strings.TrimSpace(string(b)), false
}

// FileFailed reports that the setting's file could not be used (a problem is recorded), so that
// the command does not add "missing" to it.
func (st *Setting) FileFailed() bool {
	st.Value()
	return st.fileError
}

// Values are a list's values, flags' over the variable's.
func (st *Setting) Values() []string {
	if len(st.fromFlag) > 0 {
		var out []string
		for _, v := range st.fromFlag {
			out = append(out, splitList(v)...)
		}
		return out
	}
	return splitList(cmp.Or(st.fromEnv, st.Default))
}

func splitList(v string) []string {
	return strings.FieldsFunc(v, func(r rune) bool { return r == ',' || unicode.IsSpace(r) })
}

// Bool is a switch's value; anything but true or false is a problem (and counts as false).
func (st *Setting) Bool() bool {
	b, err := strconv.ParseBool(st.Value())
	if err != nil {
		st.set.Problem("%s %q must be true or false", st.Name(), st.Value())
	}
	return b
}

// Duration is a positive duration such as 30s or 8h; anything else is a problem (and 0).
func (st *Setting) Duration() time.Duration {
	d, err := time.ParseDuration(st.Value())
	if err != nil || d <= 0 {
		st.set.Problem("%s %q must be a positive duration such as 30s or 8h", st.Name(), st.Value())
		return 0
	}
	return d
}

// Count is a whole number, 0 or more; anything else is a problem (and 0). Empty is 0.
func (st *Setting) Count() int {
	v := st.Value()
	if v == "" {
		return 0
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 {
		st.set.Problem("%s %q must be a whole number, 0 or more", st.Name(), v)
		return 0
	}
	return n
}

// flagValue is a Setting as package flag sees it: every value is kept as given and checked
// after parsing, so that a malformed one is listed with the other problems.
type flagValue struct{ st *Setting }

func (f flagValue) String() string {
	if f.st == nil {
		return ""
	}
	return strings.Join(f.st.fromFlag, ",")
}

func (f flagValue) Set(v string) error {
	f.st.fromFlag = append(f.st.fromFlag, v)
	return nil
}

func (f flagValue) IsBoolFlag() bool { return f.st != nil && f.st.kind == boolean }

// File is the companion setting naming a file that holds the value (WithFile), or nil.
func (st *Setting) File() *Setting { return st.file }
