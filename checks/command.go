package checks

import (
	"context"
	"errors"
	"fmt"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"time"
)

// tailLines is how many output lines a failed command shows.
const tailLines = 20

// maxOutput is how much of a command's output is kept (its end).
const maxOutput = 64 << 10

// commandSpec is a command check: argv runs (no shell unless argv names
// one) in dir with env added to the environment, and must exit 0 within
// the timeout.
type commandSpec struct {
	argv []string
	dir  string
	env  map[string]string
}

func parseCommand(a *attrs) runFunc {
	s := commandSpec{argv: a.strs("argv", true), dir: a.str("dir", false), env: a.strMap("env")}
	if s.argv != nil && len(s.argv) == 0 {
		a.errorf("argv", "must name a program")
	}
	return s.run
}

// tailBuffer keeps the last max bytes written to it.
type tailBuffer struct {
	mu    sync.Mutex
	b     []byte
	max   int
	total int
}

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.total += len(p)
	t.b = append(t.b, p...)
	if len(t.b) > t.max {
		t.b = append([]byte(nil), t.b[len(t.b)-t.max:]...)
	}
	return len(p), nil
}

func (t *tailBuffer) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return string(t.b)
}

func (s commandSpec) run(ctx context.Context, env *Env) (string, error) {
	cmd := exec.CommandContext(ctx, s.argv[0], s.argv[1:]...)
	cmd.Dir = resolve(env.Dir, s.dir)
	if cmd.Dir == "" {
		cmd.Dir = env.Dir
	}
	cmd.Env = append([]string(nil), env.Environ...)
	for _, k := range sortedKeys(s.env) {
		cmd.Env = append(cmd.Env, k+"="+s.env[k])
	}
	// Its own process group, so that a timeout kills what it started too.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = time.Second
	out := &tailBuffer{max: maxOutput}
	cmd.Stdout, cmd.Stderr = out, out
	start := time.Now()
	err := cmd.Run()
	took := round(time.Since(start))
	name := s.argv[0]
	if err != nil {
		var ee *exec.ExitError
		what := "failed"
		switch {
		case ctx.Err() == context.DeadlineExceeded:
			what = "was killed at its timeout"
		case errors.As(err, &ee) && ee.Exited():
			what = fmt.Sprintf("exited %d", ee.ExitCode())
		case errors.As(err, &ee):
			what = ee.ProcessState.String()
		}
		ev := fmt.Sprintf("%s %s after %s, %d bytes of output", name, what, took, out.total)
		if tail := lastLines(out.String(), tailLines); tail != "" {
			ev += "\n" + tail
		}
		switch {
		case ctx.Err() == context.DeadlineExceeded:
			return ev, fmt.Errorf("%w: %s ran longer than its timeout", ErrTimeout, name)
		case errors.As(err, &ee) && ee.Exited():
			return ev, fmt.Errorf("%s exited %d", name, ee.ExitCode())
		case errors.As(err, &ee):
			return ev, fmt.Errorf("%s: %s", name, ee.ProcessState)
		}
		return ev, fmt.Errorf("run %s: %w", name, err)
	}
	ev := fmt.Sprintf("%s exited 0 in %s, %d bytes of output", name, took, out.total)
	if last := lastLines(out.String(), 1); last != "" {
		ev += ": " + last
	}
	return ev, nil
}

// lastLines returns the last n non-empty lines of s.
func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	var keep []string
	for i := len(lines) - 1; i >= 0 && len(keep) < n; i-- {
		if strings.TrimSpace(lines[i]) != "" {
			keep = append(keep, strings.TrimRight(lines[i], "\r"))
		}
	}
	for i, j := 0, len(keep)-1; i < j; i, j = i+1, j-1 {
		keep[i], keep[j] = keep[j], keep[i]
	}
	return strings.Join(keep, "\n")
}
