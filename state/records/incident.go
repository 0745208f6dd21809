package records

import (
	"fmt"
	"sort"
	"strings"
	"time"
)

// Incident is what an incident report says beyond what the rest of the
// record shows: the limit that was crossed, moments the steps do not show,
// what was restored and where logs were archived. Every field is optional;
// the report derives the trigger, the timeline and the undone steps from the
// record itself.
type Incident struct {
	// Trigger replaces the trigger sentence derived from the record, e.g.
	// "error rate of service.backend's candidate above 5%".
	Trigger string `json:"trigger,omitempty"`
	// Threshold is the limit that was crossed as configured, e.g.
	// "error rate > 5%, or > 1% for 2m".
	Threshold string `json:"threshold,omitempty"`
	// Timeline holds moments beyond the steps and analysis readings (a
	// signal received, a warning that began), merged with them by time.
	Timeline []Moment `json:"timeline,omitempty"`
	// Restored lists what was put back beyond the undone steps, e.g.
	// "postgres.main from backups/thebot-main-s43.dump".
	Restored []string `json:"restored,omitempty"`
	// Logs are the paths where logs were archived for the review
	// (container logs, access log excerpts).
	Logs []string `json:"logs,omitempty"`
}

// Moment is one entry of an incident timeline.
type Moment struct {
	Time  time.Time `json:"time"`
	Event string    `json:"event"`
}

// PostIncidentQuestions are the questions of the runbook's post-incident
// review, asked at the end of every incident report.
func PostIncidentQuestions() []string {
	return []string{
		"What went wrong?",
		"Why wasn't it caught pre-deployment?",
		"How do we prevent it next time?",
	}
}

// IsIncident reports whether r calls for an incident report: every
// rollback, automatic (a failed operation that was rolled back, or could
// not be) or manual (a rollback or an abort).
func IsIncident(r *Record) bool {
	switch r.Result {
	case ResultRolledBack, ResultNeedsIntervention:
		return true
	}
	return r.Operation == OpRollback || r.Operation == OpAbort
}

// Summary is the one-line result of r, saying what state the world is in,
// e.g. "failed and rolled back to release #42".
func Summary(r *Record) string {
	return resultText(r)
}

// Trigger says in one plain-text sentence (no markdown) what started the
// rollback r describes: the reason given for a manual rollback, the failed
// analysis with its readings, the failed check with its evidence, or the
// failed step with its error. It is "" when r is not an incident.
func Trigger(r *Record) string {
	if !IsIncident(r) {
		return ""
	}
	if r.Incident != nil && r.Incident.Trigger != "" {
		return r.Incident.Trigger
	}
	who := ""
	if r.Who != "" {
		who = " by " + r.Who
	}
	reason := "no reason given"
	if r.Reason != "" {
		reason = "reason given: " + r.Reason
	}
	switch r.Operation {
	case OpRollback:
		if r.TargetRelease > 0 && r.TargetRelease == r.PriorRelease {
			return fmt.Sprintf("manual rollback to release #%d, which was live, undoing what an interrupted operation left (made release #%d)%s (%s)", r.TargetRelease, r.Release, who, reason)
		}
		if r.TargetRelease > 0 && r.TargetRelease != r.Release {
			return fmt.Sprintf("manual rollback from release #%d to release #%d (made release #%d)%s (%s)", r.PriorRelease, r.TargetRelease, r.Release, who, reason)
		}
		return fmt.Sprintf("manual rollback from release #%d to release #%d%s (%s)", r.PriorRelease, r.Release, who, reason)
	case OpAbort:
		return fmt.Sprintf("abort of the paused release #%d%s (%s)", r.Release, who, reason)
	}
	f := triggerStep(r)
	if f == nil {
		if r.Error != "" {
			return "the operation stopped: " + r.Error
		}
		return "the operation stopped"
	}
	if rs := failedReadings(r, f.Index); len(rs) > 0 {
		var parts []string
		for _, a := range rs {
			parts = append(parts, fmt.Sprintf("%s error rate %s over %d requests, p95 %s",
				a.Version, percent(a.ErrorRate), a.Requests, seconds(a.P95)))
		}
		s := fmt.Sprintf("analysis of %s failed at step %d %q: %s", f.Target, f.Index, f.ID, strings.Join(parts, "; "))
		if r.Incident != nil && r.Incident.Threshold != "" {
			s += " (threshold: " + r.Incident.Threshold + ")"
		}
		return s
	}
	if f.Kind == "check" {
		var failed []string
		for _, c := range r.Checks {
			// The checks package says "fail"; earlier records said "failed".
			if (c.Status == "fail" || c.Status == "failed") && (f.Target == "" || c.Phase == "" || c.Phase == f.Target) {
				failed = append(failed, fmt.Sprintf("%q (%s, %s): %s", c.Name, c.Phase, c.Severity, c.Evidence))
			}
		}
		if len(failed) > 0 {
			return "check failed at step " + fmt.Sprint(f.Index) + ": " + strings.Join(failed, "; ")
		}
	}
	s := fmt.Sprintf("step %d %q (%s %s) failed", f.Index, f.ID, f.Kind, f.Target)
	if f.Error != "" {
		s += ": " + f.Error
	}
	if r.Incident != nil && r.Incident.Threshold != "" {
		s += " (threshold: " + r.Incident.Threshold + ")"
	}
	return s
}

// triggerStep is the step whose failure started the rollback: the first
// failed one (later failures are compensations that could not be done).
func triggerStep(r *Record) *StepRecord {
	for i := range r.Steps {
		if r.Steps[i].Outcome == OutcomeFailed {
			return &r.Steps[i]
		}
	}
	return nil
}

// failedReadings are the analysis readings with a fail verdict at step.
func failedReadings(r *Record, step int) []AnalysisReading {
	var out []AnalysisReading
	for _, a := range r.Analysis {
		if a.Step == step && a.Verdict == "fail" {
			out = append(out, a)
		}
	}
	return out
}

// IncidentReport renders the incident report of r in markdown: trigger,
// timeline, what was restored, where logs were archived, and the
// post-incident review questions. It is "" when r is not an incident (see
// IsIncident). Markdown includes it in the full record.
func IncidentReport(r *Record) string {
	if !IsIncident(r) {
		return ""
	}
	var b strings.Builder
	inc := r.Incident
	if inc == nil {
		inc = &Incident{}
	}
	b.WriteString("## Incident report\n\n")
	trigger := Trigger(r)
	fmt.Fprintf(&b, "**Trigger:** %s.\n\n", inline(strings.TrimSuffix(trigger, ".")))
	if inc.Threshold != "" && !strings.Contains(trigger, inc.Threshold) {
		fmt.Fprintf(&b, "Threshold: %s.\n\n", inline(strings.TrimSuffix(inc.Threshold, ".")))
	}
	if f := triggerStep(r); f != nil && len(failedReadings(r, f.Index)) > 0 {
		fmt.Fprintf(&b, "Readings at step %d:\n\n| Time | Version | Requests | Error rate | p50 | p95 | p99 | Verdict |\n|---|---|---|---|---|---|---|---|\n", f.Index)
		for _, a := range r.Analysis {
			if a.Step == f.Index {
				fmt.Fprintf(&b, "| %s | %s | %d | %s | %s | %s | %s | %s |\n", stamp(a.Time), cell(a.Version),
					a.Requests, percent(a.ErrorRate), seconds(a.P50), seconds(a.P95), seconds(a.P99), cell(a.Verdict))
			}
		}
		b.WriteString("\n")
	}

	b.WriteString("### Timeline\n\n| Time | Event |\n|---|---|\n")
	for _, m := range timeline(r, inc) {
		fmt.Fprintf(&b, "| %s | %s |\n", stamp(m.Time), cell(m.Event))
	}
	b.WriteString("\n")

	b.WriteString("### What was restored\n\n")
	writeRestored(&b, r, inc)

	b.WriteString("### Logs\n\n")
	if len(inc.Logs) == 0 {
		b.WriteString("No logs were archived with this record; save what the review needs (container logs, the access log) before they rotate.\n\n")
	} else {
		b.WriteString("Archived for the review:\n\n")
		for _, l := range inc.Logs {
			fmt.Fprintf(&b, "- `%s`\n", inline(l))
		}
		b.WriteString("\n")
	}

	b.WriteString("### Post-incident review\n\n")
	env := r.Env
	if env == "" {
		env = "default"
	}
	bad := r.Release // the release that went wrong
	if r.Operation == OpRollback {
		bad = r.PriorRelease
	}
	fmt.Fprintf(&b, "Open an incident ticket (\"[INCIDENT] Deployment issue - %s (%s) release #%d\") with the error, the readings and this record as proof of the rollback, and answer:\n\n",
		inline(r.Project), inline(env), bad)
	for i, q := range PostIncidentQuestions() {
		fmt.Fprintf(&b, "%d. %s\n", i+1, q)
	}
	b.WriteString("\n")
	return b.String()
}

// timeline merges the start, the steps, the analysis readings that warned
// or failed, the incident's own moments and the end, by time. An entry
// without a time keeps its place after the one before it.
func timeline(r *Record, inc *Incident) []Moment {
	type entry struct {
		Moment
		at time.Time // for sorting
	}
	var es []entry
	add := func(t time.Time, format string, args ...any) {
		es = append(es, entry{Moment{t, fmt.Sprintf(format, args...)}, t})
	}
	who := ""
	if r.Who != "" {
		who = " by " + r.Who
	}
	if r.Operation == OpRollback && r.TargetRelease > 0 && r.TargetRelease != r.Release {
		add(r.Started, "rollback to release #%d (as release #%d) started%s (release #%d live)", r.TargetRelease, r.Release, who, r.PriorRelease)
	} else {
		add(r.Started, "%s of release #%d started%s (release #%d live)", r.Operation, r.Release, who, r.PriorRelease)
	}
	trigger := triggerStep(r)
	after := false // compensations follow the step that failed
	for i := range r.Steps {
		s := &r.Steps[i]
		what := fmt.Sprintf("step %d %q (%s %s)", s.Index, s.ID, s.Kind, s.Target)
		if after {
			what = "undo: " + what
		}
		after = after || s == trigger
		t := s.Ended
		if t.IsZero() {
			t = s.Started
		}
		switch {
		case s.Error != "":
			add(t, "%s: %s after %s: %s", what, s.Outcome, took(s.Started, s.Ended), s.Error)
		default:
			add(t, "%s: %s after %s", what, s.Outcome, took(s.Started, s.Ended))
		}
	}
	for _, a := range r.Analysis {
		if a.Verdict == "fail" || a.Verdict == "warn" {
			add(a.Time, "analysis at step %d: %s %s (%d requests, error rate %s, p95 %s)",
				a.Step, a.Version, a.Verdict, a.Requests, percent(a.ErrorRate), seconds(a.P95))
		}
	}
	for _, m := range inc.Timeline {
		add(m.Time, "%s", m.Event)
	}
	if !r.Ended.IsZero() {
		add(r.Ended, "ended: %s", resultText(r))
	}
	for i := range es {
		if es[i].at.IsZero() && i > 0 {
			es[i].at = es[i-1].at
		}
	}
	sort.SliceStable(es, func(i, j int) bool { return es[i].at.Before(es[j].at) })
	out := make([]Moment, len(es))
	for i, e := range es {
		out[i] = e.Moment
	}
	return out
}

// writeRestored lists what a rollback put back: the undone steps of a
// failed operation (newest first, as they ran) or the steps of a manual
// rollback, what the incident adds, what could not be undone, and where
// things stand now.
func writeRestored(b *strings.Builder, r *Record, inc *Incident) {
	n := 0
	item := func(format string, args ...any) {
		fmt.Fprintf(b, "- "+format+"\n", args...)
		n++
	}
	trigger := triggerStep(r)
	after := false
	for i := range r.Steps {
		s := &r.Steps[i]
		if s == trigger {
			after = true
			continue
		}
		detail := ""
		if s.Detail != "" {
			detail = ": " + inline(s.Detail)
		}
		switch {
		case s.Outcome == OutcomeCompensated:
			item("Undone: `%s` (%s %s)%s.", inline(s.ID), inline(s.Kind), inline(s.Target), detail)
		case (r.Operation == OpRollback || r.Operation == OpAbort) && s.Outcome == OutcomeOK && s.Kind != "check":
			item("Done: `%s` (%s %s)%s.", inline(s.ID), inline(s.Kind), inline(s.Target), detail)
		case s.Outcome == OutcomeFailed && after:
			item("Could not undo: `%s` (%s %s): %s.", inline(s.ID), inline(s.Kind), inline(s.Target), inline(s.Error))
		}
	}
	for _, x := range inc.Restored {
		item("Restored: %s.", inline(strings.TrimSuffix(x, ".")))
	}
	if n == 0 {
		b.WriteString("- Nothing needed undoing.\n")
	}
	switch {
	case r.Result == ResultNeedsIntervention:
		fmt.Fprintf(b, "- Now: release #%d could not be restored; check the steps below and the live services before anything else.\n", r.PriorRelease)
	case r.Result == ResultRolledBack:
		fmt.Fprintf(b, "- Now: release #%d is serving again.\n", r.PriorRelease)
	case r.Result == ResultSucceeded && r.Operation == OpRollback && r.TargetRelease > 0 && r.TargetRelease != r.Release:
		fmt.Fprintf(b, "- Now: release #%d serves what release #%d ran.\n", r.Release, r.TargetRelease)
	case r.Result == ResultSucceeded && r.Operation == OpRollback:
		fmt.Fprintf(b, "- Now: release #%d is serving again.\n", r.Release)
	case r.Result == ResultSucceeded && r.Operation == OpAbort:
		fmt.Fprintf(b, "- Now: release #%d is serving; the paused release #%d was withdrawn.\n", r.PriorRelease, r.Release)
	}
	b.WriteString("\n")
}
