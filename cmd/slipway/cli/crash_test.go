package cli

import (
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/slipwayhq/slipway/internal/panics"
	"github.com/slipwayhq/slipway/state"
	"github.com/slipwayhq/slipway/state/local"
)

var traceLine = regexp.MustCompile(`(?m)^slipway: hint: the stack trace is in (\S+); (.*)$`)

// report runs u.report on a panic and returns the exit code, stderr, the
// trace file's path and its content.
func report(t *testing.T, u *underway, value string) (int, string, string, string) {
	t.Helper()
	var stderr bytes.Buffer
	code := u.report(&stderr, &panics.Panic{Value: value, Stack: []byte("goroutine 1 [running]:\nmain.main()\n")})
	m := traceLine.FindStringSubmatch(stderr.String())
	if m == nil {
		t.Fatalf("no trace hint in:\n%s", stderr.String())
	}
	fi, err := os.Stat(m[1])
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Fatalf("trace %s has mode %v, want 0600", m[1], fi.Mode().Perm())
	}
	b, err := os.ReadFile(m[1])
	if err != nil {
		t.Fatal(err)
	}
	return code, stderr.String(), m[1], string(b)
}

func TestReportBeforeTheStateIsKnown(t *testing.T) {
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	code, stderr, path, trace := report(t, &underway{}, "boom")
	if code != 1 {
		t.Fatalf("exit %d, want 1", code)
	}
	if !strings.HasPrefix(stderr, "slipway: internal error: boom\n") || !strings.Contains(stderr, "please report this bug") {
		t.Fatalf("stderr:\n%s", stderr)
	}
	if filepath.Dir(path) != tmp {
		t.Fatalf("trace %s is not in TMPDIR %s", path, tmp)
	}
	if !strings.Contains(trace, "internal error: boom") || !strings.Contains(trace, "goroutine 1 [running]") {
		t.Fatalf("trace:\n%s", trace)
	}
}

func TestReportUnderTheRecordsAndByJournal(t *testing.T) {
	t.Setenv("TMPDIR", t.TempDir())
	b, err := local.Open(filepath.Join(t.TempDir(), ".slipway"), "")
	if err != nil {
		t.Fatal(err)
	}
	u := &underway{}
	u.Opened(b)
	u.Masking(func(s string) string { return strings.ReplaceAll(s, "hunter2", "(sensitive)") })

	// A command that started no operation: 1, even with an old journal.
	if err := b.WriteJournal(&state.Journal{OperationID: "op-1", Operation: "apply", Release: 2, Started: time.Now()}); err != nil {
		t.Fatal(err)
	}
	code, stderr, path, trace := report(t, u, "bad value hunter2")
	if code != 1 {
		t.Fatalf("no operation started: exit %d, want 1", code)
	}
	if filepath.Dir(path) != b.RecordsDir() {
		t.Fatalf("trace %s is not in the records %s", path, b.RecordsDir())
	}
	if strings.Contains(stderr+trace, "hunter2") || !strings.Contains(stderr, "bad value (sensitive)") {
		t.Fatalf("a sensitive value is shown:\n%s\n%s", stderr, trace)
	}

	// An operation under way with its journal: 3, and the journal stays.
	u.Started()
	code, stderr, _, _ = report(t, u, "boom")
	if code != 3 || !strings.Contains(stderr, "the apply of release #2 stopped half-way and its journal is kept: run 'slipway plan'") {
		t.Fatalf("operation under way: exit %d, want 3:\n%s", code, stderr)
	}
	if j, err := b.ReadJournal(); err != nil || j == nil {
		t.Fatalf("the journal is gone (%v)", err)
	}

	// An operation that finished (its journal cleared): 1.
	if err := b.ClearJournal(); err != nil {
		t.Fatal(err)
	}
	if code, stderr, _, _ = report(t, u, "boom"); code != 1 {
		t.Fatalf("operation finished: exit %d, want 1:\n%s", code, stderr)
	}
}

// TestUnderwayNil proves a command run without Main (a test) may call
// underway's methods.
func TestUnderwayNil(t *testing.T) {
	var u *underway
	u.Opened(nil)
	u.Masking(nil)
	u.Started()
}
