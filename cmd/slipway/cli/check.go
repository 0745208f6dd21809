package cli

import (
	"fmt"
	"strings"

	"github.com/slipwayhq/slipway/checks"
	"github.com/slipwayhq/slipway/cmd/slipway/views"
	"github.com/slipwayhq/slipway/operation"
	"github.com/urfave/cli/v2"
)

// checkCommand is `slipway check`: run the check blocks of one phase and
// exit 0 when all pass, 1 when only warnings fail, 2 when a critical check
// fails (or, with -strict, any check).
func checkCommand(s *streams) *cli.Command {
	return &cli.Command{
		Name:  "check",
		Usage: "run the configuration's checks now and report each with its evidence",
		Description: `Runs the check blocks of one phase in parallel, each bounded by its timeout.

Exit codes: 0 all passed (skips included), 1 only warning checks failed,
2 a critical check failed (with -strict: any check failed).

Example:
   slipway check
   slipway check -phase post -skip slow
   slipway check -phase preview -candidate http://127.0.0.1:49153 -json`,
		Flags: append(varFlags(),
			&cli.StringFlag{Name: "phase", Usage: "run the checks of `PHASE`: pre, preview, post or all", Value: "pre"},
			&cli.BoolFlag{Name: "quick", Usage: "leave out checks tagged " + checks.SlowTag},
			&cli.GenericFlag{Name: "skip", Usage: "leave out checks tagged `TAG` (repeatable)", Value: &multi{}},
			&cli.BoolFlag{Name: "strict", Usage: "exit 2 when any check fails, warnings included"},
			&cli.StringFlag{Name: "candidate", Usage: "`URL` that {{candidate.url}} stands for in preview checks (http://127.0.0.1:PORT)"},
			&cli.IntFlag{Name: "parallel", Usage: "run at most `N` checks at once", Value: checks.DefaultParallel},
			&cli.BoolFlag{Name: "json", Usage: "print the results as JSON"},
			&cli.BoolFlag{Name: "no-color", Usage: "never colour the output"},
		),
		Action: func(c *cli.Context) error {
			phase := c.String("phase")
			switch phase {
			case "pre", "preview", "post", "all":
			default:
				return fail(1, fmt.Errorf("unknown phase %q", phase), "use -phase pre, preview, post or all")
			}
			if cand := c.String("candidate"); cand != "" && !strings.HasPrefix(cand, "http://") && !strings.HasPrefix(cand, "https://") {
				return fail(1, fmt.Errorf("candidate %q is not an http:// URL", cand), "give the candidate's address as -candidate http://127.0.0.1:PORT")
			}
			op := newOperation(s, c, operation.KindCheck)
			op.Check = operation.CheckOptions{Phase: phase, Skip: multiValue(c, "skip"), Quick: c.Bool("quick"), Strict: c.Bool("strict"),
				Candidate: c.String("candidate"), Parallel: c.Int("parallel")}
			res, err := operation.Run(c.Context, op, s.world)
			if err != nil {
				return err
			}
			if c.Bool("json") {
				err = views.ChecksJSON(s.out, phase, res.Checks, res.CheckCode)
			} else {
				err = views.ChecksText(s.out, phase, res.Checks, res.CheckCode)
			}
			if err != nil {
				return fail(1, fmt.Errorf("write results: %w", err), "")
			}
			if res.CheckCode != 0 {
				return exit(res.CheckCode)
			}
			return nil
		},
	}
}
