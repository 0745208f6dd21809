package analysis

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/slipwayhq/slipway/config"
)

// defaultInterval is the window of an analysis that sets no interval.
const defaultInterval = 30 * time.Second

// Watch judges the live version of a release after it: windows read back
// to back from Source for Duration, each judged by the analysis Watch
// names at the window's start (its stages switch analyses as time goes
// on). After a release all traffic is in one group, so the judge sees the
// live version alone (JudgeOptions.Live): only an analysis' absolute
// levels apply. A new stage starts a new judge: warnings do not carry
// over to another analysis.
type Watch struct {
	Source   Source
	Watch    *config.Watch
	Duration time.Duration
	// Analysis looks an analysis block up by name.
	Analysis func(name string) *config.Analysis
	// OnWindow, when set, is told each window (numbered from 1), the
	// analysis that judged it, its verdict and reason.
	OnWindow func(n int, analysis string, v Verdict, why string)

	// now and sleepUntil are test hooks; nil means the real clock.
	now        func() time.Time
	sleepUntil func(ctx context.Context, t time.Time) error
}

// Run runs the watch until its Duration ends, ctx ends (ctx.Err()), a
// read fails, or a window fails. It returns Fail with the reason at the
// first failing window; otherwise the verdict of the last window with
// data, or NoData.
func (w *Watch) Run(ctx context.Context) (Verdict, string, error) {
	var judge *Judge
	judgeName := ""
	l := windows{src: w.Source, duration: w.Duration, now: w.now, sleepUntil: w.sleepUntil,
		stage: func(elapsed time.Duration) (string, *Judge, time.Duration, error) {
			name := w.Watch.AnalysisAt(elapsed)
			an := w.Analysis(name)
			if an == nil {
				return "", nil, 0, fmt.Errorf("watch: no analysis block is named %q", name)
			}
			if name != judgeName {
				o := OptionsFor(an)
				o.Live = true
				judge, judgeName = NewJudge(an, o), name
			}
			interval := an.Interval
			if interval <= 0 {
				interval = defaultInterval
			}
			return name, judge, interval, nil
		}}
	if w.OnWindow != nil {
		l.onWindow = func(n int, stage string, _ Window, v Verdict, why string) { w.OnWindow(n, stage, v, why) }
	}
	out, err := l.run(ctx)
	var re *readError
	if errors.As(err, &re) {
		return NoData, "", fmt.Errorf("read watch window: %w", re.err)
	}
	if err != nil || out.verdict != Fail {
		return out.verdict, "", err
	}
	return Fail, out.reason, nil
}
