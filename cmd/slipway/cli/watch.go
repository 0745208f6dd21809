package cli

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/slipwayhq/slipway/config"
	"github.com/slipwayhq/slipway/executor/analysis"
	"github.com/slipwayhq/slipway/internal/panics"
	"github.com/slipwayhq/slipway/notify"
	"github.com/urfave/cli/v2"
)

func watchCommand(s *streams) *cli.Command {
	return &cli.Command{
		Name:  "watch",
		Usage: "keep analysing the current release, and roll it back on a fail verdict",
		Description: `Example:
   slipway watch                 # for each service's watch { duration }
   slipway watch -duration 10m   # for another duration

Each service with a watch block (or, with -duration, a canary analysis) is
judged window by window on its live version alone: after a release there is
no stable version to compare with, so only an analysis' absolute levels
(warn, fail, warn_for, min_requests) apply, and stages switch to other
analyses as time goes on. The watch holds no lock while it analyses. On a
fail verdict it takes the lock and, if the release it watched is still the
current one, rolls back to the release before it as 'slipway rollback
-auto-approve' would (exit 2); if another release happened meanwhile, it
changes nothing and says so (exit 1). Exit 0 when the watch ends without a
fail.

While it runs, the watch also looks at the live release's replicas every
2s: when fewer serve than the release runs (a container exited, restarts
in a loop, fails its HEALTHCHECK, or answers on another port than nginx
sends requests to) it says so, with each replica's state and last log
lines, and sends the "degraded" event to the notify blocks; when they all
serve again, "recovered". It does not look while an apply, rollback or
paused canary holds a journal. This changes neither the verdict nor the
exit code.`,
		Flags: append(varFlags(),
			&cli.DurationFlag{Name: "lock-timeout", Usage: "on a fail verdict, wait up to `DURATION` for the state lock to roll back", Value: 5 * time.Minute},
			&cli.DurationFlag{Name: "duration", Usage: "watch for `DURATION` instead of each watch block's duration"},
			&cli.BoolFlag{Name: "no-color", Usage: "never colour the output"},
		),
		Action: func(c *cli.Context) error {
			return newSession(s, c).watch(c.Context, c.Duration("duration"))
		},
	}
}

// watch runs the watch of the current release for override, or each
// watch block's duration when override is 0.
func (se *session) watch(ctx context.Context, override time.Duration) error {
	if err := se.loadConfig(); err != nil {
		return err
	}
	if err := se.openBackend(); err != nil {
		return err
	}
	st, err := se.readState()
	if err != nil {
		return err
	}
	if st.Release == 0 {
		return fail(1, errors.New("nothing to watch: no release has been applied yet"), "release with 'slipway apply' first")
	}
	watched := st.Release
	plans, err := watchPlans(se.cfg, override)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	type result struct {
		service string
		out     watchOutcome
		err     error
	}
	results := make(chan result, len(plans))
	lines := make(chan string)
	set, closeProv, err := se.providers()
	if err != nil {
		return err
	}
	defer closeProv()
	var notifier *notify.Notifier
	if len(se.cfg.Notifies) > 0 {
		notifier = notify.New(se.cfg.Notifies, notify.Options{})
	}
	rctx, stopReplicas := context.WithCancel(ctx)
	waitReplicas := (&replicaWatch{se: se, runtime: set.Runtime, poll: replicaPoll, notifier: notifier,
		tell: func(l string) {
			select {
			case lines <- l:
			case <-rctx.Done():
			}
		}}).start(rctx)
	defer func() { stopReplicas(); waitReplicas() }()
	for _, wp := range plans {
		src, closeSrc, err := se.watchSource(wp.service, wp.base, watched)
		if err != nil {
			cancel()
			return fail(1, fmt.Errorf("watch service %q: %w", wp.service.Name, err), "")
		}
		fmt.Fprintf(se.s.out, "Watching release #%d of service %q for %s (analysis %q).\n", watched, wp.service.Name, wp.duration, wp.watch.Analysis)
		go func() {
			defer closeSrc()
			defer panics.Recover()
			out, err := runWatch(ctx, watchRun{
				Source:   src,
				Watch:    wp.watch,
				Duration: wp.duration,
				Analysis: se.cfg.Analysis,
				OnWindow: func(n int, an string, live analysis.Reading, v analysis.Verdict, why string) {
					select {
					case lines <- fmt.Sprintf("%s window %d (%s): %s: %s", wp.service.Name, n, an, v, why):
					case <-ctx.Done():
					}
				},
			})
			results <- result{wp.service.Name, out, err}
		}()
	}
	var failed *result
	var firstErr error
	for pending := len(plans); pending > 0; {
		select {
		case l := <-lines:
			fmt.Fprintln(se.s.out, l)
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
	if failed != nil {
		return se.watchRollback(context.WithoutCancel(ctx), watched, failed.service, failed.out.Reason)
	}
	if firstErr != nil {
		return fail(1, firstErr, "")
	}
	if err := ctx.Err(); err != nil && !errors.Is(err, context.Canceled) {
		return fail(1, err, "")
	}
	fmt.Fprintf(se.s.out, "Release #%d passed its watch.\n", watched)
	return nil
}

// watchRollback rolls back the watched release after service failed its
// watch: under the lock, and only if it is still the current release.
func (se *session) watchRollback(ctx context.Context, watched int, service, reason string) error {
	fmt.Fprintf(se.s.err, "slipway: release #%d failed its watch of service %q: %s\n", watched, service, reason)
	se.target = ""
	se.reason = fmt.Sprintf("watch of service %q failed: %s", service, reason)
	p, done, err := se.makePlan(ctx, "rollback")
	if err != nil {
		return err
	}
	defer done()
	if se.prior.Release != watched {
		return fail(1, fmt.Errorf("release #%d is no longer the current release: #%d is, made while the watch ran; nothing was rolled back", watched, se.prior.Release),
			fmt.Sprintf("run 'slipway watch' to watch release #%d", se.prior.Release))
	}
	if err := se.render(p); err != nil {
		return err
	}
	if !p.Changed() {
		return fail(1, fmt.Errorf("release #%d failed its watch, but rolling back changes nothing", watched), "run 'slipway history' and 'slipway plan' to see what is live")
	}
	if err := se.execute(ctx, p); err != nil {
		return err
	}
	return fail(2, fmt.Errorf("release #%d failed its watch and was rolled back to release #%d", watched, p.TargetRelease),
		"the record of the rollback says why; run 'slipway history'")
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
			return nil, fail(1, fmt.Errorf("service %q has a watch but no route to analyse", svc.Name), "add a route block to the service")
		}
		base := cfg.Analysis(w.Analysis)
		if base == nil {
			return nil, fail(1, fmt.Errorf("service %q: no analysis block is named %q", svc.Name, w.Analysis), "")
		}
		d := w.Duration
		if override > 0 {
			d = override
		}
		out = append(out, watchPlan{service: svc, watch: w, base: base, duration: d})
	}
	if len(out) == 0 {
		return nil, fail(1, errors.New("nothing to watch: no service has a watch block"),
			"add watch { duration = \"30m\" } to a service, or give -duration to watch with each canary's analysis")
	}
	sort.Slice(out, func(i, j int) bool { return out[i].service.Name < out[j].service.Name })
	return out, nil
}

// watchSource opens the metric source of an analysis for the live version
// of svc, which runs release.
func (se *session) watchSource(svc *config.Service, an *config.Analysis, release int) (analysis.Source, func(), error) {
	switch an.Source {
	case "nginx", "":
		if se.cfg.Nginx == nil || se.cfg.Nginx.AccessLog == "" {
			return nil, nil, fmt.Errorf("analysis %q reads nginx's access log, but the nginx block names none", an.Name)
		}
		n := analysis.NewNginx(se.rel(se.cfg.Nginx.AccessLog), analysis.Route(se.cfg.Project.Name, se.env, svc.Name))
		return n, func() { n.Close() }, nil
	case "probe":
		host := ""
		if svc.Route.ServerName != "_" {
			host = svc.Route.ServerName
		}
		p, err := analysis.NewProbe(analysis.ProbeOptions{URL: fmt.Sprintf("http://127.0.0.1:%d%s", svc.Route.Listen, svc.Route.Location),
			Host: host, Rate: probeRate(an)})
		if err != nil {
			return nil, nil, err
		}
		p.Start(context.Background())
		return p, p.Stop, nil
	case "prometheus":
		if an.Prometheus == nil {
			return nil, nil, fmt.Errorf("analysis %q reads Prometheus, but has no prometheus block", an.Name)
		}
		p, err := prometheusSource(an, release, release)
		if err != nil {
			return nil, nil, fmt.Errorf("analysis %q: %w", an.Name, err)
		}
		return p, func() {}, nil
	}
	return nil, nil, fmt.Errorf("analysis %q: the %s source is not available in this slipway", an.Name, an.Source)
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
		sleepUntil = sleepCtx
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
			o := judgeOptions(an)
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

// sleepCtx waits until t or until ctx ends.
func sleepCtx(ctx context.Context, t time.Time) error {
	timer := time.NewTimer(time.Until(t))
	defer timer.Stop()
	select {
	case <-timer.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
