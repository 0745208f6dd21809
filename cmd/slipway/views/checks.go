package views

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/slipwayhq/slipway/checks"
)

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

// ChecksText prints a table (NAME PHASE SEVERITY STATUS DURATION
// EVIDENCE, the first line of the evidence), then why each failed or
// skipped check did so with its full evidence, then a summary line that
// reads the exit code.
func ChecksText(w io.Writer, phase string, results []checks.Result, code int) error {
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
	if notes := checkNotes(results); len(notes) > 0 {
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

// checkNotes says why each failed or skipped check did so, with the rest
// of a failed one's evidence.
func checkNotes(results []checks.Result) []string {
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
	return notes
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

// ChecksJSON writes the results as one JSON document with their summary
// and the exit code.
func ChecksJSON(w io.Writer, phase string, results []checks.Result, code int) error {
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
