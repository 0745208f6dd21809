package operation

import (
	"context"
	"fmt"
	"os"
	"slices"
	"strings"

	"github.com/slipwayhq/slipway/checks"
	"github.com/slipwayhq/slipway/config"
	"github.com/slipwayhq/slipway/executor"
	"github.com/slipwayhq/slipway/planner/plan"
	"github.com/slipwayhq/slipway/providers"
	"github.com/slipwayhq/slipway/state/records"
)

// check runs the check blocks of one phase now: each selected one, and a
// skipped result for each one Skip or Quick left out.
func (o *run) check(ctx context.Context) (Result, error) {
	c := o.op.Check
	if err := o.loadConfig(false); err != nil {
		return Result{}, err
	}
	all := checks.Select(o.cfg, c.Phase, nil, false)
	selected := checks.Select(o.cfg, c.Phase, c.Skip, c.Quick)
	env, done, err := o.checkEnv(selected, c.Candidate)
	if err != nil {
		return Result{}, err
	}
	defer done()
	env.Parallel = c.Parallel
	results := mergeSkipped(all, selected, checks.Run(ctx, selected, env), c.Skip, c.Quick)
	return Result{Checks: results, CheckCode: checks.ExitCode(results, c.Strict)}, nil
}

// checkEnv builds what the selected checks need: the masker, and a
// database, the runtime and nginx only when a check of that kind runs,
// from the world.
func (o *run) checkEnv(selected []*config.Check, candidate string) (checks.Env, func(), error) {
	cfg := o.cfg
	env := checks.Env{
		Dir:       o.op.Dir,
		Environ:   os.Environ(),
		Mask:      o.mask,
		Candidate: strings.TrimRight(candidate, "/"),
		Project:   cfg.Project.Name,
		StateEnv:  o.op.Env,
		Database:  func(name string) (providers.Database, error) { return o.world.Database(cfg, name) },
	}
	if cfg.Nginx != nil {
		if r, err := o.world.Router(cfg); err == nil {
			if t, ok := r.(providers.ConfigTester); ok {
				env.NginxTest = t.Test
			}
		}
	}
	if !slices.ContainsFunc(selected, func(c *config.Check) bool { return c.Kind == "container" }) {
		return env, func() {}, nil
	}
	rt, err := o.world.Runtime(cfg)
	if err != nil {
		return env, nil, refuse(fmt.Errorf("connect to docker: %w", err), "start the Docker engine, or point docker { host } or DOCKER_HOST at it")
	}
	env.Runtime = rt
	return env, (&providers.Set{Runtime: rt}).Close, nil
}

// mergeSkipped returns a result for every check of the phase, in
// declaration order: those run, and those left out by skip or quick as
// skipped.
func mergeSkipped(all, selected []*config.Check, ran []checks.Result, skip []string, quick bool) []checks.Result {
	byCheck := map[*config.Check]checks.Result{}
	for i, ck := range selected {
		byCheck[ck] = ran[i]
	}
	out := make([]checks.Result, 0, len(all))
	for _, ck := range all {
		if r, ok := byCheck[ck]; ok {
			out = append(out, r)
			continue
		}
		r := checks.Result{Name: ck.Name, Kind: ck.Kind, Phase: ck.Phase, Severity: ck.Severity, Status: checks.StatusSkip}
		for _, t := range ck.Tags {
			if quick && t == checks.SlowTag {
				r.Err = "tagged " + t + " (-quick)"
				break
			}
			if slices.Contains(skip, t) {
				r.Err = "tagged " + t + " (-skip " + t + ")"
				break
			}
		}
		out = append(out, r)
	}
	return out
}

// checker runs a plan's check steps for the executor with the checks
// package, against the candidate's address in the preview phase.
type checker struct {
	o *run
}

var _ executor.Checker = checker{}

// Run runs the checks the plan resolved.
func (k checker) Run(ctx context.Context, phase string, specs []plan.Check, candidate string) ([]records.CheckEvidence, error) {
	var cks []*config.Check
	for _, c := range specs {
		cks = append(cks, c.Block())
	}
	if candidate != "" {
		candidate = "http://" + candidate
	}
	env, done, err := k.o.checkEnv(cks, candidate)
	if err != nil {
		return nil, err
	}
	defer done()
	var ev []records.CheckEvidence
	var failed []string
	for _, r := range checks.Run(ctx, cks, env) {
		evidence := r.Evidence
		if r.Err != "" {
			evidence = strings.TrimSpace(r.Err + "; " + evidence)
		}
		ev = append(ev, records.CheckEvidence{Name: r.Name, Phase: r.Phase, Severity: r.Severity, Status: r.Status, Evidence: env.Mask(evidence), Duration: r.Duration})
		if r.Failed() && r.Severity == "critical" {
			failed = append(failed, fmt.Sprintf("%s (%s)", r.Name, env.Mask(r.Err)))
		}
	}
	if len(failed) > 0 {
		return ev, fmt.Errorf("critical %s check failed: %s", phase, strings.Join(failed, "; "))
	}
	return ev, nil
}
