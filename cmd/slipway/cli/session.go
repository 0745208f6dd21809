package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/slipwayhq/slipway/checks"
	"github.com/slipwayhq/slipway/config"
	"github.com/slipwayhq/slipway/internal/redact"
	"github.com/slipwayhq/slipway/internal/safedir"
	"github.com/slipwayhq/slipway/planner"
	"github.com/slipwayhq/slipway/providers"
	"github.com/slipwayhq/slipway/providers/factory"
	"github.com/slipwayhq/slipway/state"
	"github.com/slipwayhq/slipway/state/local"
	"github.com/urfave/cli/v2"
	"golang.org/x/term"
)

// session is what a command works with: configuration, the state backend
// and the providers, opened as the command needs them.
type session struct {
	s       *streams
	c       *cli.Context
	dir     string
	env     string
	cfg     *config.Config
	backend *local.Backend
	prov    providers.Set
	prior   *state.State
	target  string         // rollback target argument
	reason  string         // why, when no flag says (a watch's rollback)
	resume  *state.Journal // promote/abort: the paused operation
	abort   bool
}

func newSession(s *streams, c *cli.Context) *session {
	return &session{s: s, c: c, dir: c.String("chdir"), env: c.String("env")}
}

// loadConfig loads and validates the configuration, printing diagnostics.
func (se *session) loadConfig() error {
	opts := config.LoadOptions{Env: se.env, Environ: environ()}
	for _, f := range se.c.Command.Flags {
		if f.Names()[0] == "var" {
			opts.VarFiles = multiValue(se.c, "var-file")
			opts.Vars = multiValue(se.c, "var")
		}
	}
	cfg, diags := config.Load(se.dir, opts)
	se.cfg = cfg
	se.s.crash.masking(se.mask)
	if !diags.HasErrors() {
		diags = append(diags, checks.Diagnostics(cfg)...)
	}
	if len(diags) > 0 {
		se.printDiags(diags)
	}
	if diags.HasErrors() {
		return exit(1)
	}
	cfg.ResolvePaths()
	return nil
}

// printDiags writes diags with their source snippets, except for those
// whose source would show a sensitive value (config.HidesSource): their
// file and line are written, the lines themselves are not.
func (se *session) printDiags(diags hcl.Diagnostics) {
	var files map[string]*hcl.File
	if se.cfg != nil {
		files = se.cfg.Files
	}
	writeDiags(se.s.err, diags, files, colorOK(se.s.err, se.c), config.HidesSource)
}

// writeDiags writes diags to w with the source lines files hold, except
// for the diagnostics hide reports: for those, only the file and line.
func writeDiags(w io.Writer, diags hcl.Diagnostics, files map[string]*hcl.File, color bool, hide func(*hcl.Diagnostic) bool) {
	tw := hcl.NewDiagnosticTextWriter(w, files, 100, color)
	for _, d := range diags {
		if !hide(d) {
			_ = tw.WriteDiagnostic(d)
			continue
		}
		// Without the file, HCL writes "(source code not available)" in
		// place of the lines; say why instead.
		var b strings.Builder
		_ = hcl.NewDiagnosticTextWriter(&b, nil, 100, color).WriteDiagnostic(d)
		fmt.Fprint(w, strings.Replace(b.String(), "(source code not available)", "(not shown: the file holds, or may hold, a sensitive value)", 1))
	}
}

// colorOK reports whether to colour output: only on a TTY, never with
// NO_COLOR or -no-color.
func colorOK(w io.Writer, c *cli.Context) bool {
	if os.Getenv("NO_COLOR") != "" || (c != nil && c.IsSet("no-color") && c.Bool("no-color")) {
		return false
	}
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// openBackend opens the state namespace of the configuration and env.
func (se *session) openBackend() error {
	dir := filepath.Join(se.dir, ".slipway")
	if se.cfg != nil && se.cfg.Project != nil && se.cfg.Project.StatePath != "" {
		dir = se.cfg.Project.StatePath
		if !filepath.IsAbs(dir) {
			dir = filepath.Join(se.dir, dir)
		}
	}
	b, err := local.Open(dir, se.env)
	if err != nil {
		return fail(1, fmt.Errorf("open state: %w", err), "")
	}
	se.backend = b
	se.s.crash.opened(b)
	return nil
}

// lock takes the state lock for operation, printing the holder when it is
// held.
func (se *session) lock(ctx context.Context, operation string) (func(), error) {
	unlock, err := se.backend.Lock(ctx, local.NewLockInfo(operation), lockTimeout(se.c))
	var le *local.LockedError
	if errors.As(err, &le) && le.Info.ID == "" {
		// Its holder runs (flock is held) but its info does not parse:
		// there is no id to give force-unlock, which would refuse anyway.
		return nil, fail(1, fmt.Errorf("the state is locked by another process, and its lock info in %s does not parse", le.Path),
			fmt.Sprintf("wait for it with -lock-timeout=5m, or stop the process that holds %s (fuser -v names it)", le.Path))
	}
	if errors.As(err, &le) {
		return nil, fail(1, fmt.Errorf("%s\n  ID:        %s\n  Operation: %s\n  Who:       %s\n  PID:       %d\n  Created:   %s",
			"the state is locked by another slipway", le.Info.ID, le.Info.Operation, le.Info.Who, le.Info.PID, le.Info.Created.Format("2006-01-02 15:04:05 MST")),
			fmt.Sprintf("wait for it with -lock-timeout=5m, or run 'slipway force-unlock %s' if no slipway is running", le.Info.ID))
	}
	if err != nil {
		return nil, fail(1, fmt.Errorf("lock state: %w", err), "")
	}
	return func() { _ = unlock() }, nil
}

// world builds the providers: the real ones, or the ones a test gave.
func (se *session) world() World {
	if se.s.world != nil {
		return se.s.world
	}
	return factory.World{}
}

// providers builds the providers the configuration declares through the
// world's factory.
func (se *session) providers() (providers.Set, func(), error) {
	var set providers.Set
	w := se.world()
	rt, err := w.Runtime(se.cfg)
	if err != nil {
		return set, nil, fail(1, fmt.Errorf("connect to docker: %w", err), "")
	}
	set.Runtime = rt
	r, err := w.Router(se.cfg)
	if err != nil {
		set.Close()
		return set, nil, fail(1, fmt.Errorf("nginx: %w", err), "")
	}
	set.Router = r
	for _, db := range se.cfg.Postgres {
		pg, err := w.Database(se.cfg, db.Name)
		if err != nil {
			set.Close()
			return set, nil, fail(1, fmt.Errorf("postgres.%s: %w", db.Name, err), "")
		}
		if set.Databases == nil {
			set.Databases = map[string]providers.Database{}
		}
		set.Databases[db.Name] = pg
	}
	return set, set.Close, nil
}

// mask hides every sensitive value of the configuration in free text s,
// by the rule of internal/redact (values shorter than redact.MinLen are
// left alone).
func (se *session) mask(s string) string {
	if se.cfg == nil {
		return s
	}
	return redact.New(se.cfg.SensitiveValues()...).Mask(s)
}

// rel resolves a path of the configuration against its directory.
func (se *session) rel(p string) string {
	if p == "" || filepath.IsAbs(p) {
		return p
	}
	return filepath.Join(se.dir, p)
}

// observe reads the live world for the planner.
func (se *session) observe(ctx context.Context, set providers.Set) (*providers.Observations, error) {
	obs := &providers.Observations{Images: map[string]string{}, ImageIDs: map[string]bool{}}
	// A backup directory an apply would refuse is refused now, before
	// anything changes.
	for _, db := range se.cfg.Postgres {
		if db.Backup != nil {
			if err := safedir.Check(db.Backup.Dir, "backup directory"); err != nil {
				return nil, fail(1, fmt.Errorf("postgres.%s: %w", db.Name, err), "")
			}
		}
	}
	if set.Runtime != nil {
		if p, ok := set.Runtime.(providers.Pinger); ok {
			if err := p.Ping(ctx); err != nil {
				return nil, fail(1, err, "start the Docker engine, or point docker { host } or DOCKER_HOST at it")
			}
		}
		cs, err := set.Runtime.Observe(ctx, se.cfg.Project.Name, se.env)
		if err != nil {
			return nil, fail(1, fmt.Errorf("observe containers: %w", err), "")
		}
		obs.Containers = cs
		for _, svc := range se.cfg.Services {
			id, err := set.Runtime.ResolveImage(ctx, svc.Image)
			if errors.Is(err, providers.ErrImageNotFound) {
				continue
			}
			if err != nil {
				return nil, fail(1, fmt.Errorf("inspect image %q: %w", svc.Image, err), "")
			}
			obs.Images[svc.Image] = id
			if ip, ok := set.Runtime.(providers.ImagePorts); ok && svc.Port > 0 {
				ports, err := ip.ExposedPorts(ctx, svc.Image)
				if err != nil {
					return nil, fail(1, fmt.Errorf("inspect image %q: %w", svc.Image, err), "")
				}
				if obs.ExposedPorts == nil {
					obs.ExposedPorts = map[string][]int{}
				}
				obs.ExposedPorts[svc.Image] = ports
			}
		}
	}
	for _, db := range se.cfg.Postgres {
		o, err := observeDatabase(ctx, db, set.Databases[db.Name])
		if err != nil {
			return nil, fail(1, fmt.Errorf("postgres.%s: %w", db.Name, err), "check the database url and that the server is running")
		}
		if obs.Databases == nil {
			obs.Databases = map[string]*providers.DatabaseObservation{}
		}
		obs.Databases[db.Name] = o
	}
	if set.Router != nil {
		rs, err := set.Router.Observe(ctx, se.cfg.Project.Name, se.env)
		if err != nil {
			return nil, fail(1, fmt.Errorf("observe nginx files: %w", err), "")
		}
		obs.Routes = rs
		if sp, ok := set.Router.(providers.SwitchPlanner); ok {
			obs.Switch = map[string]providers.SwitchPlan{}
			for _, svc := range se.cfg.Services {
				if svc.Route == nil {
					continue
				}
				if sw, err := sp.PlanSwitch(ctx, planner.SwitchSpec(se.cfg, se.env, svc)); err == nil {
					obs.Switch[svc.Name] = sw
				}
			}
		}
		if lc, ok := set.Router.(providers.ListenChecker); ok {
			for _, svc := range se.cfg.Services {
				if svc.Route == nil {
					continue
				}
				port := svc.Route.Listen
				if _, done := obs.Listen[port]; done {
					continue
				}
				lp, err := lc.CheckListen(ctx, port)
				if err != nil {
					return nil, fail(1, fmt.Errorf("check who listens on port %d: %w", port, err), "")
				}
				if obs.Listen == nil {
					obs.Listen = map[int]providers.ListenPort{}
				}
				obs.Listen[port] = lp
			}
		}
	}
	return obs, nil
}

// who names the person or job running slipway.
func who() string {
	name := "unknown"
	if u, err := user.Current(); err == nil {
		name = u.Username
	}
	host, _ := os.Hostname()
	return name + "@" + host
}

// gitCommit is the commit of the configuration directory, if it is in git.
func gitCommit(dir string) string {
	out, err := exec.Command("git", "-C", dir, "rev-parse", "HEAD").Output()
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(out))
}

// observeDatabase reads a database's migrations table and its migration
// files, and compares them.
func observeDatabase(ctx context.Context, db *config.Postgres, pg providers.Database) (*providers.DatabaseObservation, error) {
	o := &providers.DatabaseObservation{}
	if pg == nil {
		return o, nil
	}
	if err := pg.Ping(ctx); err != nil {
		return nil, err
	}
	applied, err := pg.Applied(ctx)
	if err != nil {
		return nil, err
	}
	o.Applied = applied
	if ml, ok := pg.(providers.MigrationLister); ok {
		files, listed, err := ml.Migrations()
		if err != nil {
			return nil, err
		}
		if listed {
			o.Files = files
			o.Pending, o.Problem = ml.Pending(files, applied)
		}
	}
	return o, nil
}
