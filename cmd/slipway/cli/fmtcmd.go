package cli

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/rogpeppe/go-internal/diff"
	"github.com/slipwayhq/slipway/cmd/slipway/views"
	"github.com/slipwayhq/slipway/config"
	"github.com/urfave/cli/v2"
)

func fmtCommand(s *streams) *cli.Command {
	return &cli.Command{
		Name:  "fmt",
		Usage: "rewrite configuration files in the canonical format",
		Description: `A file that does not parse is never changed: its errors are printed, the
other files are formatted, and fmt exits 1 (also with -check). The lines
of a variable-value file (*.vars.hcl) are not shown in errors, as they
may hold secrets.

Example:
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
			var broken []string
			for _, f := range files {
				src, err := os.ReadFile(f)
				if err != nil {
					return fail(1, fmt.Errorf("read %s: %w", f, err), "")
				}
				name, _ := filepath.Rel(dir, f)
				out, diags := config.FormatSource(name, src)
				if diags.HasErrors() {
					broken = append(broken, name)
					hide := func(*hcl.Diagnostic) bool { return strings.HasSuffix(name, ".vars.hcl") }
					views.Diagnostics(s.err, diags, map[string]*hcl.File{name: {Bytes: src}}, colorOK(s.err, c), hide)
					continue
				}
				if bytes.Equal(out, src) {
					continue
				}
				needs = true
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
			if len(broken) > 0 {
				return fail(1, fmt.Errorf("files that do not parse were left unchanged: %s", strings.Join(broken, ", ")), "fix the errors above, then run 'slipway fmt' again")
			}
			if needs && c.Bool("check") {
				return exit(3)
			}
			return nil
		},
	}
}
