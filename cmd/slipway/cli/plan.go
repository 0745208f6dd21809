package cli

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"time"

	"github.com/hashicorp/hcl/v2"
	"github.com/slipwayhq/slipway/cmd/slipway/views"
	"github.com/slipwayhq/slipway/executor"
	"github.com/slipwayhq/slipway/planner"
	"github.com/slipwayhq/slipway/planner/plan"
	"github.com/slipwayhq/slipway/planner/planfile"
	"github.com/slipwayhq/slipway/state"
	"github.com/slipwayhq/slipway/state/local"
	"github.com/urfave/cli/v2"
)

func planCommand(s *streams) *cli.Command {
	return &cli.Command{
		Name:  "plan",
		Usage: "show what a release would do against the recorded state and the live world",
		Description: `Example:
   slipway plan -var version=1.3.0
   slipway plan -out release.plan -var version=1.3.0 && slipway apply release.plan`,
		Flags: append(append(varFlags(), lockFlags()...),
			&cli.StringFlag{Name: "out", Usage: "save the plan to `FILE` for 'slipway apply FILE'"},
			&cli.BoolFlag{Name: "json", Usage: "print the plan as JSON"},
			&cli.BoolFlag{Name: "markdown", Usage: "print the plan as markdown, for a pull-request comment"},
			&cli.BoolFlag{Name: "no-color", Usage: "never colour the output"},
			&cli.BoolFlag{Name: "detailed-exitcode", Usage: "exit 0 with no changes, 2 with changes, 1 on error"},
			&cli.StringFlag{Name: "reason", Usage: "why this release is made (required by the hotfix strategy)"},
		),
		Action: func(c *cli.Context) error {
			se := newSession(s, c)
			p, done, err := se.makePlan(c.Context, "plan")
			if err != nil {
				return err
			}
			defer done()
			if err := se.render(p); err != nil {
				return err
			}
			// A test build may die or panic here, with the plan made
			// and nothing changed.
			executor.Faultpoint("plan")
			if out := c.String("out"); out != "" {
				if err := planfile.Save(out, p); err != nil {
					return fail(1, err, "")
				}
				if !c.Bool("json") {
					fmt.Fprintf(s.out, "\nSaved the plan to %s. Apply exactly this plan with: slipway apply %s\n", out, out)
				}
			}
			if c.Bool("detailed-exitcode") && p.Changed() {
				return exit(2)
			}
			return nil
		},
	}
}

// render prints a plan in the format the flags ask for.
func (se *session) render(p *plan.Plan) error {
	var err error
	switch {
	case se.c.Bool("json"):
		err = views.PlanJSON(se.s.out, p)
	case se.c.Bool("markdown"):
		err = views.PlanMarkdown(se.s.out, p)
	default:
		err = views.PlanText(se.s.out, p, views.Options{Color: colorOK(se.s.out, se.c)})
	}
	if err != nil {
		return fail(1, fmt.Errorf("render plan: %w", err), "")
	}
	return nil
}

// makePlan loads everything, takes the lock and plans. The returned func
// releases the lock and the providers; the caller keeps both for apply.
func (se *session) makePlan(ctx context.Context, op string) (*plan.Plan, func(), error) {
	if err := se.loadConfig(); err != nil {
		return nil, nil, err
	}
	if err := se.openBackend(); err != nil {
		return nil, nil, err
	}
	unlock, err := se.lock(ctx, op)
	if err != nil {
		return nil, nil, err
	}
	prior, err := se.readState()
	if err != nil {
		unlock()
		return nil, nil, err
	}
	journal, err := se.backend.ReadJournal()
	if err != nil {
		unlock()
		return nil, nil, fail(1, fmt.Errorf("read journal: %w", err), "")
	}
	if op != "plan" && journal != nil && prior.Release > 0 && journal.Release == prior.Release {
		// The interrupted operation finished and its state was stored,
		// but it stopped before its snapshot was: write it now, or
		// nothing could ever roll back to that release.
		if _, err := se.backend.WriteSnapshot(prior); err != nil {
			unlock()
			return nil, nil, fail(1, fmt.Errorf("complete the snapshot of release #%d: %w", prior.Release, err), "")
		}
	}
	key, err := se.backend.SecretKey()
	if err != nil {
		unlock()
		return nil, nil, fail(1, fmt.Errorf("read secret key: %w", err), "")
	}
	set, closeProv, err := se.providers()
	if err != nil {
		unlock()
		return nil, nil, err
	}
	done := func() { closeProv(); unlock() }
	obs, err := se.observe(ctx, set)
	if err != nil {
		done()
		return nil, nil, err
	}
	opts := planner.Options{Env: se.env, Now: time.Now(), SecretKey: key, Journal: journal, Reason: se.reason}
	if se.c.IsSet("reason") {
		opts.Reason = se.c.String("reason")
	}
	if opts.ConfigDir, err = filepath.Abs(se.dir); err != nil {
		done()
		return nil, nil, fail(1, err, "")
	}
	var p *plan.Plan
	var diags hcl.Diagnostics
	if op == "rollback" {
		target, err := se.rollbackTarget(prior, journal)
		if err != nil {
			done()
			return nil, nil, err
		}
		for _, svc := range target.Services {
			if obs.ImageIDs[svc.ImageID], err = set.Runtime.ImageExists(ctx, svc.ImageID); err != nil {
				done()
				return nil, nil, fail(1, fmt.Errorf("inspect image %s: %w", svc.ImageID, err), "")
			}
		}
		if opts.Reason == "" {
			opts.Reason = se.c.String("m")
		}
		opts.NoVerify = se.c.Bool("no-verify")
		if se.c.Bool("restore-db") {
			if opts.RestoreDB, err = se.restoreBackups(target); err != nil {
				done()
				return nil, nil, err
			}
		}
		p, diags = planner.Rollback(ctx, opts, se.cfg, prior, target, obs)
	} else {
		p, diags = planner.Plan(ctx, opts, se.cfg, prior, obs)
	}
	if len(diags) > 0 {
		se.printDiags(diags)
	}
	if diags.HasErrors() {
		done()
		return nil, nil, exit(1)
	}
	se.prov = set
	se.prior = prior
	return p, done, nil
}

// readState reads the state of the configuration's project, explaining a
// corrupt or newer file and refusing one of another project or env.
func (se *session) readState() (*state.State, error) {
	read := se.backend.Read
	if se.cfg != nil && se.cfg.Project != nil {
		read = func() (*state.State, error) { return se.backend.ReadAs(se.cfg.Project.Name) }
	}
	st, err := read()
	if errors.Is(err, local.ErrForeignState) || errors.Is(err, local.ErrUnsafeFile) {
		return nil, fail(1, err, "")
	}
	if err != nil {
		return nil, fail(1, fmt.Errorf("read state: %w", err), "the file was left as it is; restore it from a snapshot in "+se.backend.Dir()+"/snapshots or a backup")
	}
	return st, nil
}
