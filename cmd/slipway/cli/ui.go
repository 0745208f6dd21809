package cli

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/hashicorp/hcl/v2"
	"github.com/slipwayhq/slipway/cmd/slipway/views"
	"github.com/slipwayhq/slipway/config"
	"github.com/slipwayhq/slipway/internal/panics"
	"github.com/slipwayhq/slipway/operation"
	"github.com/slipwayhq/slipway/planner/plan"
	"github.com/urfave/cli/v2"
	"golang.org/x/term"
)

// terminal is the operation.UI of one command on the process's streams:
// the views render, in the format the command's flags ask for.
type terminal struct {
	s *streams
	c *cli.Context
	// stream says that -json is a stream of events in which the plan is
	// one (apply, rollback, promote, abort), not a plan document.
	stream bool
}

// newOperation is the operation of kind that the flags the command has
// describe; the command sets the rest. With -json, an operation that
// executes a plan streams events, the plan one of them.
func newOperation(s *streams, c *cli.Context, kind operation.Kind) operation.Operation {
	stream := kind == operation.KindApply || kind == operation.KindPromote || kind == operation.KindAbort ||
		kind == operation.KindRollback && !c.Bool("dry-run")
	return operation.Operation{Kind: kind, Dir: c.String("chdir"), Env: c.String("env"),
		Vars: multiValue(c, "var"), VarFiles: multiValue(c, "var-file"), LockTimeout: c.Duration("lock-timeout"),
		UI: &terminal{s: s, c: c, stream: stream}, Crash: s.crash}
}

// Diagnostics writes diags with their source snippets, except the lines
// of a diagnostic whose source would show a sensitive value.
func (t *terminal) Diagnostics(diags hcl.Diagnostics, files map[string]*hcl.File) {
	views.Diagnostics(t.s.err, diags, files, colorOK(t.s.err, t.c), config.HidesSource)
}

// Plan renders the plan as text, JSON or markdown.
func (t *terminal) Plan(p *plan.Plan) error {
	var err error
	switch {
	case t.c.Bool("json") && t.stream:
		return nil
	case t.c.Bool("json"):
		err = views.PlanJSON(t.s.out, p)
	case t.c.Bool("markdown"):
		err = views.PlanMarkdown(t.s.out, p)
	default:
		err = views.PlanText(t.s.out, p, views.Options{Color: colorOK(t.s.out, t.c)})
	}
	if err != nil {
		return fail(1, fmt.Errorf("render plan: %w", err), "")
	}
	return nil
}

// PlanJSON is the plan as the record keeps it.
func (t *terminal) PlanJSON(p *plan.Plan) json.RawMessage {
	var buf bytes.Buffer
	if err := views.PlanJSON(&buf, p); err != nil {
		return nil
	}
	return json.RawMessage(bytes.TrimSpace(buf.Bytes()))
}

// Confirm asks a yes/no question on stdin.
func (t *terminal) Confirm(q string) bool {
	fmt.Fprintf(t.s.out, "\n%s\n  Enter a value: ", q)
	line, _ := bufio.NewReader(t.s.in).ReadString('\n')
	fmt.Fprintln(t.s.out)
	return strings.TrimSpace(line) == "yes"
}

// Gate asks at an approval gate when slipway runs on a terminal; without
// one, or with -json, a gate pauses the release (exit 4).
func (t *terminal) Gate() func(s *plan.Step) bool {
	f, ok := t.s.in.(*os.File)
	if !ok || !term.IsTerminal(int(f.Fd())) || t.c.Bool("json") {
		return nil
	}
	return func(s *plan.Step) bool {
		return t.Confirm(fmt.Sprintf("%s. Continue? Only 'yes' continues; anything else pauses here (then 'slipway promote' or 'slipway abort').", s.Detail))
	}
}

// Progress streams JSON events with -json, else redraws the running step
// on a terminal that can.
func (t *terminal) Progress(p *plan.Plan) operation.Progress {
	if t.c.Bool("json") {
		h := views.NewJSONHook(t.s.out, Version)
		h.Plan(p)
		return views.JSONProgress{JSONHook: h}
	}
	live, width := liveTerminal(t.s.out)
	h := views.NewTextHook(t.s.out, views.Options{Color: colorOK(t.s.out, t.c), Live: live, Width: width})
	h.Mask(p)
	return views.TextProgress{TextHook: h, W: t.s.out}
}

// Interrupts turns the first SIGINT or SIGTERM into a graceful stop and
// the second into a hard one.
func (t *terminal) Interrupts(ctx context.Context) (<-chan struct{}, context.Context, func()) {
	stop := make(chan struct{})
	hard, cancel := context.WithCancel(ctx)
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	go func() {
		defer panics.Recover()
		n := 0
		for range sigs {
			n++
			if n == 1 {
				fmt.Fprintln(t.s.err, "slipway: interrupt: finishing the current step, then rolling back (interrupt again to stop at once)")
				close(stop)
			} else {
				cancel()
				return
			}
		}
	}()
	return stop, hard, func() { signal.Stop(sigs); cancel() }
}

// Say writes a line to stdout.
func (t *terminal) Say(line string) { fmt.Fprintln(t.s.out, line) }

// Notice writes a line to stderr.
func (t *terminal) Notice(line string) { fmt.Fprintln(t.s.err, line) }

// Warn writes an error that does not stop the operation.
func (t *terminal) Warn(err error, hint string) { printError(t.s.err, err, hint) }

// liveTerminal reports whether apply's progress is redrawn in place: only
// on a terminal that can move its cursor (not TERM=dumb), and its width,
// so that the live line never wraps.
func liveTerminal(w io.Writer) (bool, int) {
	f, ok := w.(*os.File)
	if !ok || !term.IsTerminal(int(f.Fd())) || os.Getenv("TERM") == "dumb" {
		return false, 0
	}
	width, _, err := term.GetSize(int(f.Fd()))
	if err != nil {
		width = 0
	}
	return true, width
}

// colorOK reports whether to colour output: only on a TTY, never with
// NO_COLOR or -no-color.
func colorOK(w io.Writer, c *cli.Context) bool {
	if os.Getenv("NO_COLOR") != "" || (c != nil && c.IsSet("no-color") && c.Bool("no-color")) {
		return false
	}
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

var _ operation.UI = (*terminal)(nil)
