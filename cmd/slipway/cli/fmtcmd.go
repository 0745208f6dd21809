package cli

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"

	"github.com/rogpeppe/go-internal/diff"
	"github.com/slipwayhq/slipway/config"
	"github.com/urfave/cli/v2"
)

func fmtCommand(s *streams) *cli.Command {
	return &cli.Command{
		Name:  "fmt",
		Usage: "rewrite configuration files in the canonical format",
		Description: `Example:
   slipway fmt
   slipway fmt -check -diff     # in CI: exit 3 when a file needs formatting`,
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "check", Usage: "change nothing; exit 3 when a file needs formatting"},
			&cli.BoolFlag{Name: "diff", Usage: "show the changes as a unified diff"},
		},
		Action: func(c *cli.Context) error {
			dir := c.String("chdir")
			files, err := filepath.Glob(filepath.Join(dir, "*.hcl"))
			if err != nil {
				return fail(1, err, "")
			}
			sort.Strings(files)
			needs := false
			for _, f := range files {
				src, err := os.ReadFile(f)
				if err != nil {
					return fail(1, fmt.Errorf("read %s: %w", f, err), "")
				}
				out := config.Format(src)
				if string(out) == string(src) {
					continue
				}
				needs = true
				name, _ := filepath.Rel(dir, f)
				fmt.Fprintln(s.out, name)
				if c.Bool("diff") {
					s.out.Write(diff.Diff(name, src, name, out))
				}
				if !c.Bool("check") {
					fi, err := os.Stat(f)
					if err != nil {
						return fail(1, err, "")
					}
					if err := os.WriteFile(f, out, fi.Mode().Perm()); err != nil {
						return fail(1, fmt.Errorf("write %s: %w", f, err), "")
					}
				}
			}
			if needs && c.Bool("check") {
				return exit(3)
			}
			return nil
		},
	}
}
