package operation

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/slipwayhq/slipway/config"
	"github.com/slipwayhq/slipway/executor"
	"github.com/slipwayhq/slipway/executor/analysis"
	"github.com/slipwayhq/slipway/internal/clock"
	"github.com/slipwayhq/slipway/internal/panics"
	"github.com/slipwayhq/slipway/notify"
	"github.com/slipwayhq/slipway/planner"
	"github.com/slipwayhq/slipway/providers"
)

// watchResult is how one service's watch ended.
type watchResult struct {
	service string
	out     watchOutcome
	err     error
}

// watch runs the watch of the current release for override, or each
// watch block's duration when override is 0, and rolls the release back
// on a fail verdict.
func (o *run) watch(ctx context.Context, override time.Duration) (Result, error) {
	if err := o.open(true); err != nil {
		return Result{}, err
	}
	st, err := o.readState()
	if err != nil {
		return Result{}, err
	}
	if st.Release == 0 {
		return Result{}, refuse(errors.New("nothing to watch: no release has been applied yet"), "release with 'slipway apply' first")
	}
	watched := st.Release
	plans, err := watchPlans(o.cfg, override)
	if err != nil {
		return Result{}, err
	}
	set, err := o.openWorld()
	if err != nil {
		return Result{}, err
	}
	defer set.Close()
	failed, err := o.watchAll(ctx, set, plans, watched)
	if failed != nil {
		return o.watchRollback(context.WithoutCancel(ctx), watched, failed.service, failed.out.Reason)
	}
	if err != nil {
		return Result{Watched: watched}, err
	}
	o.ui.Say(fmt.Sprintf("Release #%d passed its watch.", watched))
	return Result{Watched: watched}, nil
}

// watchAll runs the watch of each service at once, and the replicas'
// watch beside them, until they all end or one fails; it returns the
// first failing service's result.
func (o *run) watchAll(ctx context.Context, set *providers.Set, plans []watchPlan, watched int) (*watchResult, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	results := make(chan watchResult, len(plans))
	lines := make(chan string)
	tell := func(l string) {
		select {
		case lines <- l:
		case <-ctx.Done():
		}
	}
	var notifier *notify.Notifier
	if len(o.cfg.Notifies) > 0 {
		notifier = notify.New(o.cfg.Notifies, notify.Options{})
	}
	rctx, stopReplicas := context.WithCancel(ctx)
	waitReplicas := o.newReplicaWatch(set.Runtime, notifier, tell).start(rctx)
	defer func() { stopReplicas(); waitReplicas() }()
	for _, wp := range plans {
		if err := o.startWatch(ctx, wp, watched, tell, results); err != nil {
			return nil, err
		}
	}
	var failed *watchResult
	var firstErr error
	for pending := len(plans); pending > 0; {
		select {
		case l := <-lines:
			o.ui.Say(l)
		case r := <-results:
			pending--
			switch {
			case r.err != nil && !errors.Is(r.err, context.Canceled):
				if firstErr == nil {
					firstErr = fmt.Errorf("watch service %q: %w", r.service, r.err)
				}
				cancel()
			case r.err == nil && r.out.Verdict == analysis.Fail && failed == nil:
				failed = &r
				cancel()
			}
		}
	}
	stopReplicas()
	waitReplicas()
	switch {
	case failed != nil:
		return failed, nil
	case firstErr != nil:
		return nil, refuse(firstErr, "")
	}
	if err := ctx.Err(); err != nil && !errors.Is(err, context.Canceled) {
		return nil, refuse(err, "")
	}
	return nil, nil
}

// startWatch opens the source of one service's watch and runs it in the
// background, telling each window and sending the result to results.
func (o *run) startWatch(ctx context.Context, wp watchPlan, watched int, tell func(string), results chan<- watchResult) error {
	dir, err := filepath.Abs(o.cfg.Dir)
	if err != nil {
		return refuse(err, "")
	}
	// The live version alone: no canary header, one release for both
	// groups.
	spec := planner.AnalysisSpec(o.cfg, dir, o.op.Env, wp.service, wp.base, watched, watched)
	spec.Header = ""
	src, closeSrc, err := analysis.Open(ctx, spec)
	if err != nil {
		return refuse(fmt.Errorf("watch service %q: %w", wp.service.Name, err), "")
	}
	o.ui.Say(fmt.Sprintf("Watching release #%d of service %q for %s (analysis %q).", watched, wp.service.Name, wp.duration, wp.watch.Analysis))
	go func() {
		defer closeSrc()
		defer panics.Recover()
		out, err := runWatch(ctx, watchRun{
			Source:   src,
			Watch:    wp.watch,
			Duration: wp.duration,
			Analysis: o.cfg.Analysis,
			OnWindow: func(n int, an string, live analysis.Reading, v analysis.Verdict, why string) {
				tell(fmt.Sprintf("%s window %d (%s): %s: %s", wp.service.Name, n, an, v, why))
			},
		})
		results <- watchResult{wp.service.Name, out, err}
	}()
	return nil
}

// watchRollback rolls back the watched release after service failed its
// watch: under the lock, and only if it is still the current release.
func (o *run) watchRollback(ctx context.Context, watched int, service, reason string) (Result, error) {
	o.ui.Notice(fmt.Sprintf("slipway: release #%d failed its watch of service %q: %s", watched, service, reason))
	o.op.Target, o.op.RestoreDB, o.op.NoVerify = "", false, false
	o.op.Reason = fmt.Sprintf("watch of service %q failed: %s", service, reason)
	p, release, err := o.makePlan(ctx, KindRollback)
	if err != nil {
		return Result{Watched: watched}, err
	}
	defer release()
	if o.prior.Release != watched {
		return Result{Watched: watched}, refuse(fmt.Errorf("release #%d is no longer the current release: #%d is, made while the watch ran; nothing was rolled back", watched, o.prior.Release),
			fmt.Sprintf("run 'slipway watch' to watch release #%d", o.prior.Release))
	}
	if err := o.ui.Plan(p); err != nil {
		return Result{Plan: p, Watched: watched}, err
	}
	if !p.Changed() {
		return Result{Plan: p, Watched: watched}, refuse(fmt.Errorf("release #%d failed its watch, but rolling back changes nothing", watched), "run 'slipway history' and 'slipway plan' to see what is live")
	}
	res, err := o.execute(ctx, p)
	res.Watched = watched
	if err != nil {
		return res, err
	}
	return res, &Error{Outcome: executor.RolledBack, Err: fmt.Errorf("release #%d failed its watch and was rolled back to release #%d", watched, p.TargetRelease),
		Hint: "the record of the rollback says why; run 'slipway history'"}
}

// watchPlan is one service's watch as the command runs it.
type watchPlan struct {
	service  *config.Service
	watch    *config.Watch
	base     *config.Analysis // the analysis whose source every stage reads
	duration time.Duration
}

// watchPlans returns the watches to run: each service's watch block, or
// with override (-duration) also each canary's analysis; override, when
// set, is the duration of all of them.
func watchPlans(cfg *config.Config, override time.Duration) ([]watchPlan, error) {
	var out []watchPlan
	for _, svc := range cfg.Services {
		w := svc.Watch
		if w == nil && override > 0 && svc.Canary != nil && svc.Canary.Analysis != "" {
			w = &config.Watch{Duration: override, Analysis: svc.Canary.Analysis}
		}
		if w == nil {
			continue
		}
		if svc.Route == nil {
			return nil, refuse(fmt.Errorf("service %q has a watch but no route to analyse", svc.Name), "add a route block to the service")
		}
		base := cfg.Analysis(w.Analysis)
		if base == nil {
			return nil, refuse(fmt.Errorf("service %q: no analysis block is named %q", svc.Name, w.Analysis), "")
		}
		d := w.Duration
		if override > 0 {
			d = override
		}
		out = append(out, watchPlan{service: svc, watch: w, base: base, duration: d})
	}
	if len(out) == 0 {
		return nil, refuse(errors.New("nothing to watch: no service has a watch block"),
			"add watch { duration = \"30m\" } to a service, or give -duration to watch with each canary's analysis")
	}
	sort.Slice(out, func(i, j int) bool { return out[i].service.Name < out[j].service.Name })
	return out, nil
}

// watchRun is one service's watch: windows read back to back from Source
// for Duration, each judged by the analysis the watch names at its start.
type watchRun struct {
	Source   analysis.Source
	Watch    *config.Watch
	Duration time.Duration
	// Analysis looks an analysis block up by name.
	Analysis func(name string) *config.Analysis
	// OnWindow is called after each window (numbered from 1) with the
	// analysis that judged it, the live version's reading, its verdict
	// and reason.
	OnWindow func(n int, analysis string, live analysis.Reading, v analysis.Verdict, why string)

	// now and sleepUntil are test hooks; nil means the real clock.
	now        func() time.Time
	sleepUntil func(ctx context.Context, t time.Time) error
}

// watchOutcome is how a watch ended.
type watchOutcome struct {
	// Verdict is Fail at the first failing window; otherwise the verdict
	// of the last window with data, or NoData.
	Verdict analysis.Verdict
	// Reason says why, for a Fail.
	Reason string
}

// runWatch runs w until its Duration ends, ctx ends (ctx.Err()), a read
// fails, or a window fails. The live version is the group that served
// more requests in the window (all traffic is in one group after a
// release); the judge sees it as both stable and candidate, with no
// margin against stable, so only absolute levels apply. A new stage
// starts a new judge: warnings do not carry over to another analysis.
func runWatch(ctx context.Context, w watchRun) (watchOutcome, error) {
	now, sleepUntil := w.now, w.sleepUntil
	if now == nil {
		now = time.Now
	}
	if sleepUntil == nil {
		sleepUntil = clock.SleepUntil
	}
	start := now()
	end := start.Add(w.Duration)
	out := watchOutcome{Verdict: analysis.NoData}
	var judge *analysis.Judge
	judgeName := ""
	n := 0
	for from := start; from.Before(end); {
		name := w.Watch.AnalysisAt(from.Sub(start))
		an := w.Analysis(name)
		if an == nil {
			return out, fmt.Errorf("watch: no analysis block is named %q", name)
		}
		if name != judgeName {
			o := analysis.OptionsFor(an)
			o.Relative = analysis.Relative{}
			judge, judgeName = analysis.NewJudge(an, o), name
		}
		interval := an.Interval
		if interval <= 0 {
			interval = 30 * time.Second
		}
		to := from.Add(interval)
		if to.After(end) {
			to = end
		}
		if err := sleepUntil(ctx, to); err != nil {
			return out, err
		}
		win, err := w.Source.Read(ctx, from, to)
		if err != nil {
			return out, fmt.Errorf("read watch window: %w", err)
		}
		live := win.Stable
		if win.Candidate.Requests > live.Requests {
			live = win.Candidate
		}
		win.Stable, win.Candidate = live, live
		v, why := judge.Observe(win)
		why = liveReason(why)
		n++
		if w.OnWindow != nil {
			w.OnWindow(n, name, live, v, why)
		}
		switch v {
		case analysis.Fail:
			return watchOutcome{Verdict: analysis.Fail, Reason: why}, nil
		case analysis.Pass, analysis.Warn:
			out.Verdict = v
		}
		from = to
	}
	return out, nil
}

// liveReason rewords a judge's reason for the live version alone: the
// judge saw the same reading as candidate and stable, so "candidate
// error rate 7.0% > fail 5.0%" reads "error rate 7.0% > fail 5.0%", and the
// stable half of "candidate p95 12ms, stable 12ms" goes.
func liveReason(why string) string {
	parts := strings.Split(why, "; ")
	for i, part := range parts {
		for _, g := range []string{", " + analysis.GroupStable + " ", ", " + analysis.GroupCandidate + " "} {
			if j := strings.Index(part, g); j >= 0 {
				rest := part[j:]
				suffix := ""
				if k := strings.Index(rest, " < "); k >= 0 {
					suffix = rest[k:]
				}
				part = part[:j] + suffix
			}
		}
		part = strings.TrimPrefix(part, analysis.GroupCandidate+" ")
		parts[i] = strings.TrimPrefix(part, analysis.GroupStable+" ")
	}
	return strings.Join(parts, "; ")
}
