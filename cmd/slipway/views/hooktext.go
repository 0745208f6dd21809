package views

import (
	"fmt"
	"io"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/slipwayhq/slipway/executor"
	"github.com/slipwayhq/slipway/internal/panics"
	"github.com/slipwayhq/slipway/internal/redact"
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
// progress takes one line.
//
// With Options.Live (a terminal), the running step's line is redrawn in
// place about four times a second with its elapsed time, and for a pause
// or an analysis window a bar of the time it lasts:
//
//	· service.backend pause: wait 5m at 5% ... [████████░░░░░░░░░░░░] 2m0s of 5m
//
// Finished steps, progress messages and the summary become permanent
// lines, so the screen ends as the plain rendering does. Call Close
// when the operation ends without a Summary.
//
// It is safe for concurrent use; write errors are kept for Err.
type TextHook struct {
	mu   sync.Mutex
	w    io.Writer
	c    painter
	open string // the started line waiting for its result, "" if none
	err  error
	// Sensitive values seen so far, and their masker.
	secrets secrets
	m       redact.Masker

	// Live rendering.
	live  bool
	width int
	cur   *liveStep     // the step on the live line, nil if none
	stop  chan struct{} // closes the running ticker, nil if none
	// Test hooks: the clock, the ticker, and a call after each redraw
	// a tick made.
	now    func() time.Time
	ticker func(d time.Duration) (<-chan time.Time, func())
	drawn  func()
}

// liveStep is the step a live TextHook redraws.
type liveStep struct {
	line    string // as the plain rendering opens it: "  + service.web start: ... ..."
	pause   time.Duration
	started time.Time
	headed  bool // line was written for good, above progress messages
}

// liveRefresh is how often a live TextHook redraws the running step.
const liveRefresh = 250 * time.Millisecond

// barWidth is the number of cells of a live TextHook's bar.
const barWidth = 20

// ANSI sequences that return to the start of the line and clear it.
const clearLine = "\r\x1b[K"

// NewTextHook returns a TextHook writing to w. Without o.Live, o.Width is
// not used: progress lines are never wrapped. With o.Live, the live line
// is cut to o.Width columns (when not 0) so that it never wraps.
func NewTextHook(w io.Writer, o Options) *TextHook {
	return &TextHook{w: w, c: painter(o.Color), secrets: secrets{}, live: o.Live, width: o.Width,
		now: time.Now, ticker: realTicker}
}

func realTicker(d time.Duration) (<-chan time.Time, func()) {
	t := time.NewTicker(d)
	return t.C, t.Stop
}

// Mask makes the hook mask every sensitive value p carries in the errors
// and progress messages it writes later, also of steps that do not carry
// the values themselves. Values carried by the steps the hook is given
// are masked without it. Values shorter than redact.MinLen are never
// masked, and step targets and details, which never hold a sensitive
// value, are written as they are.
func (h *TextHook) Mask(p *plan.Plan) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.learn(p.Steps...)
}

func (h *TextHook) learn(steps ...*plan.Step) {
	n := len(h.secrets)
	h.secrets.add(steps...)
	if len(h.secrets) != n {
		h.m = h.secrets.masker()
	}
}

// StepStarted opens the step's line.
func (h *TextHook) StepStarted(s *plan.Step) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.start(s, "  "+h.c.symbol(s.Action)+" "+h.describe(s, ""))
}

// StepFinished closes the step's line with its outcome.
func (h *TextHook) StepFinished(s *plan.Step, d time.Duration, err error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.finish("  "+h.c.symbol(s.Action)+" "+h.describe(s, ""), d, err)
}

// CompensationStarted opens the line of an undo.
func (h *TextHook) CompensationStarted(s *plan.Step) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.start(s, "  "+h.c.paint(ansiYellow, "↺")+" "+h.describe(s, "undo "))
}

// CompensationFinished closes the line of an undo.
func (h *TextHook) CompensationFinished(s *plan.Step, d time.Duration, err error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.finish("  "+h.c.paint(ansiYellow, "↺")+" "+h.describe(s, "undo "), d, err)
}

// Progress writes msg on a line of its own under the step.
func (h *TextHook) Progress(s *plan.Step, msg string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.learn(s)
	line := "      " + h.m.Mask(oneLine(msg)) + "\n"
	if h.cur == nil {
		h.closeOpen()
		h.write(line)
		return
	}
	if !h.cur.headed {
		h.cur.headed = true
		line = h.cur.line + "\n" + line
	}
	h.write(clearLine + line + h.liveLine())
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

// Close ends a line left open (a step that never finished) and stops
// redrawing it. The hook stays usable; Close is safe to call more than
// once.
func (h *TextHook) Close() error {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.closeOpen()
	return h.err
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
		who += ": " + oneLine(s.Detail)
	}
	return who + " ..."
}

// start opens line: plainly, it is written and left open; live, it is
// drawn with its elapsed time and redrawn until the step finishes.
func (h *TextHook) start(s *plan.Step, line string) {
	h.closeOpen()
	if !h.live {
		h.open = line
		h.write(line)
		return
	}
	h.cur = &liveStep{line: line, started: h.now()}
	if s.Pause > 0 && !s.Approve {
		h.cur.pause = s.Pause
	}
	h.write(h.liveLine())
	h.startTicker()
}

// finish writes line with the outcome, on the open line when it is the
// same one.
func (h *TextHook) finish(line string, d time.Duration, err error) {
	result := fmt.Sprintf(" done (%s)\n", elapsed(d))
	if err != nil {
		result = fmt.Sprintf(" %s (%s): %s\n", h.c.paint(ansiRed, "failed"), elapsed(d), h.m.Mask(oneLine(err.Error())))
	}
	if h.cur != nil {
		// The live line becomes the finished step's permanent line.
		prefix := clearLine
		if h.cur.line != line {
			prefix += h.cur.line + "\n"
		}
		h.cur = nil
		h.stopTicker()
		h.write(prefix + line + result)
		return
	}
	if h.open != line {
		h.closeOpen()
		h.write(line)
	}
	h.open = ""
	h.write(result)
}

// closeOpen ends a started line that something else interrupts: a plain
// one with a line break, a live one as it was opened.
func (h *TextHook) closeOpen() {
	if h.cur != nil {
		h.write(clearLine + h.cur.line + "\n")
		h.cur = nil
		h.stopTicker()
	}
	if h.open != "" {
		h.write("\n")
		h.open = ""
	}
}

// liveLine is the running step's line with its elapsed time, and a bar
// for a pause or an analysis window, cut to the width; "" when no step
// runs.
func (h *TextHook) liveLine() string {
	if h.cur == nil {
		return ""
	}
	d := h.now().Sub(h.cur.started)
	if d < 0 {
		d = 0
	}
	status := elapsed(d)
	if p := h.cur.pause; p > 0 {
		filled := int(int64(barWidth) * int64(d) / int64(p))
		filled = min(filled, barWidth)
		status = "[" + strings.Repeat("█", filled) + strings.Repeat("░", barWidth-filled) + "] " + status + " of " + formatDuration(p)
	}
	return fit(h.cur.line, " "+status, h.width)
}

// fit joins line and status so that they take fewer than width columns
// (when width is not 0), shortening line with "…". Escape sequences
// (colour) take no columns.
func fit(line, status string, width int) string {
	if width <= 0 {
		return line + status
	}
	room := width - 1 - columns(status)
	if columns(line) <= room {
		return line + status
	}
	if room < 1 {
		// Not even the status fits: show what does of it.
		return cut(strings.TrimLeft(status, " "), width-1)
	}
	return cut(line, room-1) + "…" + status
}

// columns counts the runes of s that are not part of an ANSI escape
// sequence.
func columns(s string) int {
	n := 0
	for i := 0; i < len(s); {
		if s[i] == '\x1b' {
			i = skipEscape(s, i)
			continue
		}
		_, size := utf8.DecodeRuneInString(s[i:])
		i += size
		n++
	}
	return n
}

// cut keeps the first n columns of s and every escape sequence, so that a
// colour started is also reset.
func cut(s string, n int) string {
	var b strings.Builder
	for i := 0; i < len(s); {
		if s[i] == '\x1b' {
			j := skipEscape(s, i)
			b.WriteString(s[i:j])
			i = j
			continue
		}
		_, size := utf8.DecodeRuneInString(s[i:])
		if n > 0 {
			b.WriteString(s[i : i+size])
			n--
		}
		i += size
	}
	return b.String()
}

// skipEscape returns the index after the CSI sequence starting at i.
func skipEscape(s string, i int) int {
	j := i + 1
	if j < len(s) && s[j] == '[' {
		j++
		for j < len(s) && (s[j] < 0x40 || s[j] > 0x7e) {
			j++
		}
	}
	if j < len(s) {
		j++
	}
	return j
}

// startTicker redraws the live line every liveRefresh until stopTicker.
// h.mu is held.
func (h *TextHook) startTicker() {
	if h.stop != nil {
		return
	}
	stop := make(chan struct{})
	h.stop = stop
	c, release := h.ticker(liveRefresh)
	go func() {
		defer release()
		defer panics.Recover()
		for {
			select {
			case <-stop:
				return
			case <-c:
			}
			h.mu.Lock()
			if h.stop == stop && h.cur != nil {
				h.write(clearLine + h.liveLine())
			}
			drawn := h.drawn
			h.mu.Unlock()
			if drawn != nil {
				drawn()
			}
		}
	}()
}

// stopTicker ends the redrawing; h.mu is held.
func (h *TextHook) stopTicker() {
	if h.stop != nil {
		close(h.stop)
		h.stop = nil
	}
}

func (h *TextHook) write(s string) {
	if h.err != nil || s == "" {
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
