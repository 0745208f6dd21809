package views

import (
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/slipwayhq/slipway/executor"
	"github.com/slipwayhq/slipway/planner/plan"
	"github.com/slipwayhq/slipway/state/records"
)

// TextHook shows the progress of an apply as text, one line per step:
//
//   - service.backend start: 2 containers (blue) from thebot/backend:1.3.0 ... done (2.1s)
//     · service.backend pause: wait 5m at 5% ...
//     waiting 5m
//     · service.backend pause: wait 5m at 5% ... done (5m)
//     ↺ undo service.backend.start.1: remove the new containers ... done (0.4s)
//
// A step's line is left open until it finishes, so a step without
// progress takes one line. It is safe for concurrent use; write errors
// are kept for Err.
type TextHook struct {
	mu   sync.Mutex
	w    io.Writer
	c    painter
	open string // the started line waiting for its result, "" if none
	err  error
	// Sensitive values seen so far, and their masker.
	secrets secrets
	m       masker
}

// NewTextHook returns a TextHook writing to w. o.Width is not used:
// progress lines are never wrapped.
func NewTextHook(w io.Writer, o Options) *TextHook {
	return &TextHook{w: w, c: painter(o.Color), secrets: secrets{}}
}

// Mask makes the hook mask every sensitive value p carries in whatever
// it writes later, also in errors and progress messages of steps that do
// not carry the values themselves. Values carried by the steps the hook
// is given are masked without it.
func (h *TextHook) Mask(p *plan.Plan) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.learn(p.Steps...)
}

func (h *TextHook) learn(steps ...*plan.Step) {
	n := len(h.secrets)
	h.secrets.add(steps...)
	if len(h.secrets) != n || h.m.r == nil {
		h.m = h.secrets.masker()
	}
}

// StepStarted opens the step's line.
func (h *TextHook) StepStarted(s *plan.Step) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.closeOpen()
	line := "  " + h.c.symbol(s.Action) + " " + h.describe(s, "")
	h.open = line
	h.write(line)
}

// StepFinished closes the step's line with its outcome.
func (h *TextHook) StepFinished(s *plan.Step, d time.Duration, err error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.finish("  "+h.c.symbol(s.Action)+" "+h.describe(s, ""), s, d, err)
}

// CompensationStarted opens the line of an undo.
func (h *TextHook) CompensationStarted(s *plan.Step) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.closeOpen()
	line := "  " + h.c.paint(ansiYellow, "↺") + " " + h.describe(s, "undo ")
	h.open = line
	h.write(line)
}

// CompensationFinished closes the line of an undo.
func (h *TextHook) CompensationFinished(s *plan.Step, d time.Duration, err error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.finish("  "+h.c.paint(ansiYellow, "↺")+" "+h.describe(s, "undo "), s, d, err)
}

// Progress writes msg on a line of its own under the step.
func (h *TextHook) Progress(s *plan.Step, msg string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.closeOpen()
	h.learn(s)
	h.write("      " + h.m.mask(oneLine(msg)) + "\n")
}

// Summary ends the output with how the operation ended. outcome is a
// record's result ("succeeded", "failed", "rolled_back",
// "needs_intervention", "paused"; executor.Outcome's "refused" is taken
// as "failed"); release is the release the operation
// made or tried to make; counts, when not nil, are the prober's.
func (h *TextHook) Summary(outcome string, release int, d time.Duration, counts *records.ProberCounts) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.closeOpen()
	var msg string
	switch outcome {
	case "succeeded":
		msg = h.c.paint(ansiGreen, fmt.Sprintf("Release #%d is live", release))
	case "failed", "refused":
		msg = h.c.paint(ansiRed, fmt.Sprintf("Release #%d was refused before anything changed", release))
	case "rolled_back":
		msg = h.c.paint(ansiYellow, fmt.Sprintf("Release #%d failed and was rolled back: the previous release is live again", release))
	case "needs_intervention":
		msg = h.c.paint(ansiRed, fmt.Sprintf("Release #%d failed and rolling back failed too: manual intervention needed", release))
	case "paused":
		msg = h.c.paint(ansiYellow, fmt.Sprintf("Release #%d is paused at an approval gate: run 'slipway promote' to continue or 'slipway abort' to roll back", release))
	default:
		msg = fmt.Sprintf("Release #%d: %s", release, outcome)
	}
	h.write(fmt.Sprintf("\n%s (%s).\n", h.c.bold(msg), elapsed(d)))
	if counts != nil {
		h.write(fmt.Sprintf("Prober: %s, %d failed (%d non-2xx, %s).\n",
			count(counts.Requests, "request"), counts.Failures, counts.Non2xx, count(counts.TransportErrors, "transport error")))
	}
}

// Err returns the first error writing failed with.
func (h *TextHook) Err() error {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.err
}

// describe is "service.backend start: detail ...", or for an undo
// "undo service.backend.start.1: detail ...".
func (h *TextHook) describe(s *plan.Step, undo string) string {
	h.learn(s)
	m := h.m
	var who string
	if undo != "" {
		who = undo + strings.TrimSuffix(s.ID, ".undo")
	} else {
		who = s.Resource
		if who == "" {
			who = s.ID
		}
		who += " " + s.Kind.String()
	}
	if s.Detail != "" {
		who += ": " + m.mask(oneLine(s.Detail))
	}
	return who + " ..."
}

func (h *TextHook) finish(line string, s *plan.Step, d time.Duration, err error) {
	if h.open != line {
		h.closeOpen()
		h.write(line)
	}
	h.open = ""
	if err != nil {
		h.write(fmt.Sprintf(" %s (%s): %s\n", h.c.paint(ansiRed, "failed"), elapsed(d), h.m.mask(oneLine(err.Error()))))
		return
	}
	h.write(fmt.Sprintf(" done (%s)\n", elapsed(d)))
}

// closeOpen ends a started line that something else interrupts.
func (h *TextHook) closeOpen() {
	if h.open != "" {
		h.write("\n")
		h.open = ""
	}
}

func (h *TextHook) write(s string) {
	if h.err != nil {
		return
	}
	if _, err := io.WriteString(h.w, s); err != nil {
		h.err = err
		return
	}
	h.err = flush(h.w)
}

// flush flushes w when it buffers.
func flush(w io.Writer) error {
	switch f := w.(type) {
	case interface{ Flush() error }:
		return f.Flush()
	case interface{ Flush() }:
		f.Flush()
	}
	return nil
}

// oneLine folds line breaks so one event stays one line.
func oneLine(s string) string {
	return strings.Join(strings.Fields(strings.ReplaceAll(s, "\r", "")), " ")
}

var _ executor.Hook = (*TextHook)(nil)
