package operation

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/slipwayhq/slipway/checks"
	"github.com/slipwayhq/slipway/config"
	"github.com/slipwayhq/slipway/internal/redact"
	"github.com/slipwayhq/slipway/providers"
	"github.com/slipwayhq/slipway/state"
	"github.com/slipwayhq/slipway/state/local"
)

// run is one Run call: the operation, and what it opened so far.
type run struct {
	op    Operation
	world World
	ui    UI

	cfg     *config.Config
	backend *local.Backend
	prior   *state.State   // the state planned against
	set     *providers.Set // the providers, while the plan is applied
	resumed *state.Journal // promote and abort: the paused operation
	mask    func(string) string
}

// loadConfig loads the configuration and shows its diagnostics; with
// validateChecks the attributes of each check block are validated too.
// Nothing runs on a configuration with errors.
func (o *run) loadConfig(validateChecks bool) error {
	opts := config.LoadOptions{Env: o.op.Env, Environ: os.Environ(), VarFiles: o.op.VarFiles, Vars: o.op.Vars}
	cfg, diags := config.Load(o.op.Dir, opts)
	o.cfg = cfg
	o.mask = func(s string) string { return redact.New(cfg.SensitiveValues()...).Mask(s) }
	if o.op.Crash != nil {
		o.op.Crash.Masking(o.mask)
	}
	if validateChecks && !diags.HasErrors() {
		diags = append(diags, checks.Diagnostics(cfg)...)
	}
	if len(diags) > 0 {
		o.ui.Diagnostics(diags, cfg.Files)
	}
	if diags.HasErrors() {
		return shown
	}
	cfg.ResolvePaths()
	return nil
}

// openBackend opens the state namespace of the configuration and env.
func (o *run) openBackend() error {
	dir := filepath.Join(o.op.Dir, ".slipway")
	if p := o.cfg.Project; p != nil && p.StatePath != "" {
		dir = o.cfg.Rel(p.StatePath)
	}
	b, err := local.Open(dir, o.op.Env)
	if err != nil {
		return refuse(fmt.Errorf("open state: %w", err), "")
	}
	o.backend = b
	if o.op.Crash != nil {
		o.op.Crash.Opened(b)
	}
	return nil
}

// open loads the configuration and opens its state namespace.
func (o *run) open(validateChecks bool) error {
	if err := o.loadConfig(validateChecks); err != nil {
		return err
	}
	return o.openBackend()
}

// lock takes the state lock for what, saying who holds it when it is
// held.
func (o *run) lock(ctx context.Context, what string) (func(), error) {
	unlock, err := o.backend.Lock(ctx, local.NewLockInfo(what), o.op.LockTimeout)
	var le *local.LockedError
	if errors.As(err, &le) && le.Info.ID == "" {
		// Its holder runs (flock is held) but its info does not parse:
		// there is no id to give force-unlock, which would refuse anyway.
		return nil, refuse(fmt.Errorf("the state is locked by another process, and its lock info in %s does not parse", le.Path),
			fmt.Sprintf("wait for it with -lock-timeout=5m, or stop the process that holds %s (fuser -v names it)", le.Path))
	}
	if errors.As(err, &le) {
		return nil, refuse(fmt.Errorf("%s\n  ID:        %s\n  Operation: %s\n  Who:       %s\n  PID:       %d\n  Created:   %s",
			"the state is locked by another slipway", le.Info.ID, le.Info.Operation, le.Info.Who, le.Info.PID, le.Info.Created.Format("2006-01-02 15:04:05 MST")),
			fmt.Sprintf("wait for it with -lock-timeout=5m, or run 'slipway force-unlock %s' if no slipway is running", le.Info.ID))
	}
	if err != nil {
		return nil, refuse(fmt.Errorf("lock state: %w", err), "")
	}
	return func() { _ = unlock() }, nil
}

// readState reads the state of the configuration's project, explaining a
// corrupt or newer file and refusing one of another project or env.
func (o *run) readState() (*state.State, error) {
	st, err := o.backend.ReadAs(o.cfg.Project.Name)
	if errors.Is(err, local.ErrForeignState) || errors.Is(err, local.ErrUnsafeFile) {
		return nil, refuse(err, "")
	}
	if err != nil {
		return nil, refuse(fmt.Errorf("read state: %w", err), "the file was left as it is; restore it from a snapshot in "+o.backend.Dir()+"/snapshots or a backup")
	}
	return st, nil
}

// openWorld builds the providers the configuration declares.
func (o *run) openWorld() (*providers.Set, error) {
	set := &providers.Set{}
	rt, err := o.world.Runtime(o.cfg)
	if err != nil {
		return nil, refuse(fmt.Errorf("connect to docker: %w", err), "")
	}
	set.Runtime = rt
	if set.Router, err = o.world.Router(o.cfg); err != nil {
		set.Close()
		return nil, refuse(fmt.Errorf("nginx: %w", err), "")
	}
	for _, db := range o.cfg.Postgres {
		pg, err := o.world.Database(o.cfg, db.Name)
		if err != nil {
			set.Close()
			return nil, refuse(fmt.Errorf("postgres.%s: %w", db.Name, err), "")
		}
		if set.Databases == nil {
			set.Databases = map[string]providers.Database{}
		}
		set.Databases[db.Name] = pg
	}
	return set, nil
}
