package cli

import (
	"errors"
	"fmt"

	"github.com/slipwayhq/slipway/operation"
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
			&cli.BoolFlag{Name: "build", Usage: "build every image with a build block, even one built from the same source before"},
		),
		Action: func(c *cli.Context) error {
			op := newOperation(s, c, operation.KindPlan)
			op.Out, op.Reason, op.Build = c.String("out"), c.String("reason"), c.Bool("build")
			res, err := operation.Run(c.Context, op, s.world)
			if err != nil {
				return err
			}
			if op.Out != "" && !c.Bool("json") {
				fmt.Fprintf(s.out, "\nSaved the plan to %s. Apply exactly this plan with: slipway apply %s\n", op.Out, op.Out)
			}
			if c.Bool("detailed-exitcode") && res.Plan.Changed() {
				return exit(2)
			}
			return nil
		},
	}
}

func applyCommand(s *streams) *cli.Command {
	return &cli.Command{
		Name:      "apply",
		Usage:     "perform a release: plan it (or take a saved plan), ask, then do it",
		ArgsUsage: "[PLANFILE]",
		Description: `Example:
   slipway apply -var version=1.3.0
   slipway apply -auto-approve release.plan`,
		Flags: append(append(varFlags(), lockFlags()...),
			&cli.BoolFlag{Name: "auto-approve", Usage: "do not ask for 'yes', and pass approval gates"},
			&cli.BoolFlag{Name: "json", Usage: "stream one JSON event per line"},
			&cli.BoolFlag{Name: "no-color", Usage: "never colour the output"},
			&cli.StringFlag{Name: "reason", Usage: "why this release is made (required by the hotfix strategy)"},
			&cli.BoolFlag{Name: "no-watch", Usage: "do not run the services' watch after the release"},
			&cli.BoolFlag{Name: "build", Usage: "build every image with a build block, even one built from the same source before"},
		),
		Action: func(c *cli.Context) error {
			if c.Args().Len() > 1 {
				return fail(1, errors.New("apply takes at most one plan file"), "")
			}
			op := newOperation(s, c, operation.KindApply)
			op.PlanFile, op.Reason, op.AutoApprove = c.Args().First(), c.String("reason"), c.Bool("auto-approve")
			op.Watch, op.Build = !c.Bool("json") && !c.Bool("no-watch"), c.Bool("build")
			_, err := operation.Run(c.Context, op, s.world)
			return err
		},
	}
}
