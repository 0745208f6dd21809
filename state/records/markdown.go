package records

import (
	"fmt"
	"math"
	"strings"
	"time"
)

// Markdown renders r as a readable report: a header and summary table,
// the incident report of every rollback (see IncidentReport), warnings, the steps, checks, analysis readings, prober counts,
// and the plan in a collapsed block.
func Markdown(r *Record) string {
	var b strings.Builder
	env := r.Env
	if env == "" {
		env = "default"
	}
	fmt.Fprintf(&b, "# slipway %s: %s (%s) release #%d\n\n", r.Operation, r.Project, env, r.Release)
	fmt.Fprintf(&b, "**Result: %s**\n\n", resultText(r))

	b.WriteString("| | |\n|---|---|\n")
	row := func(k, v string) {
		if v != "" {
			fmt.Fprintf(&b, "| %s | %s |\n", k, cell(v))
		}
	}
	row("Operation", r.Operation)
	row("Project", r.Project)
	row("Environment", env)
	fmt.Fprintf(&b, "| Release | #%d -> #%d |\n", r.PriorRelease, r.Release)
	if r.TargetRelease > 0 {
		fmt.Fprintf(&b, "| Returned to | the snapshot of release #%d |\n", r.TargetRelease)
	}
	for _, c := range r.Changes {
		v := c.String()
		if c.Strategy != "" {
			v += " (" + c.Strategy + ")"
		}
		row("Changed", v)
	}
	row("Who", r.Who)
	row("Started", stamp(r.Started))
	if !r.Ended.IsZero() {
		row("Ended", fmt.Sprintf("%s (took %s)", stamp(r.Ended), took(r.Started, r.Ended)))
	}
	row("Git commit", r.GitCommit)
	row("Config hash", r.ConfigHash)
	row("Reason", r.Reason)
	row("Record", r.ID)
	b.WriteString("\n")

	if r.Error != "" {
		fmt.Fprintf(&b, "Error:\n\n%s\n", fenced("text", r.Error))
	}
	b.WriteString(IncidentReport(r))
	if len(r.Warnings) > 0 {
		b.WriteString("## Warnings\n\n")
		for _, w := range r.Warnings {
			fmt.Fprintf(&b, "- %s\n", inline(w))
		}
		b.WriteString("\n")
	}
	writeSteps(&b, r)
	writeChecks(&b, r)
	writeAnalysis(&b, r)
	if p := r.Prober; p != nil {
		b.WriteString("## Prober\n\n")
		fmt.Fprintf(&b, "%d requests, %d failed (%s): %d non-2xx, %d transport errors.\n\n",
			p.Requests, p.Failures, percent(ratio(p.Failures, p.Requests)), p.Non2xx, p.TransportErrors)
	}
	if len(r.Plan) > 0 {
		b.WriteString("## Plan\n\n<details><summary>Plan as JSON</summary>\n\n")
		b.WriteString(fenced("json", string(r.Plan)))
		b.WriteString("\n</details>\n")
	}
	return b.String()
}

// resultText is the one-line result, saying what state the world is in.
func resultText(r *Record) string {
	switch r.Result {
	case ResultSucceeded:
		return "succeeded"
	case ResultFailed:
		return "failed before anything changed"
	case ResultRolledBack:
		return fmt.Sprintf("failed and rolled back to release #%d", r.PriorRelease)
	case ResultNeedsIntervention:
		return fmt.Sprintf("failed and could not restore release #%d: manual intervention needed", r.PriorRelease)
	case ResultPaused:
		return "paused at an approval gate (resume with `slipway promote`, or `slipway abort`)"
	case "", ResultRunning:
		return "in progress (or interrupted)"
	}
	return inline(r.Result)
}

func writeSteps(b *strings.Builder, r *Record) {
	if len(r.Steps) == 0 {
		return
	}
	b.WriteString("## Steps\n\n| # | Step | Kind | Target | Started | Took | Outcome | Detail |\n|---|---|---|---|---|---|---|---|\n")
	for _, s := range r.Steps {
		detail := s.Detail
		if s.Error != "" {
			detail = strings.TrimSpace(detail + " error: " + s.Error)
		}
		fmt.Fprintf(b, "| %d | %s | %s | %s | %s | %s | %s | %s |\n", s.Index, cell(s.ID), cell(s.Kind), cell(s.Target),
			stamp(s.Started), took(s.Started, s.Ended), cell(s.Outcome), cell(detail))
	}
	b.WriteString("\n")
	for _, s := range r.Steps {
		if len(s.Output) > 0 {
			fmt.Fprintf(b, "Output of step %d `%s`:\n\n%s\n", s.Index, inline(s.ID), fenced("text", strings.Join(s.Output, "\n")))
		}
	}
}

func writeChecks(b *strings.Builder, r *Record) {
	if len(r.Checks) == 0 {
		return
	}
	b.WriteString("## Checks\n\n| Check | Phase | Severity | Status | Took | Evidence |\n|---|---|---|---|---|---|\n")
	for _, c := range r.Checks {
		fmt.Fprintf(b, "| %s | %s | %s | %s | %s | %s |\n", cell(c.Name), cell(c.Phase), cell(c.Severity),
			cell(c.Status), duration(c.Duration), cell(c.Evidence))
	}
	b.WriteString("\n")
}

func writeAnalysis(b *strings.Builder, r *Record) {
	if len(r.Analysis) == 0 {
		return
	}
	b.WriteString("## Analysis\n\n| Step | Time | Version | Requests | Error rate | p50 | p95 | p99 | Verdict |\n|---|---|---|---|---|---|---|---|---|\n")
	for _, a := range r.Analysis {
		fmt.Fprintf(b, "| %d | %s | %s | %d | %s | %s | %s | %s | %s |\n", a.Step, stamp(a.Time), cell(a.Version),
			a.Requests, percent(a.ErrorRate), seconds(a.P50), seconds(a.P95), seconds(a.P99), cell(a.Verdict))
	}
	b.WriteString("\n")
}

// stamp formats a time in UTC, "-" if zero.
func stamp(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.UTC().Format("2006-01-02 15:04:05Z")
}

// took formats the time from start to end, "-" if either is missing.
func took(start, end time.Time) string {
	if start.IsZero() || end.IsZero() {
		return "-"
	}
	return duration(end.Sub(start))
}

// duration rounds d for reading: milliseconds below a second, tenths of a
// second below a minute, seconds above.
func duration(d time.Duration) string {
	switch {
	case d < time.Second:
		return d.Round(time.Millisecond).String()
	case d < time.Minute:
		return d.Round(100 * time.Millisecond).String()
	}
	return d.Round(time.Second).String()
}

func ratio(n, of int) float64 {
	if of == 0 {
		return math.NaN()
	}
	return float64(n) / float64(of)
}

// percent formats a fraction as a percentage, "n/a" if not a number.
func percent(f float64) string {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return "n/a"
	}
	return fmt.Sprintf("%.2f%%", f*100)
}

// seconds formats a latency in seconds, "n/a" if not a number.
func seconds(f float64) string {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return "n/a"
	}
	return duration(time.Duration(f * float64(time.Second)))
}

// inline makes s safe inside a markdown line: one line, no HTML.
func inline(s string) string {
	s = strings.ReplaceAll(s, "\r\n", "\n")
	s = strings.ReplaceAll(s, "\n", " ")
	s = strings.ReplaceAll(s, "&", "&amp;")
	s = strings.ReplaceAll(s, "<", "&lt;")
	s = strings.ReplaceAll(s, ">", "&gt;")
	s = strings.ReplaceAll(s, "`", "'")
	return s
}

// cell makes s safe inside a markdown table cell.
func cell(s string) string {
	if s == "" {
		return ""
	}
	return strings.ReplaceAll(inline(s), "|", `\|`)
}

// fenced returns s in a code block whose fence is longer than any run of
// backticks in s, so that s cannot close it.
func fenced(lang, s string) string {
	longest, run := 0, 0
	for _, c := range s {
		if c == '`' {
			run++
			longest = max(longest, run)
		} else {
			run = 0
		}
	}
	fence := strings.Repeat("`", max(3, longest+1))
	return fence + lang + "\n" + strings.TrimRight(s, "\n") + "\n" + fence + "\n"
}
