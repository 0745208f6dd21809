package cli

import (
	"encoding/json"
	"fmt"

	"github.com/hashicorp/hcl/v2"
	"github.com/slipwayhq/slipway/checks"
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
			se := newSession(s, c)
			opts := config.LoadOptions{Env: se.env, Environ: environ(), VarFiles: multiValue(c, "var-file"), Vars: multiValue(c, "var")}
			cfg, diags := config.Load(se.dir, opts)
			se.cfg = cfg
			if !diags.HasErrors() {
				diags = append(diags, checks.Diagnostics(cfg)...)
			}
			if c.Bool("json") {
				if err := writeDiagsJSON(s, diags); err != nil {
					return fail(1, err, "")
				}
			} else {
				se.printDiags(diags)
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

type jsonPos struct {
	Line   int `json:"line"`
	Column int `json:"column"`
	Byte   int `json:"byte"`
}

type jsonRange struct {
	Filename string  `json:"filename"`
	Start    jsonPos `json:"start"`
	End      jsonPos `json:"end"`
}

type jsonDiag struct {
	Severity string     `json:"severity"`
	Summary  string     `json:"summary"`
	Detail   string     `json:"detail,omitempty"`
	Range    *jsonRange `json:"range,omitempty"`
}

func writeDiagsJSON(s *streams, diags hcl.Diagnostics) error {
	out := struct {
		FormatVersion string     `json:"format_version"`
		Valid         bool       `json:"valid"`
		ErrorCount    int        `json:"error_count"`
		WarningCount  int        `json:"warning_count"`
		Diagnostics   []jsonDiag `json:"diagnostics"`
	}{FormatVersion: "1", Valid: !diags.HasErrors(), Diagnostics: []jsonDiag{}}
	for _, d := range diags {
		jd := jsonDiag{Severity: "error", Summary: d.Summary, Detail: d.Detail}
		if d.Severity == hcl.DiagWarning {
			jd.Severity = "warning"
			out.WarningCount++
		} else {
			out.ErrorCount++
		}
		if r := d.Subject; r != nil {
			jd.Range = &jsonRange{Filename: r.Filename, Start: jsonPos{r.Start.Line, r.Start.Column, r.Start.Byte}, End: jsonPos{r.End.Line, r.End.Column, r.End.Byte}}
		}
		out.Diagnostics = append(out.Diagnostics, jd)
	}
	enc := json.NewEncoder(s.out)
	enc.SetIndent("", "  ")
	return enc.Encode(out)
}
