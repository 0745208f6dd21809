package cli

import (
	"errors"
	"fmt"
	"strconv"

	"github.com/slipwayhq/slipway/state"
	"github.com/urfave/cli/v2"
)

func rollbackCommand(s *streams) *cli.Command {
	return &cli.Command{
		Name:      "rollback",
		Usage:     "return to an earlier release: by number, by version, or the previous one",
		ArgsUsage: "[RELEASE | VERSION]",
		Description: `Example:
   slipway rollback            # to the release before the current one
   slipway rollback -dry-run 3 # show what returning to release #3 would do
   slipway rollback -auto-approve -m "p95 over 5s" v1.2.3
   slipway rollback -no-verify 41  # emergency: skip the post-deploy checks (recorded)

The fast path starts the target's kept containers if they are stopped,
health-gates them and switches all traffic in one step; containers that are
gone are created again from the image id the target ran. Traffic moves
first; then the route file it replaced and the last 100 log lines of each
container of the release it left are archived beside the record, whose
incident report lists them ('slipway show -incident N').`,
		Flags: append(append(varFlags(), lockFlags()...),
			&cli.BoolFlag{Name: "dry-run", Usage: "show the rollback plan and change nothing"},
			&cli.BoolFlag{Name: "no-verify", Usage: "skip the post-deploy checks (emergency only); the record says so"},
			&cli.BoolFlag{Name: "progressive", Usage: "return step by step through canary steps and analysis (not supported yet)"},
			&cli.BoolFlag{Name: "restore-db", Usage: "also restore each database from the backup taken before the migrations that followed the target (after a fresh backup of it as it is)"},
			&cli.BoolFlag{Name: "auto-approve", Usage: "do not ask for 'yes'"},
			&cli.StringFlag{Name: "m", Usage: "why you roll back; kept in the record"},
			&cli.BoolFlag{Name: "json", Usage: "print the plan and the progress as JSON"},
			&cli.BoolFlag{Name: "no-color", Usage: "never colour the output"},
		),
		Action: func(c *cli.Context) error {
			se := newSession(s, c)
			if c.Bool("progressive") {
				return fail(1, errors.New("rollback -progressive is not supported yet: a rollback switches all traffic in one step, without canary steps or analysis; nothing was changed"),
					"roll back without -progressive, or release the earlier version with 'slipway apply' to go through its canary steps")
			}
			if c.Args().Len() > 1 {
				return fail(1, fmt.Errorf("rollback takes one release number or version, got %d arguments", c.Args().Len()), "")
			}
			se.target = c.Args().First()
			p, done, err := se.makePlan(c.Context, "rollback")
			if err != nil {
				return err
			}
			defer done()
			if !c.Bool("json") || c.Bool("dry-run") {
				if err := se.render(p); err != nil {
					return err
				}
			}
			if c.Bool("dry-run") {
				return nil
			}
			if !p.Changed() {
				if p.Interrupted != nil {
					// An apply killed before it changed anything: the
					// live release is already the target, so its journal
					// has nothing left to undo.
					_ = se.backend.ClearJournal()
				}
				return nil
			}
			if !c.Bool("auto-approve") && !se.confirm("Do you want to roll back? Only 'yes' will be accepted.") {
				return fail(1, errors.New("rollback cancelled: nothing was changed"), "")
			}
			return se.execute(c.Context, p)
		},
	}
}

// rollbackTarget resolves the rollback argument to a snapshot: a release
// number, a version some service ran, or by default the release before
// the current one (the current one itself after an interrupted apply).
func (se *session) rollbackTarget(prior *state.State, journal *state.Journal) (*state.State, error) {
	arg := se.target
	if journal != nil && arg == "" {
		// An apply was interrupted: rolling back returns to the release
		// that was live before it.
		if prior.Release == 0 {
			return state.New(prior.Project, prior.Env), nil
		}
		return se.snapshot(prior.Release)
	}
	if prior.Release == 0 {
		return nil, fail(1, errors.New("nothing to roll back: no release has been applied yet"), "")
	}
	releases, err := se.backend.Snapshots()
	if err != nil {
		return nil, fail(1, fmt.Errorf("list snapshots: %w", err), "")
	}
	if arg == "" {
		for i := len(releases) - 1; i >= 0; i-- {
			if releases[i] < prior.Release {
				return se.snapshot(releases[i])
			}
		}
		return nil, fail(1, fmt.Errorf("no release before #%d has a snapshot", prior.Release), "run 'slipway history' to list releases")
	}
	if n, err := strconv.Atoi(arg); err == nil {
		return se.snapshot(n)
	}
	for i := len(releases) - 1; i >= 0; i-- {
		st, err := se.backend.Snapshot(releases[i])
		if err != nil {
			continue
		}
		for _, svc := range st.Services {
			if svc.Version == arg || svc.Image == arg {
				return st, nil
			}
		}
	}
	return nil, fail(1, fmt.Errorf("no release ran version %q", arg), "run 'slipway history' to list releases and versions")
}

func (se *session) snapshot(n int) (*state.State, error) {
	st, err := se.backend.Snapshot(n)
	if err != nil {
		return nil, fail(1, fmt.Errorf("read snapshot of release #%d: %w", n, err), "run 'slipway history' to list releases")
	}
	return st, nil
}

// restoreBackups finds, for each database, the backup to restore when
// rolling back to target: the first one taken after it, before the
// migrations of the release that followed.
func (se *session) restoreBackups(target *state.State) (map[string]*state.Backup, error) {
	releases, err := se.backend.Snapshots()
	if err != nil {
		return nil, fail(1, fmt.Errorf("list snapshots: %w", err), "")
	}
	out := map[string]*state.Backup{}
	for _, db := range se.cfg.Postgres {
		for _, n := range releases {
			if n <= target.Release {
				continue
			}
			st, err := se.backend.Snapshot(n)
			if err != nil {
				continue
			}
			if d := st.Databases[db.Name]; d != nil && d.LastBackup != nil && d.LastBackup.Release > target.Release {
				out[db.Name] = d.LastBackup
				break
			}
		}
		if out[db.Name] == nil {
			return nil, fail(1, fmt.Errorf("postgres.%s: no backup was taken after release #%d, so there is nothing to restore it from", db.Name, target.Release), "roll back without -restore-db")
		}
	}
	return out, nil
}
