package reliability

import (
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/slipwayhq/slipway/state/local"
)

// TestPanicIsAnInternalError injects panics through the fault hook, in the
// command's goroutine (panic:POINT) and in a goroutine it waits for
// (gopanic:POINT), and proves that slipway never exits with Go's 2 (which
// means "changes present" or "rolled back safely"): a panic after the plan,
// before any change, exits 1 and leaves the state as it was; a panic in
// the middle of an apply exits 3 and keeps the journal, which the next plan
// explains and a rollback recovers. Each prints where its stack trace is:
// a file of the state's records, readable by its owner only.
func TestPanicIsAnInternalError(t *testing.T) {
	w := newWorld(t, serviceHCL("blue_green {}"), worldOpts{})
	w.must(0, "apply", "-auto-approve")
	stateFile := filepath.Join(w.stateDir(), local.StateFile)
	before, err := os.ReadFile(stateFile)
	if err != nil {
		t.Fatal(err)
	}

	for _, fault := range []string{"panic:plan", "gopanic:plan"} {
		r := w.run([]string{"SLIPWAY_FAULT=" + fault}, "plan", "-detailed-exitcode", "-var", "version=v2")
		if r.code != 1 || r.killed {
			t.Fatalf("%s: want exit 1 (nothing changed), got\n%s", fault, r)
		}
		internalError(t, w, fault, r)
		if j, err := w.readJournal(); err != nil || j != nil {
			t.Fatalf("%s: a journal after a panic in plan (%v): %+v", fault, err, j)
		}
		if after, err := os.ReadFile(stateFile); err != nil || !bytes.Equal(before, after) {
			t.Fatalf("%s: the state changed (%v)", fault, err)
		}
	}

	// after-journal:4 is met once the new containers started (the
	// journal's opening, then the start step's intent and done).
	for _, fault := range []string{"panic:after-journal:4", "gopanic:after-journal:4"} {
		r := w.run([]string{"SLIPWAY_FAULT=" + fault}, "apply", "-auto-approve", "-var", "version=v2")
		if r.code != 3 || r.killed {
			t.Fatalf("%s: want exit 3 (an apply stopped half-way), got\n%s", fault, r)
		}
		internalError(t, w, fault, r)
		t.Logf("%s during apply:\n%s", fault, r.stderr)
		if !strings.Contains(r.stderr, "journal is kept: run 'slipway plan'") {
			t.Fatalf("%s: the hint does not send to plan:\n%s", fault, r)
		}
		j, err := w.readJournal()
		if err != nil || j == nil {
			t.Fatalf("%s: the journal was not kept (%v)", fault, err)
		}
		if after, err := os.ReadFile(stateFile); err != nil || !bytes.Equal(before, after) {
			t.Fatalf("%s: the state changed (%v)", fault, err)
		}
		p := w.plan("-var", "version=v2")
		if p.Interrupted == nil || p.Interrupted.OperationID != j.OperationID || len(p.Interrupted.Finished) == 0 {
			t.Fatalf("%s: plan does not explain the interrupted apply %s: %+v\n%s", fault, j.OperationID, p.Interrupted, p.raw)
		}
		w.must(0, "rollback", "-auto-approve")
		if j, err := w.readJournal(); err != nil || j != nil {
			t.Fatalf("%s: the rollback left a journal (%v): %+v", fault, err, j)
		}
		if got := w.served(5); got["v1"] != 5 {
			t.Fatalf("%s: v1 does not serve alone after the rollback: %v", fault, got)
		}
		if before, err = os.ReadFile(stateFile); err != nil {
			t.Fatal(err)
		}
	}
}

var (
	traceHint     = regexp.MustCompile(`(?m)^slipway: hint: the stack trace is in (\S+); `)
	goroutineDump = regexp.MustCompile(`goroutine [0-9]+ \[`)
)

// internalError checks how r reported an injected panic: the error line,
// and a trace file under the state's records, mode 0600, holding the panic
// and its stack.
func internalError(t *testing.T, w *world, fault string, r result) {
	t.Helper()
	if !regexp.MustCompile(`(?m)^slipway: internal error: injected panic .*at fault point `).MatchString(r.stderr) {
		t.Fatalf("%s: no internal error line:\n%s", fault, r)
	}
	if goroutineDump.MatchString(r.stderr) {
		t.Fatalf("%s: Go's crash dump reached stderr:\n%s", fault, r)
	}
	m := traceHint.FindStringSubmatch(r.stderr)
	if m == nil {
		t.Fatalf("%s: the hint does not say where the stack trace is:\n%s", fault, r)
	}
	if dir := filepath.Join(w.stateDir(), local.RecordsDirName); filepath.Dir(m[1]) != dir {
		t.Fatalf("%s: the trace %s is not in %s", fault, m[1], dir)
	}
	fi, err := os.Stat(m[1])
	if err != nil {
		t.Fatalf("%s: %v", fault, err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Fatalf("%s: the trace has mode %v, want 0600", fault, fi.Mode().Perm())
	}
	b, _ := os.ReadFile(m[1])
	if !bytes.Contains(b, []byte("injected panic")) || !goroutineDump.Match(b) || !bytes.Contains(b, []byte("faultpoint.go")) {
		t.Fatalf("%s: the trace does not hold the panic and its stack:\n%s", fault, b)
	}
}
