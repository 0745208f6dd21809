package nginx

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os/exec"
	"strings"
)

// ErrRejected is wrapped by the error Activate returns when nginx rejects
// the configuration ("nginx -t" fails).
var ErrRejected = errors.New("nginx rejected the configuration")

// ErrReloadFailed is wrapped by the error Activate returns when the reload
// command fails.
var ErrReloadFailed = errors.New("nginx reload failed")

// Switcher makes the route files on disk live. Reload is implemented here;
// a later issue adds "dynamic" through nginx's Lua module.
//
// Activate validates the whole configuration and makes it live. It returns
// an error wrapping ErrRejected (the configuration is invalid: nothing
// changed) or ErrReloadFailed, with nginx's own output in a *CommandError.
// It honours ctx.
type Switcher interface {
	// Name is the mode shown to users: "reload" or "dynamic".
	Name() string
	// Activate validates and makes the configuration on disk live.
	Activate(ctx context.Context) error
}

// CommandError is a failed nginx command with its own output.
type CommandError struct {
	Args   []string // the command line
	Output string   // what nginx printed (stderr and stdout), trimmed
	Kind   error    // ErrRejected or ErrReloadFailed
	Err    error    // the exec error
}

func (e *CommandError) Error() string {
	msg := fmt.Sprintf("%v: run %q: %v", e.Kind, strings.Join(e.Args, " "), e.Err)
	if e.Output != "" {
		msg += "\n" + e.Output
	}
	return msg
}

// Unwrap returns the kind and the exec error, so errors.Is matches both.
func (e *CommandError) Unwrap() []error { return []error{e.Kind, e.Err} }

// Reload is the switcher that runs "<Binary> [-p Prefix] [-c Conf] -t" and
// then "... -s reload".
type Reload struct {
	Binary string // default "nginx"
	Prefix string // passed as -p when set
	Conf   string // passed as -c when set
}

// Name returns "reload".
func (r *Reload) Name() string { return "reload" }

// Activate validates the configuration with "nginx -t", then signals nginx
// to reload it. Reload is asynchronous in nginx: the caller confirms that
// the new configuration answers.
func (r *Reload) Activate(ctx context.Context) error {
	if _, err := r.Test(ctx); err != nil {
		return err
	}
	if _, err := r.run(ctx, ErrReloadFailed, "-s", "reload"); err != nil {
		return err
	}
	return nil
}

// Test runs "nginx -t" and returns its output (warnings included) or a
// *CommandError wrapping ErrRejected.
func (r *Reload) Test(ctx context.Context) (string, error) {
	return r.run(ctx, ErrRejected, "-t")
}

func (r *Reload) run(ctx context.Context, kind error, args ...string) (string, error) {
	bin := r.Binary
	if bin == "" {
		bin = "nginx"
	}
	var full []string
	if r.Prefix != "" {
		full = append(full, "-p", r.Prefix)
	}
	if r.Conf != "" {
		full = append(full, "-c", r.Conf)
	}
	full = append(full, args...)
	cmd := exec.CommandContext(ctx, bin, full...)
	var out bytes.Buffer
	cmd.Stdout = &out
	cmd.Stderr = &out
	err := cmd.Run()
	output := strings.TrimSpace(out.String())
	if err != nil {
		return output, &CommandError{Args: append([]string{bin}, full...), Output: output, Kind: kind, Err: err}
	}
	return output, nil
}

var _ Switcher = (*Reload)(nil)
