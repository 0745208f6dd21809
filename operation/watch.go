package operation

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sort"
	"time"

	"github.com/slipwayhq/slipway/config"
	"github.com/slipwayhq/slipway/executor"
	"github.com/slipwayhq/slipway/executor/analysis"
	"github.com/slipwayhq/slipway/internal/panics"
	"github.com/slipwayhq/slipway/notify"
	"github.com/slipwayhq/slipway/planner"
	"github.com/slipwayhq/slipway/providers"
)

// watchResult is how one service's watch ended: its verdict, and why
// for a Fail.
type watchResult struct {
	service string
	verdict analysis.Verdict
	reason  string
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
		return o.watchRollback(context.WithoutCancel(ctx), watched, failed.service, failed.reason)
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
			case r.err == nil && r.verdict == analysis.Fail && failed == nil:
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
		v, why, err := (&analysis.Watch{
			Source:   src,
			Watch:    wp.watch,
			Duration: wp.duration,
			Analysis: o.cfg.Analysis,
			OnWindow: func(n int, an string, v analysis.Verdict, why string) {
				tell(fmt.Sprintf("%s window %d (%s): %s: %s", wp.service.Name, n, an, v, why))
			},
		}).Run(ctx)
		results <- watchResult{wp.service.Name, v, why, err}
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
