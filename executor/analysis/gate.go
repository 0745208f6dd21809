package analysis

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/slipwayhq/slipway/internal/clock"
)

// ErrInvalidGate is the cause of the error Gate.Run returns for a gate it
// cannot run.
var ErrInvalidGate = errors.New("invalid analysis gate")

// Gate runs one analysis step: windows of Interval read back to back from
// Source for Duration, each judged by Judge.
type Gate struct {
	// Source reads each window.
	Source Source
	// Judge judges them, in order.
	Judge *Judge
	// Interval is the length of one window (the analysis interval).
	Interval time.Duration
	// Duration is how long the step lasts (the canary step's pause); the
	// last window is shorter when it is not a multiple of Interval, and a
	// Duration shorter than Interval is one window.
	Duration time.Duration
	// OnWindow, when set, is called after each window with its verdict
	// and reason (to record readings and report progress).
	OnWindow func(w Window, v Verdict, reason string)

	// now and sleepUntil are test hooks; nil means the real clock.
	now        func() time.Time
	sleepUntil func(ctx context.Context, t time.Time) error
}

// Run waits for each window to end, reads and judges it, and returns the
// step's verdict: Fail at the first failing window (without waiting for
// the others); otherwise the verdict of the last window that had data
// (Pass or Warn); NoData when no window had data, which is never a pass.
// It returns ctx.Err() when ctx ends first, and the Source's error when a
// read fails.
func (g *Gate) Run(ctx context.Context) (Verdict, string, error) {
	if g.Source == nil || g.Judge == nil || g.Interval <= 0 || g.Duration <= 0 {
		return NoData, "", fmt.Errorf("run analysis: %w: a source, a judge, and a positive interval and duration are needed", ErrInvalidGate)
	}
	l := windows{src: g.Source, duration: g.Duration, now: g.now, sleepUntil: g.sleepUntil,
		stage: func(time.Duration) (string, *Judge, time.Duration, error) { return "", g.Judge, g.Interval, nil }}
	if g.OnWindow != nil {
		l.onWindow = func(_ int, _ string, w Window, v Verdict, why string) { g.OnWindow(w, v, why) }
	}
	out, err := l.run(ctx)
	var re *readError
	if errors.As(err, &re) {
		return NoData, "", fmt.Errorf("read analysis window: %w", re.err)
	}
	if err != nil {
		return NoData, "", err
	}
	if out.verdict == NoData {
		out.reason = fmt.Sprintf("none of %d windows had data", out.windows)
		if out.lastNoData != "" {
			// Say why, so that a source that cannot be read is not
			// taken for a quiet service.
			out.reason += "; the last: " + out.lastNoData
		}
	}
	return out.verdict, out.reason, nil
}

// windows is the one window loop of canary steps and watches: windows
// read back to back from src for duration, each judged by the judge of
// the stage it starts in, until one fails.
type windows struct {
	src      Source
	duration time.Duration
	// stage returns the name and judge of the stage a window starting
	// elapsed after the first is in, and the length of its windows.
	stage func(elapsed time.Duration) (string, *Judge, time.Duration, error)
	// onWindow, when set, is told each window (numbered from 1), its
	// stage, verdict and reason.
	onWindow func(n int, stage string, w Window, v Verdict, why string)

	now        func() time.Time // nil: time.Now
	sleepUntil func(ctx context.Context, t time.Time) error
}

// loopOutcome is how a loop of windows ended.
type loopOutcome struct {
	// verdict is Fail at the first failing window; otherwise the
	// verdict of the last window with data (Pass or Warn), with its
	// reason; NoData when no window had data.
	verdict    Verdict
	reason     string
	windows    int
	lastNoData string // the reason of the last window without data
}

// readError is a window that could not be read.
type readError struct{ err error }

func (e *readError) Error() string { return e.err.Error() }
func (e *readError) Unwrap() error { return e.err }

// run waits for each window to end, reads and judges it. It returns
// ctx.Err() when ctx ends first, a *readError when a read fails, and the
// stage's error.
func (l windows) run(ctx context.Context) (loopOutcome, error) {
	now, sleepUntil := l.now, l.sleepUntil
	if now == nil {
		now = time.Now
	}
	if sleepUntil == nil {
		sleepUntil = clock.SleepUntil
	}
	start := now()
	end := start.Add(l.duration)
	out := loopOutcome{verdict: NoData, reason: "no window had data"}
	for from := start; from.Before(end); {
		name, judge, interval, err := l.stage(from.Sub(start))
		if err != nil {
			return out, err
		}
		to := from.Add(interval)
		if to.After(end) {
			to = end
		}
		if err := sleepUntil(ctx, to); err != nil {
			return out, err
		}
		w, err := l.src.Read(ctx, from, to)
		if err != nil {
			return out, &readError{err}
		}
		out.windows++
		v, why := judge.Observe(w)
		if l.onWindow != nil {
			l.onWindow(out.windows, name, w, v, why)
		}
		switch v {
		case Fail:
			return loopOutcome{verdict: Fail, reason: why, windows: out.windows}, nil
		case Pass, Warn:
			out.verdict, out.reason = v, why
		case NoData:
			out.lastNoData = why
		}
		from = to
	}
	return out, nil
}
