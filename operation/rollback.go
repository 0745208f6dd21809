package operation

import (
	"context"
	"errors"
	"fmt"
	"strconv"

	"github.com/slipwayhq/slipway/state"
)

// rollback plans the return to Target, shows it, and (unless DryRun)
// confirms and executes it.
func (o *run) rollback(ctx context.Context) (Result, error) {
	p, release, err := o.makePlan(ctx, KindRollback)
	if err != nil {
		return Result{}, err
	}
	defer release()
	if err := o.ui.Plan(p); err != nil {
		return Result{Plan: p}, err
	}
	if o.op.DryRun {
		return Result{Plan: p}, nil
	}
	if !p.Changed() {
		if p.Interrupted != nil {
			// An apply killed before it changed anything: the live
			// release is already the target, so its journal has nothing
			// left to undo.
			_ = o.backend.ClearJournal()
		}
		return Result{Plan: p}, nil
	}
	if !o.op.AutoApprove && !o.ui.Confirm("Do you want to roll back? Only 'yes' will be accepted.") {
		return Result{Plan: p}, refuse(errors.New("rollback cancelled: nothing was changed"), "")
	}
	return o.execute(ctx, p)
}

// rollbackTarget resolves Target to a snapshot: a release number, a
// version some service ran, or by default the release before the current
// one (the current one itself after an interrupted apply).
func (o *run) rollbackTarget(prior *state.State, journal *state.Journal) (*state.State, error) {
	arg := o.op.Target
	if journal != nil && arg == "" {
		// An apply was interrupted: rolling back returns to the release
		// that was live before it.
		if prior.Release == 0 {
			return state.New(prior.Project, prior.Env), nil
		}
		return o.snapshot(prior.Release)
	}
	if prior.Release == 0 {
		return nil, refuse(errors.New("nothing to roll back: no release has been applied yet"), "")
	}
	releases, err := o.backend.Snapshots()
	if err != nil {
		return nil, refuse(fmt.Errorf("list snapshots: %w", err), "")
	}
	if arg == "" {
		for i := len(releases) - 1; i >= 0; i-- {
			if releases[i] < prior.Release {
				return o.snapshot(releases[i])
			}
		}
		return nil, refuse(fmt.Errorf("no release before #%d has a snapshot", prior.Release), "run 'slipway history' to list releases")
	}
	if n, err := strconv.Atoi(arg); err == nil {
		return o.snapshot(n)
	}
	for i := len(releases) - 1; i >= 0; i-- {
		st, err := o.backend.Snapshot(releases[i])
		if err != nil {
			continue
		}
		for _, svc := range st.Services {
			if svc.Version == arg || svc.Image == arg {
				return st, nil
			}
		}
	}
	return nil, refuse(fmt.Errorf("no release ran version %q", arg), "run 'slipway history' to list releases and versions")
}

func (o *run) snapshot(n int) (*state.State, error) {
	st, err := o.backend.Snapshot(n)
	if err != nil {
		return nil, refuse(fmt.Errorf("read snapshot of release #%d: %w", n, err), "run 'slipway history' to list releases")
	}
	return st, nil
}

// restoreBackups finds, for each database, the backup to restore when
// rolling back to target: the first one taken after it, before the
// migrations of the release that followed.
func (o *run) restoreBackups(target *state.State) (map[string]*state.Backup, error) {
	releases, err := o.backend.Snapshots()
	if err != nil {
		return nil, refuse(fmt.Errorf("list snapshots: %w", err), "")
	}
	out := map[string]*state.Backup{}
	for _, db := range o.cfg.Postgres {
		out[db.Name] = o.backupAfter(db.Name, target.Release, releases)
		if out[db.Name] == nil {
			return nil, refuse(fmt.Errorf("postgres.%s: no backup was taken after release #%d, so there is nothing to restore it from", db.Name, target.Release), "roll back without -restore-db")
		}
	}
	return out, nil
}

// backupAfter returns the last backup of database db that the first
// snapshot after release records as taken after it; nil when none does.
func (o *run) backupAfter(db string, release int, releases []int) *state.Backup {
	for _, n := range releases {
		if n <= release {
			continue
		}
		st, err := o.backend.Snapshot(n)
		if err != nil {
			continue
		}
		if d := st.Databases[db]; d != nil && d.LastBackup != nil && d.LastBackup.Release > release {
			return d.LastBackup
		}
	}
	return nil
}
