package cli

import (
	"errors"
	"fmt"
	"io/fs"

	"github.com/slipwayhq/slipway/config/starter"
	"github.com/urfave/cli/v2"
)

// initCommand is `slipway init`: write a commented starter configuration
// and a first migration, never overwriting a file.
func initCommand(s *streams) *cli.Command {
	return &cli.Command{
		Name:      "init",
		Usage:     "write a commented starter configuration: a service behind nginx with PostgreSQL",
		ArgsUsage: "[DIR]",
		Description: `Writes DIR/slipway.hcl and DIR/migrations/0001_init.sql (DIR defaults to
the -chdir directory, created when missing). It never overwrites a file: when
either exists, nothing is written and it exits 1.

Example:
   slipway init
   slipway init -name shop deploy
   slipway -chdir=deploy validate -var version=1.0.0`,
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "name", Usage: "project `NAME` (default: the directory's name)"},
		},
		Action: func(c *cli.Context) error {
			dir := c.String("chdir")
			if c.NArg() > 0 {
				dir = c.Args().First()
			}
			if c.NArg() > 1 {
				return fail(1, fmt.Errorf("init takes one directory, got %d arguments", c.NArg()), "run 'slipway init -help' for usage")
			}
			name := c.String("name")
			if name == "" {
				name = starter.ProjectName(dir)
			} else if !starter.ValidName(name) {
				return fail(1, fmt.Errorf("invalid project name %q: it must start with a letter or digit and hold only letters, digits, underscores and dashes", name), "")
			}
			files, err := starter.Write(dir, name)
			if err != nil {
				hint := ""
				if errors.Is(err, fs.ErrExist) {
					hint = "slipway init never overwrites a file: choose another directory, or move the file away"
				}
				return fail(1, err, hint)
			}
			for _, f := range files {
				fmt.Fprintf(s.out, "Wrote %s\n", f)
			}
			chdir := ""
			if dir != "." {
				chdir = " -chdir=" + dir
			}
			fmt.Fprintf(s.out, "\nNext: edit the image, route and checks, then run\n  slipway%s validate -var version=1.0.0\n  slipway%s plan -var version=1.0.0\n", chdir, chdir)
			return nil
		},
	}
}
