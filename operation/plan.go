package operation

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"time"

	"github.com/hashicorp/hcl/v2"
	"github.com/slipwayhq/slipway/config"
	"github.com/slipwayhq/slipway/executor"
	"github.com/slipwayhq/slipway/planner"
	"github.com/slipwayhq/slipway/planner/plan"
	"github.com/slipwayhq/slipway/planner/planfile"
	"github.com/slipwayhq/slipway/providers"
	"github.com/slipwayhq/slipway/state"
)

// plan makes a plan, shows it, and saves it to Out.
func (o *run) plan(ctx context.Context) (Result, error) {
	p, release, err := o.makePlan(ctx, KindPlan)
	if err != nil {
		return Result{}, err
	}
	defer release()
	if err := o.ui.Plan(p); err != nil {
		return Result{}, err
	}
	// A test build may die or panic here, with the plan made and nothing
	// changed.
	executor.Faultpoint("plan")
	if o.op.Out != "" {
		if err := planfile.Save(o.op.Out, p); err != nil {
			return Result{}, refuse(err, "")
		}
	}
	return Result{Plan: p}, nil
}

// apply plans (or reads the saved plan), shows and confirms it, executes
// it, and watches the release when the configuration says so.
func (o *run) apply(ctx context.Context) (Result, error) {
	var p *plan.Plan
	var release func()
	var err error
	if o.op.PlanFile != "" {
		p, release, err = o.savedPlan(ctx, o.op.PlanFile)
	} else {
		p, release, err = o.makePlan(ctx, KindApply)
	}
	if err != nil {
		return Result{}, err
	}
	defer func() { release() }()
	if o.op.PlanFile == "" {
		if err := o.ui.Plan(p); err != nil {
			return Result{Plan: p}, err
		}
	}
	if !p.Changed() {
		if p.Interrupted != nil {
			_ = o.backend.ClearJournal()
		}
		return Result{Plan: p}, nil
	}
	if o.op.PlanFile == "" && !o.op.AutoApprove && !o.ui.Confirm("Do you want to perform this release? Only 'yes' will be accepted.") {
		return Result{Plan: p}, refuse(errors.New("apply cancelled: nothing was changed"), "")
	}
	res, err := o.execute(ctx, p)
	// A service with a watch block keeps being analysed after the
	// release, with the lock released.
	if err != nil || !o.op.Watch || !hasWatch(o.cfg) {
		return res, err
	}
	release()
	release = func() {}
	o.ui.Say("\nWatching the release (stop with Ctrl-C; 'slipway watch' resumes it)...")
	return o.watch(ctx, 0)
}

// makePlan loads everything, takes the lock and plans the operation of
// kind (KindRollback returns to Target). The returned func releases the
// lock and the providers; the caller keeps both for executing the plan.
func (o *run) makePlan(ctx context.Context, kind Kind) (*plan.Plan, func(), error) {
	if err := o.open(true); err != nil {
		return nil, nil, err
	}
	unlock, err := o.lock(ctx, kind.String())
	if err != nil {
		return nil, nil, err
	}
	prior, journal, key, err := o.readForPlan(kind)
	if err != nil {
		unlock()
		return nil, nil, err
	}
	set, err := o.openWorld()
	if err != nil {
		unlock()
		return nil, nil, err
	}
	release := func() { set.Close(); unlock() }
	p, err := o.planWith(ctx, kind, set, prior, journal, key)
	if err != nil {
		release()
		return nil, nil, err
	}
	o.set, o.prior = set, prior
	return p, release, nil
}

// readForPlan reads, under the lock, the state, the journal of an
// operation that did not finish and the key of the secrets' HMACs. An
// operation that changes the world first writes the snapshot an
// interrupted operation stored its state for but did not write.
func (o *run) readForPlan(kind Kind) (*state.State, *state.Journal, []byte, error) {
	prior, err := o.readState()
	if err != nil {
		return nil, nil, nil, err
	}
	journal, err := o.backend.ReadJournal()
	if err != nil {
		return nil, nil, nil, refuse(fmt.Errorf("read journal: %w", err), "")
	}
	if kind != KindPlan && journal != nil && prior.Release > 0 && journal.Release == prior.Release {
		// The interrupted operation finished and its state was stored,
		// but it stopped before its snapshot was: write it now, or
		// nothing could ever roll back to that release.
		if _, err := o.backend.WriteSnapshot(prior); err != nil {
			return nil, nil, nil, refuse(fmt.Errorf("complete the snapshot of release #%d: %w", prior.Release, err), "")
		}
	}
	key, err := o.backend.SecretKey()
	if err != nil {
		return nil, nil, nil, refuse(fmt.Errorf("read secret key: %w", err), "")
	}
	return prior, journal, key, nil
}

// planWith observes the world and plans: a release, or for KindRollback
// the return to the target snapshot.
func (o *run) planWith(ctx context.Context, kind Kind, set *providers.Set, prior *state.State, journal *state.Journal, key []byte) (*plan.Plan, error) {
	obs, err := o.observe(ctx, set)
	if err != nil {
		return nil, err
	}
	opts := planner.Options{Env: o.op.Env, Now: time.Now(), SecretKey: key, Journal: journal, Reason: o.op.Reason, NoVerify: o.op.NoVerify, ForceBuild: o.op.Build}
	if opts.ConfigDir, err = filepath.Abs(o.cfg.Dir); err != nil {
		return nil, refuse(err, "")
	}
	var p *plan.Plan
	var diags hcl.Diagnostics
	if kind == KindRollback {
		target, err := o.rollbackTarget(prior, journal)
		if err != nil {
			return nil, err
		}
		if err := observeTargetImages(ctx, set.Runtime, target, obs); err != nil {
			return nil, err
		}
		if o.op.RestoreDB {
			if opts.RestoreDB, err = o.restoreBackups(target); err != nil {
				return nil, err
			}
		}
		p, diags = planner.Rollback(ctx, opts, o.cfg, prior, target, obs)
	} else {
		if set.Runtime != nil {
			if err := o.observeImages(ctx, set.Runtime, obs, kind); err != nil {
				return nil, err
			}
		}
		p, diags = planner.Plan(ctx, opts, o.cfg, prior, obs)
	}
	if len(diags) > 0 {
		o.ui.Diagnostics(diags, o.cfg.Files)
	}
	if diags.HasErrors() {
		return nil, shown
	}
	return p, nil
}

// hasWatch reports whether a service of cfg has a watch block.
func hasWatch(cfg *config.Config) bool {
	for _, svc := range cfg.Services {
		if svc.Watch != nil {
			return true
		}
	}
	return false
}
