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
	now, sleepUntil := g.now, g.sleepUntil
	if now == nil {
		now = time.Now
	}
	if sleepUntil == nil {
		sleepUntil = clock.SleepUntil
	}
	start := now()
	end := start.Add(g.Duration)
	verdict, reason := NoData, "no window had data"
	lastNoData := ""
	windows := 0
	for from := start; from.Before(end); from = from.Add(g.Interval) {
		to := from.Add(g.Interval)
		if to.After(end) {
			to = end
		}
		if err := sleepUntil(ctx, to); err != nil {
			return NoData, "", err
		}
		w, err := g.Source.Read(ctx, from, to)
		if err != nil {
			return NoData, "", fmt.Errorf("read analysis window: %w", err)
		}
		windows++
		v, why := g.Judge.Observe(w)
		if g.OnWindow != nil {
			g.OnWindow(w, v, why)
		}
		switch v {
		case Fail:
			return Fail, why, nil
		case Pass, Warn:
			verdict, reason = v, why
		case NoData:
			lastNoData = why
		}
	}
	if verdict == NoData {
		reason = fmt.Sprintf("none of %d windows had data", windows)
		if lastNoData != "" {
			// Say why, so that a source that cannot be read is not
			// taken for a quiet service.
			reason += "; the last: " + lastNoData
		}
	}
	return verdict, reason, nil
}
