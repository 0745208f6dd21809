package cli

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/slipwayhq/slipway/checks"
	"github.com/slipwayhq/slipway/config"
	"github.com/slipwayhq/slipway/internal/redact"
	"github.com/slipwayhq/slipway/providers"
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
			se := newSession(s, c)
			opts := config.LoadOptions{Env: se.env, Environ: environ(), VarFiles: multiValue(c, "var-file"), Vars: multiValue(c, "var")}
			cfg, diags := config.Load(se.dir, opts)
			se.cfg = cfg
			if len(diags) > 0 {
				se.printDiags(diags)
			}
			if diags.HasErrors() {
				return exit(1)
			}
			cfg.ResolvePaths()
			skip := multiValue(c, "skip")
			all := checks.Select(cfg, phase, nil, false)
			selected := checks.Select(cfg, phase, skip, c.Bool("quick"))
			env, done, err := se.checkEnv(selected, c)
			if err != nil {
				return err
			}
			defer done()
			ran := checks.Run(c.Context, selected, env)
			results := mergeSkipped(all, selected, ran, skip, c.Bool("quick"))
			code := checks.ExitCode(results, c.Bool("strict"))
			if c.Bool("json") {
				err = writeChecksJSON(s.out, phase, results, code)
			} else {
				err = writeChecksText(s.out, phase, results, code)
			}
			if err != nil {
				return fail(1, fmt.Errorf("write results: %w", err), "")
			}
			if code != 0 {
				return exit(code)
			}
			return nil
		},
	}
}

// checkEnv builds what the selected checks need: the masker, and a
// database, the runtime and nginx only when a check of that kind runs,
// from the world's factory.
func (se *session) checkEnv(selected []*config.Check, c *cli.Context) (checks.Env, func(), error) {
	w := se.world()
	env := checks.Env{
		Dir:       se.dir,
		Environ:   environ(),
		Mask:      redact.New(se.cfg.SensitiveValues()...).Mask,
		Candidate: strings.TrimRight(c.String("candidate"), "/"),
		Parallel:  c.Int("parallel"),
		Project:   se.cfg.Project.Name,
		StateEnv:  se.env,
		Database:  func(name string) (providers.Database, error) { return w.Database(se.cfg, name) },
	}
	if se.cfg.Nginx != nil {
		if r, err := w.Router(se.cfg); err == nil {
			if t, ok := r.(providers.ConfigTester); ok {
				env.NginxTest = t.Test
			}
		}
	}
	done := func() {}
	for _, ck := range selected {
		if ck.Kind != "container" {
			continue
		}
		rt, err := w.Runtime(se.cfg)
		if err != nil {
			return env, nil, fail(1, fmt.Errorf("connect to docker: %w", err), "start the Docker engine, or point docker { host } or DOCKER_HOST at it")
		}
		env.Runtime = rt
		done = func() { (&providers.Set{Runtime: rt}).Close() }
		break
	}
	return env, done, nil
}

// mergeSkipped returns a result for every check of the phase, in
// declaration order: those run, and those left out by -skip or -quick as
// skipped.
func mergeSkipped(all, selected []*config.Check, ran []checks.Result, skip []string, quick bool) []checks.Result {
	byCheck := map[*config.Check]checks.Result{}
	for i, ck := range selected {
		byCheck[ck] = ran[i]
	}
	out := make([]checks.Result, 0, len(all))
	for _, ck := range all {
		if r, ok := byCheck[ck]; ok {
			out = append(out, r)
			continue
		}
		r := checks.Result{Name: ck.Name, Kind: ck.Kind, Phase: ck.Phase, Severity: ck.Severity, Status: checks.StatusSkip}
		for _, t := range ck.Tags {
			if quick && t == checks.SlowTag {
				r.Err = "tagged " + t + " (-quick)"
				break
			}
			if contains(skip, t) {
				r.Err = "tagged " + t + " (-skip " + t + ")"
				break
			}
		}
		out = append(out, r)
	}
	return out
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// checkCounts counts results by outcome.
type checkCounts struct {
	Passed   int `json:"passed"`
	Failed   int `json:"failed"`
	Critical int `json:"critical_failed"`
	Skipped  int `json:"skipped"`
}

func countResults(results []checks.Result) checkCounts {
	var n checkCounts
	for _, r := range results {
		switch r.Status {
		case checks.StatusPass:
			n.Passed++
		case checks.StatusSkip:
			n.Skipped++
		case checks.StatusFail:
			n.Failed++
			if r.Severity != "warning" {
				n.Critical++
			}
		}
	}
	return n
}

// writeChecksText prints a table (NAME PHASE SEVERITY STATUS DURATION
// EVIDENCE, the first line of the evidence), then why each failed or
// skipped check did so with its full evidence, then a summary line.
func writeChecksText(w io.Writer, phase string, results []checks.Result, code int) error {
	if len(results) == 0 {
		_, err := fmt.Fprintf(w, "No checks for phase %s.\n", phase)
		return err
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tPHASE\tSEVERITY\tSTATUS\tDURATION\tEVIDENCE")
	for _, r := range results {
		ev, _, _ := strings.Cut(r.Evidence, "\n")
		if ev == "" {
			ev = "-"
		}
		dur := "-"
		if r.Status != checks.StatusSkip || r.Duration > 0 {
			dur = formatCheckDuration(r.Duration)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", r.Name, r.Phase, r.Severity, strings.ToUpper(r.Status), dur, ev)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	var notes []string
	for _, r := range results {
		if r.Err == "" {
			continue
		}
		note := fmt.Sprintf("  %s (%s, %s): %s", r.Name, r.Kind, r.Status, indent(r.Err, "    "))
		if _, rest, ok := strings.Cut(r.Evidence, "\n"); ok && r.Status == checks.StatusFail {
			note += "\n    " + indent(rest, "    ")
		}
		notes = append(notes, note)
	}
	if len(notes) > 0 {
		fmt.Fprintf(w, "\n%s\n", strings.Join(notes, "\n"))
	}
	n := countResults(results)
	verdict := "all checks passed"
	switch code {
	case 1:
		verdict = "only warnings failed"
	case 2:
		verdict = "do not release"
		if n.Critical == 0 {
			verdict = "warnings fail under -strict"
		}
	}
	_, err := fmt.Fprintf(w, "\nChecks: %d passed, %d failed (%d critical), %d skipped: %s.\n", n.Passed, n.Failed, n.Critical, n.Skipped, verdict)
	return err
}

func indent(s, prefix string) string {
	return strings.ReplaceAll(s, "\n", "\n"+prefix)
}

func formatCheckDuration(d time.Duration) string {
	switch {
	case d >= time.Second:
		return d.Round(10 * time.Millisecond).String()
	case d >= time.Millisecond:
		return d.Round(time.Millisecond).String()
	}
	return "<1ms"
}

// jsonCheck is one result in `slipway check -json`.
type jsonCheck struct {
	Name       string  `json:"name"`
	Kind       string  `json:"kind"`
	Phase      string  `json:"phase"`
	Severity   string  `json:"severity"`
	Status     string  `json:"status"`
	DurationMS float64 `json:"duration_ms"`
	Evidence   string  `json:"evidence"`
	Error      string  `json:"error,omitempty"`
}

func writeChecksJSON(w io.Writer, phase string, results []checks.Result, code int) error {
	out := struct {
		FormatVersion string      `json:"format_version"`
		Phase         string      `json:"phase"`
		ExitCode      int         `json:"exit_code"`
		Summary       checkCounts `json:"summary"`
		Checks        []jsonCheck `json:"checks"`
	}{FormatVersion: "1", Phase: phase, ExitCode: code, Summary: countResults(results), Checks: []jsonCheck{}}
	for _, r := range results {
		out.Checks = append(out.Checks, jsonCheck{
			Name: r.Name, Kind: r.Kind, Phase: r.Phase, Severity: r.Severity, Status: r.Status,
			DurationMS: float64(r.Duration.Microseconds()) / 1000, Evidence: r.Evidence, Error: r.Err,
		})
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(out)
}
