package cli

import (
	"fmt"
	"os"

	"github.com/slipwayhq/slipway/checks"
	"github.com/slipwayhq/slipway/cmd/slipway/views"
	"github.com/slipwayhq/slipway/config"
	"github.com/urfave/cli/v2"
)

func validateCommand(s *streams) *cli.Command {
	return &cli.Command{
		Name:  "validate",
		Usage: "check the configuration without touching state or the live world",
		Description: `Example:
   slipway validate
   slipway -chdir=deploy validate -json`,
		Flags: append(varFlags(),
			&cli.BoolFlag{Name: "json", Usage: "print the result as JSON"},
			&cli.BoolFlag{Name: "no-color", Usage: "never colour the output"},
		),
		Action: func(c *cli.Context) error {
			opts := config.LoadOptions{Env: c.String("env"), Environ: os.Environ(), VarFiles: multiValue(c, "var-file"), Vars: multiValue(c, "var")}
			cfg, diags := config.Load(c.String("chdir"), opts)
			if !diags.HasErrors() {
				diags = append(diags, checks.Diagnostics(cfg)...)
			}
			if c.Bool("json") {
				if err := views.DiagnosticsJSON(s.out, diags); err != nil {
					return fail(1, err, "")
				}
			} else {
				views.Diagnostics(s.err, diags, cfg.Files, colorOK(s.err, c), config.HidesSource)
				if !diags.HasErrors() {
					fmt.Fprintln(s.out, "Success! The configuration is valid.")
				}
			}
			if diags.HasErrors() {
				return exit(1)
			}
			return nil
		},
	}
}
