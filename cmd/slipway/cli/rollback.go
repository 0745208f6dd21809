package cli

import (
	"errors"
	"fmt"

	"github.com/slipwayhq/slipway/operation"
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
			if c.Bool("progressive") {
				return fail(1, errors.New("rollback -progressive is not supported yet: a rollback switches all traffic in one step, without canary steps or analysis; nothing was changed"),
					"roll back without -progressive, or release the earlier version with 'slipway apply' to go through its canary steps")
			}
			if c.Args().Len() > 1 {
				return fail(1, fmt.Errorf("rollback takes one release number or version, got %d arguments", c.Args().Len()), "")
			}
			op := newOperation(s, c, operation.KindRollback)
			op.Target, op.Reason, op.AutoApprove = c.Args().First(), c.String("m"), c.Bool("auto-approve")
			op.DryRun, op.NoVerify, op.RestoreDB = c.Bool("dry-run"), c.Bool("no-verify"), c.Bool("restore-db")
			_, err := operation.Run(c.Context, op, s.world)
			return err
		},
	}
}

func promoteCommand(s *streams) *cli.Command {
	return &cli.Command{
		Name:  "promote",
		Usage: "continue a release paused at an approval gate",
		Description: `Example:
   slipway apply -var version=1.3.0   # exits 4 at the approval gate
   slipway promote                    # continues from the gate`,
		Flags: append(append(varFlags(), lockFlags()...),
			&cli.BoolFlag{Name: "json", Usage: "stream one JSON event per line"},
			&cli.BoolFlag{Name: "no-color", Usage: "never colour the output"},
			&cli.BoolFlag{Name: "auto-approve", Usage: "pass later approval gates too"},
		),
		Action: func(c *cli.Context) error { return resume(s, c, operation.KindPromote) },
	}
}

func abortCommand(s *streams) *cli.Command {
	return &cli.Command{
		Name:  "abort",
		Usage: "undo a release paused at an approval gate: traffic back to stable, the candidate removed",
		Description: `Example:
   slipway abort`,
		Flags: append(append(varFlags(), lockFlags()...),
			&cli.BoolFlag{Name: "json", Usage: "stream one JSON event per line"},
			&cli.BoolFlag{Name: "no-color", Usage: "never colour the output"},
		),
		Action: func(c *cli.Context) error { return resume(s, c, operation.KindAbort) },
	}
}

// resume continues (promote) or undoes (abort) a paused release.
func resume(s *streams, c *cli.Context, kind operation.Kind) error {
	op := newOperation(s, c, kind)
	op.AutoApprove = c.Bool("auto-approve")
	_, err := operation.Run(c.Context, op, s.world)
	return err
}
