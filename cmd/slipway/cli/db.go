package cli

import (
	"errors"
	"fmt"

	"github.com/slipwayhq/slipway/operation"
	"github.com/urfave/cli/v2"
)

func dbCommand(s *streams) *cli.Command {
	return &cli.Command{
		Name:  "db",
		Usage: "database chores: resolve a migration left dirty",
		Subcommands: []*cli.Command{{
			Name:      "resolve",
			Usage:     "mark a migration that failed without a transaction as applied or pending",
			ArgsUsage: "MIGRATION",
			Description: `Example:
   slipway db resolve -applied 0043_backfill.sql   # you finished it by hand
   slipway db resolve -pending 0043_backfill.sql   # you undid it; the next apply runs it again`,
			Flags: append(lockFlags(),
				&cli.BoolFlag{Name: "applied", Usage: "the migration's changes are all in place"},
				&cli.BoolFlag{Name: "pending", Usage: "none of its changes are in place"},
				&cli.StringFlag{Name: "db", Usage: "the postgres block (`NAME`); needed when there are several"},
			),
			Action: func(c *cli.Context) error {
				op := newOperation(s, c, operation.KindResolve)
				op.Migration, op.Database, op.Applied = c.Args().First(), c.String("db"), c.Bool("applied")
				if op.Migration == "" || op.Applied == c.Bool("pending") {
					return fail(1, errors.New("db resolve needs a migration name and exactly one of -applied or -pending"), "for example: slipway db resolve -applied 0043_backfill.sql")
				}
				if _, err := operation.Run(c.Context, op, s.world); err != nil {
					return err
				}
				fmt.Fprintf(s.out, "Migration %s is now %s.\n", op.Migration, map[bool]string{true: "applied", false: "pending"}[op.Applied])
				return nil
			},
		}},
	}
}
