package records

import (
	"flag"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// checkFailed is a blue-green apply whose post check failed and whose
// traffic switch could not be undone.
func checkFailed() *Record {
	return &Record{
		ID: "rec-3", Operation: OpApply, Project: "thebot", Release: 7, PriorRelease: 6, Who: "ci@runner",
		Started: t0, Ended: t0.Add(90 * time.Second),
		Steps: []StepRecord{
			{Index: 0, ID: "start.web", Kind: "start", Target: "service.web", Started: t0, Ended: t0.Add(20 * time.Second), Outcome: OutcomeOK},
			{Index: 1, ID: "traffic.web", Kind: "traffic", Target: "service.web", Detail: "blue -> green",
				Started: t0.Add(20 * time.Second), Ended: t0.Add(21 * time.Second), Outcome: OutcomeOK},
			{Index: 2, ID: "check.post", Kind: "check", Target: "post", Started: t0.Add(21 * time.Second),
				Ended: t0.Add(31 * time.Second), Outcome: OutcomeFailed, Error: "critical check \"api\" failed"},
			{Index: 1, ID: "traffic.web.undo", Kind: "traffic", Target: "service.web", Started: t0.Add(31 * time.Second),
				Ended: t0.Add(32 * time.Second), Outcome: OutcomeFailed, Error: "nginx -t: unknown directive"},
			{Index: 0, ID: "start.web.undo", Kind: "remove", Target: "service.web", Started: t0.Add(32 * time.Second),
				Ended: t0.Add(40 * time.Second), Outcome: OutcomeCompensated},
		},
		Checks: []CheckEvidence{
			{Name: "api", Phase: "post", Severity: "critical", Status: "failed", Evidence: "GET /api/health -> 502", Duration: 3 * time.Second},
			{Name: "frontend", Phase: "post", Severity: "warning", Status: "passed", Evidence: "GET / -> 200", Duration: time.Second},
		},
		Result: ResultNeedsIntervention,
		Error:  "check.post: critical check \"api\" failed; undo failed: traffic.web.undo",
	}
}

// manualRollback is a rollback from #43 to #42 with a restored database.
func manualRollback() *Record {
	return &Record{
		ID: "rec-4", Operation: OpRollback, Project: "thebot", Env: "production", Release: 42, PriorRelease: 43,
		Who: "ops@host", Started: t0, Ended: t0.Add(40 * time.Second), Reason: "p95 regression | checkout",
		Steps: []StepRecord{
			{Index: 0, ID: "check.pre", Kind: "check", Target: "pre", Started: t0, Ended: t0.Add(time.Second), Outcome: OutcomeOK},
			{Index: 1, ID: "start.backend", Kind: "start", Target: "service.backend", Detail: "2 containers (blue) from release #42",
				Started: t0.Add(time.Second), Ended: t0.Add(20 * time.Second), Outcome: OutcomeOK},
			{Index: 2, ID: "traffic.backend", Kind: "traffic", Target: "service.backend", Detail: "green -> blue",
				Started: t0.Add(20 * time.Second), Ended: t0.Add(21 * time.Second), Outcome: OutcomeOK},
		},
		Result: ResultSucceeded,
		Incident: &Incident{
			Restored: []string{"postgres.main from backups/thebot-main-s42.dump (a fresh backup first: backups/thebot-main-s43-pre-restore.dump)"},
			Logs:     []string{".slipway/incidents/r43/backend-green-1.log", ".slipway/incidents/r43/nginx-access.log"},
			Timeline: []Moment{{Time: t0.Add(-10 * time.Minute), Event: "on-call paged: p95 above 5s"}},
		},
	}
}

func TestTrigger(t *testing.T) {
	tests := []struct {
		name string
		r    func() *Record
		want string
	}{
		{"analysis", rolledBack, `analysis of service.backend failed at step 3 "analyse.backend": candidate error rate 9.00% over 200 requests, p95 200ms`},
		{"analysis with threshold", func() *Record {
			r := rolledBack()
			r.Incident = &Incident{Threshold: "error rate > 5%"}
			return r
		}, `analysis of service.backend failed at step 3 "analyse.backend": candidate error rate 9.00% over 200 requests, p95 200ms (threshold: error rate > 5%)`},
		{"check", checkFailed, `check failed at step 2: "api" (post, critical): GET /api/health -> 502`},
		{"check as the checks package says it", func() *Record {
			r := checkFailed()
			r.Checks[0].Status = "fail"
			return r
		}, `check failed at step 2: "api" (post, critical): GET /api/health -> 502`},
		{"step", func() *Record {
			r := checkFailed()
			r.Steps[2] = StepRecord{Index: 2, ID: "health.web", Kind: "health", Target: "service.web", Outcome: OutcomeFailed, Error: "deadline exceeded"}
			return r
		}, `step 2 "health.web" (health service.web) failed: deadline exceeded`},
		{"manual", manualRollback, "manual rollback from release #43 to release #42 by ops@host (reason given: p95 regression | checkout)"},
		{"manual to a snapshot", func() *Record {
			r := manualRollback()
			r.Release, r.TargetRelease = 44, 42
			return r
		}, "manual rollback from release #43 to release #42 (made release #44) by ops@host (reason given: p95 regression | checkout)"},
		{"manual after an interrupted apply", func() *Record {
			r := manualRollback()
			r.Release, r.TargetRelease = 44, 43
			return r
		}, "manual rollback to release #43, which was live, undoing what an interrupted operation left (made release #44) by ops@host (reason given: p95 regression | checkout)"},
		{"manual without reason", func() *Record {
			r := manualRollback()
			r.Reason, r.Who = "", ""
			return r
		}, "manual rollback from release #43 to release #42 (no reason given)"},
		{"abort", func() *Record {
			return &Record{Operation: OpAbort, Release: 5, PriorRelease: 4, Who: "me", Started: t0, Result: ResultSucceeded}
		}, "abort of the paused release #5 by me (no reason given)"},
		{"interrupted", func() *Record {
			return &Record{Operation: OpApply, Release: 5, Started: t0, Result: ResultRolledBack, Error: "interrupted",
				Steps: []StepRecord{{ID: "start.web", Outcome: OutcomeOK}, {ID: "start.web.undo", Outcome: OutcomeCompensated}}}
		}, "the operation stopped: interrupted"},
		{"given", func() *Record {
			r := rolledBack()
			r.Incident = &Incident{Trigger: "p95 above 5s for 5m"}
			return r
		}, "p95 above 5s for 5m"},
		{"not an incident", func() *Record {
			return &Record{Operation: OpApply, Started: t0, Result: ResultFailed, Error: "pre-check failed",
				Steps: []StepRecord{{ID: "check.pre", Outcome: OutcomeFailed}}}
		}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Trigger(tt.r()); got != tt.want {
				t.Errorf("Trigger = %q\n want %q", got, tt.want)
			}
		})
	}
}

func TestIncidentReport(t *testing.T) {
	tests := []struct {
		name    string
		r       func() *Record
		want    []string
		notWant []string
	}{
		{
			name: "undo failed",
			r:    checkFailed,
			want: []string{
				"**Trigger:** check failed at step 2: \"api\" (post, critical): GET /api/health -&gt; 502.",
				"| 2025-03-04 05:06:39Z | undo: step 1 \"traffic.web.undo\" (traffic service.web): failed after 1s: nginx -t: unknown directive |",
				"- Could not undo: `traffic.web.undo` (traffic service.web): nginx -t: unknown directive.\n- Undone: `start.web.undo` (remove service.web).\n",
				"- Now: release #6 could not be restored",
				"\"[INCIDENT] Deployment issue - thebot (default) release #7\"",
			},
			notWant: []string{"Readings at step", "is serving again", "Threshold:"},
		},
		{
			name: "manual rollback",
			r:    manualRollback,
			want: []string{
				// The incident's own moment comes first: it happened before the rollback.
				"|---|---|\n| 2025-03-04 04:56:07Z | on-call paged: p95 above 5s |\n| 2025-03-04 05:06:07Z | rollback of release #42 started by ops@host (release #43 live) |",
				"- Done: `start.backend` (start service.backend): 2 containers (blue) from release #42.\n- Done: `traffic.backend` (traffic service.backend): green -&gt; blue.\n- Restored: postgres.main from backups/thebot-main-s42.dump",
				"- Now: release #42 is serving again.",
				"(\"[INCIDENT] Deployment issue - thebot (production) release #43\")",
				"Archived for the review:\n\n- `.slipway/incidents/r43/backend-green-1.log`\n- `.slipway/incidents/r43/nginx-access.log`\n",
			},
			notWant: []string{"Done: `check.pre`", "No logs were archived"},
		},
		{
			name: "threshold and readings",
			r: func() *Record {
				r := rolledBack()
				r.Incident = &Incident{Threshold: "error rate > 5%, or > 1% for 2m"}
				r.Analysis = append(r.Analysis, AnalysisReading{Step: 2, Time: t0, Version: "candidate", Requests: 60, ErrorRate: 0.02, P95: math.NaN(), Verdict: "warn"})
				return r
			},
			want: []string{
				"p95 200ms (threshold: error rate &gt; 5%, or &gt; 1% for 2m).\n",
				"Readings at step 3:\n\n| Time | Version | Requests | Error rate | p50 | p95 | p99 | Verdict |\n|---|---|---|---|---|---|---|---|\n| 2025-03-04 05:10:07Z | candidate | 200 |",
				"| 2025-03-04 05:06:07Z | analysis at step 2: candidate warn (60 requests, error rate 2.00%, p95 n/a) |",
			},
			// A reading of another step is in the timeline, not the trigger's table.
			notWant: []string{"| 2025-03-04 05:06:07Z | candidate | 60 |", "Threshold:"},
		},
		{
			name: "threshold beside a given trigger",
			r: func() *Record {
				r := checkFailed()
				r.Incident = &Incident{Trigger: "api down", Threshold: "2 failures"}
				return r
			},
			want: []string{"**Trigger:** api down.\n\nThreshold: 2 failures.\n"},
		},
		{
			name: "abort",
			r: func() *Record {
				return &Record{Operation: OpAbort, Project: "p", Release: 5, PriorRelease: 4, Started: t0, Result: ResultSucceeded}
			},
			want: []string{"- Now: release #4 is serving; the paused release #5 was withdrawn."},
		},
		{
			name: "no incident for a clean failure",
			r: func() *Record {
				return &Record{Operation: OpApply, Started: t0, Result: ResultFailed}
			},
			notWant: []string{"Incident"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			md := IncidentReport(tt.r())
			for _, w := range tt.want {
				if !strings.Contains(md, w) {
					t.Errorf("report lacks %q", w)
				}
			}
			for _, w := range tt.notWant {
				if strings.Contains(md, w) {
					t.Errorf("report has %q", w)
				}
			}
			if t.Failed() {
				t.Logf("report:\n%s", md)
			}
		})
	}
}

// TestGolden compares whole renderings with files in testdata; records
// are built with fixed times, so nothing needs normalising. go test
// -update rewrites them.
func TestGolden(t *testing.T) {
	withIncident := func() *Record {
		r := rolledBack()
		r.Incident = &Incident{
			Threshold: "error rate > 5%, or > 1% for 2m",
			Logs:      []string{".slipway/incidents/r43/backend-green-1.log"},
			Timeline:  []Moment{{Time: t0.Add(4*time.Minute + 30*time.Second), Event: "error rate above 5% for a full interval"}},
		}
		r.Warnings = append(r.Warnings, `notify "incidents": POST failed after 3 tries: connection refused`)
		return r
	}
	tests := []struct {
		file   string
		render func(t *testing.T) string
	}{
		{"apply-rolled-back.md", func(*testing.T) string { return Markdown(withIncident()) }},
		{"apply-rolled-back.json", func(t *testing.T) string {
			p, _, err := Write(t.TempDir(), withIncident())
			if err != nil {
				t.Fatal(err)
			}
			data, err := os.ReadFile(p)
			if err != nil {
				t.Fatal(err)
			}
			if back, err := Load(p); err != nil || !equalRecords(back, withIncident()) {
				t.Errorf("Load does not give back the record with its incident: %v\n%+v", err, back)
			}
			return string(data)
		}},
		{"apply-needs-intervention.incident.md", func(*testing.T) string { return IncidentReport(checkFailed()) }},
		{"rollback.incident.md", func(*testing.T) string { return IncidentReport(manualRollback()) }},
		{"rollback.md", func(*testing.T) string { return Markdown(manualRollback()) }},
		{"rollback-target.md", func(*testing.T) string { return Markdown(rollbackToSnapshot()) }},
		{"rollback-target.json", func(t *testing.T) string {
			p, _, err := Write(t.TempDir(), rollbackToSnapshot())
			if err != nil {
				t.Fatal(err)
			}
			data, err := os.ReadFile(p)
			if err != nil {
				t.Fatal(err)
			}
			if back, err := Load(p); err != nil || !equalRecords(back, rollbackToSnapshot()) {
				t.Errorf("Load does not give back the rollback record: %v\n%+v", err, back)
			}
			return string(data)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			got := tt.render(t)
			golden := filepath.Join("testdata", tt.file)
			if *update {
				if err := os.MkdirAll("testdata", 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatal(err)
			}
			if got != string(want) {
				t.Errorf("rendering differs from %s (go test -update rewrites it):\n%s", golden, got)
			}
		})
	}
}
