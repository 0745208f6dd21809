package reliability

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"
)

const interruptHCL = `project "${PROJECT}" {}
` + routeHCL + `
service "web" {
  image    = "slipway-demo:${var.version}"
  port     = 8080
  replicas = 2
  health {
    interval = "200ms"
  }
  route {
    listen = ${PORT}
  }
  canary {
    steps = [50, 100]
    pause = "5m"
  }
}
`

// startApply starts an apply of version in the background and waits until
// its journal shows the canary pause under way.
func startApply(t *testing.T, w *world, version string) (*exec.Cmd, *bytes.Buffer, *bytes.Buffer) {
	t.Helper()
	cmd := exec.Command(w.bin, "apply", "-auto-approve", "-var", "version="+version)
	cmd.Dir = w.dir
	cmd.Env = append(cleanEnviron(), w.env...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill() })
	deadline := time.Now().Add(2 * time.Minute)
	for time.Now().Before(deadline) {
		j, _ := w.readJournal()
		if j != nil && len(j.Entries) > 0 {
			e := j.Entries[len(j.Entries)-1]
			if strings.Contains(e.StepID, ".pause.") && e.Phase == "intent" {
				time.Sleep(300 * time.Millisecond) // into the wait itself
				return cmd, &out, &errb
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("the apply never reached its canary pause:\n%s\n%s", out.String(), errb.String())
	return nil, nil, nil
}

func exitCode(t *testing.T, cmd *exec.Cmd) int {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		var ee *exec.ExitError
		if err == nil {
			return 0
		}
		if errors.As(err, &ee) {
			return ee.ExitCode()
		}
		t.Fatal(err)
	case <-time.After(2 * time.Minute):
		t.Fatal("the apply did not stop within 2 minutes of the interrupt")
	}
	return -1
}

// TestInterrupts interrupts an apply during a canary pause: one SIGINT
// rolls it back gracefully (exit 2, release #1 serving, nothing left);
// two stop it at once (exit 3) with the journal kept, and the next plan
// explains the interrupted apply and what to run.
func TestInterrupts(t *testing.T) {
	w := newWorld(t, interruptHCL, worldOpts{})
	w.must(0, "apply", "-auto-approve")

	t.Run("one interrupt rolls back", func(t *testing.T) {
		cmd, out, errb := startApply(t, w, "v2")
		if err := cmd.Process.Signal(os.Interrupt); err != nil {
			t.Fatal(err)
		}
		if code := exitCode(t, cmd); code != 2 {
			t.Fatalf("exit %d, want 2\n%s\n%s", code, out, errb)
		}
		if !strings.Contains(errb.String(), "interrupt") || !strings.Contains(errb.String(), "release #1 is still serving") {
			t.Fatalf("stderr does not explain the graceful stop:\n%s", errb)
		}
		if got := w.served(10); got["v1"] != 10 {
			t.Fatalf("release #1 does not serve alone: %v", got)
		}
		st, err := w.readState()
		if err != nil || st.Release != 1 {
			t.Fatalf("state release %d (%v), want 1", st.Release, err)
		}
		if o := orphans(st, w.containers()); len(o) > 0 {
			t.Fatalf("containers left: %v", o)
		}
		if j, _ := w.readJournal(); j != nil {
			t.Fatalf("a journal is left after a graceful rollback: %+v", j)
		}
	})

	t.Run("two interrupts stop at once", func(t *testing.T) {
		cmd, out, errb := startApply(t, w, "v2")
		// Two interrupts sent together are one pending signal to the
		// kernel; a person's second Ctrl-C comes a moment later.
		_ = cmd.Process.Signal(os.Interrupt)
		time.Sleep(50 * time.Millisecond)
		_ = cmd.Process.Signal(syscall.SIGINT)
		if code := exitCode(t, cmd); code != 3 {
			t.Fatalf("exit %d, want 3\n%s\n%s", code, out, errb)
		}
		if !strings.Contains(errb.String(), "the journal is kept") || !strings.Contains(errb.String(), "slipway plan") {
			t.Fatalf("stderr does not say the journal is kept and what to run:\n%s", errb)
		}
		j, err := w.readJournal()
		if err != nil || j == nil {
			t.Fatalf("no journal kept (%v)", err)
		}
		p := w.plan("-var", "version=v2")
		if p.Interrupted == nil || p.Interrupted.OperationID != j.OperationID {
			t.Fatalf("plan does not name the interrupted apply: %+v", p.Interrupted)
		}
		text := w.must(0, "plan", "-var", "version=v2").stdout
		for _, want := range []string{"Interrupted apply " + j.OperationID, "slipway apply", "slipway rollback"} {
			if !strings.Contains(text, want) {
				t.Fatalf("plan does not say %q:\n%s", want, text)
			}
		}
		// What it proposes works: rollback returns to release #1 alone.
		w.must(0, "rollback", "-auto-approve")
		if got := w.served(10); got["v1"] != 10 {
			t.Fatalf("after rollback: %v", got)
		}
		st, _ := w.readState()
		if o := orphans(st, w.containers()); len(o) > 0 {
			t.Fatalf("containers left after rollback: %v", o)
		}
	})
}
