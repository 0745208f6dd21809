package cli

import (
	"errors"
	"fmt"
	"os"
	"strconv"

	"github.com/slipwayhq/slipway/cmd/slipway/views"
	"github.com/slipwayhq/slipway/operation"
	"github.com/slipwayhq/slipway/planner/planfile"
	"github.com/slipwayhq/slipway/state/statefile"
	"github.com/urfave/cli/v2"
)

func historyCommand(s *streams) *cli.Command {
	return &cli.Command{
		Name:      "history",
		Usage:     "list the operations recorded for this project and environment",
		ArgsUsage: "[N]",
		Description: `Example:
   slipway history        # every operation
   slipway history -json 3  # the last three, as JSON`,
		Flags: []cli.Flag{&cli.BoolFlag{Name: "json", Usage: "print as JSON"}},
		Action: func(c *cli.Context) error {
			res, err := operation.Run(c.Context, newOperation(s, c, operation.KindHistory), s.world)
			if err != nil {
				return err
			}
			recs := res.Records
			if n := c.Args().First(); n != "" {
				k, err := strconv.Atoi(n)
				if err != nil || k < 1 {
					return fail(1, fmt.Errorf("history takes a count of operations, got %q", n), "")
				}
				recs = recs[len(recs)-min(k, len(recs)):]
			}
			if c.Bool("json") {
				return views.HistoryJSON(s.out, recs)
			}
			return views.HistoryText(s.out, recs)
		},
	}
}

func showCommand(s *streams) *cli.Command {
	return &cli.Command{
		Name:      "show",
		Usage:     "print a saved plan file, or the record of a release (its snapshot with -state)",
		ArgsUsage: "PLANFILE | RELEASE",
		Description: `Example:
   slipway show release.plan
   slipway show 42            # the record of release #42: steps, checks, incident report
   slipway show -incident 42  # only its incident report
   slipway show -state -json 42`,
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "json", Usage: "print as JSON"},
			&cli.BoolFlag{Name: "markdown", Usage: "print a plan as markdown"},
			&cli.BoolFlag{Name: "state", Usage: "print the snapshot of the release instead of its record"},
			&cli.BoolFlag{Name: "incident", Usage: "print only the incident report of the release's record"},
			&cli.BoolFlag{Name: "no-color", Usage: "never colour the output"},
		},
		Action: func(c *cli.Context) error {
			arg := c.Args().First()
			if arg == "" {
				return fail(1, errors.New("show needs a plan file or a release number"), "run 'slipway history' to list releases")
			}
			n, err := strconv.Atoi(arg)
			if err != nil {
				return showPlan(s, c, arg)
			}
			op := newOperation(s, c, operation.KindShow)
			op.Release, op.State = n, c.Bool("state")
			res, err := operation.Run(c.Context, op, s.world)
			switch {
			case err != nil:
				return err
			case res.Snapshot != nil && c.Bool("json"):
				return statefile.Write(s.out, res.Snapshot)
			case res.Snapshot != nil:
				return views.SnapshotText(s.out, res.Snapshot)
			}
			if err := views.Record(s.out, res.Records[0], c.Bool("json"), c.Bool("incident")); err != nil {
				return fail(1, err, "")
			}
			return nil
		},
	}
}

// showPlan prints the saved plan file path.
func showPlan(s *streams, c *cli.Context, path string) error {
	if _, err := os.Stat(path); err != nil {
		return fail(1, fmt.Errorf("%q is neither a release number nor a plan file", path), "")
	}
	p, err := planfile.Load(path)
	if err != nil {
		return fail(1, err, "")
	}
	return (&terminal{s: s, c: c}).Plan(p)
}

func forceUnlockCommand(s *streams) *cli.Command {
	return &cli.Command{
		Name:      "force-unlock",
		Usage:     "clear the lock info left by a slipway that is no longer running",
		ArgsUsage: "LOCK_ID",
		Description: `Lock info that does not parse records no id to give: -unreadable clears
such info, and nothing else.

Example:
   slipway force-unlock 8f2c6a1e-...
   slipway force-unlock -unreadable`,
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "unreadable", Usage: "clear lock info that does not parse (it records no id to give)"},
		},
		Action: func(c *cli.Context) error {
			op := newOperation(s, c, operation.KindForceUnlock)
			op.LockID, op.Unreadable = c.Args().First(), c.Bool("unreadable")
			switch {
			case op.LockID != "" && op.Unreadable:
				return fail(1, errors.New("force-unlock takes a lock id or -unreadable, not both"), "give the lock id when the lock info records one")
			case op.LockID == "" && !op.Unreadable:
				return fail(1, errors.New("force-unlock needs the lock id"), "the lock id is printed by the command that found the state locked")
			}
			if _, err := operation.Run(c.Context, op, s.world); err != nil {
				return err
			}
			fmt.Fprintln(s.out, "The state lock was released.")
			return nil
		},
	}
}

func versionCommand(s *streams) *cli.Command {
	return &cli.Command{
		Name:  "version",
		Usage: "print slipway's version",
		Action: func(c *cli.Context) error {
			fmt.Fprintf(s.out, "slipway %s\n", Version)
			return nil
		},
	}
}
