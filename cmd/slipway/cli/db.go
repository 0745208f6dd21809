package cli

import (
	"errors"
	"fmt"
	"strings"

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
				se := newSession(s, c)
				name := c.Args().First()
				if name == "" || c.Bool("applied") == c.Bool("pending") {
					return fail(1, errors.New("db resolve needs a migration name and exactly one of -applied or -pending"), "for example: slipway db resolve -applied 0043_backfill.sql")
				}
				if err := se.loadConfig(); err != nil {
					return err
				}
				db := c.String("db")
				if db == "" {
					if len(se.cfg.Postgres) != 1 {
						return fail(1, errors.New("say which database with -db NAME"), "")
					}
					db = se.cfg.Postgres[0].Name
				}
				if err := se.openBackend(); err != nil {
					return err
				}
				unlock, err := se.lock(c.Context, "db resolve")
				if err != nil {
					return err
				}
				defer unlock()
				set, closeProv, err := se.providers()
				if err != nil {
					return err
				}
				defer closeProv()
				pg := set.Databases[db]
				if pg == nil {
					return fail(1, fmt.Errorf("no postgres block is named %q", db), "")
				}
				version, _, _ := strings.Cut(name, "_")
				if err := pg.Resolve(c.Context, version, c.Bool("applied")); err != nil {
					return fail(1, fmt.Errorf("resolve %s: %w", name, err), "")
				}
				st, err := se.readState()
				if err != nil {
					return err
				}
				if d := st.Databases[db]; d != nil && d.Dirty != "" {
					d.Dirty = ""
					if err := se.backend.Write(st); err != nil {
						return fail(1, fmt.Errorf("write state: %w", err), "")
					}
				}
				fmt.Fprintf(s.out, "Migration %s is now %s.\n", name, map[bool]string{true: "applied", false: "pending"}[c.Bool("applied")])
				return nil
			},
		}},
	}
}
