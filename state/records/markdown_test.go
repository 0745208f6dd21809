package records

import (
	"strings"
	"testing"
)

func TestMarkdown(t *testing.T) {
	tests := []struct {
		name    string
		r       func() *Record
		want    []string
		notWant []string
	}{
		{
			name: "rolled back apply",
			r:    rolledBack,
			want: []string{
				"# slipway apply: thebot (staging) release #43\n",
				"**Result: failed and rolled back to release #42**",
				"| Release | #42 -> #43 |",
				"| Who | deploy@host |",
				"| Ended | 2025-03-04 05:13:07Z (took 7m0s) |",
				"| Git commit | abc123 |",
				"## Incident report",
				"**Trigger:** analysis of service.backend failed at step 3 \"analyse.backend\": candidate error rate 9.00% over 200 requests, p95 200ms.",
				"| 2025-03-04 05:11:07Z | step 3 \"analyse.backend\" (analyse service.backend): failed after 3m0s: error rate 9.00% &gt; 5% |",
				"| 2025-03-04 05:11:08Z | undo: step 2 \"traffic.backend.undo\" (traffic service.backend): compensated after 1s |",
				"- Undone: `traffic.backend.undo` (traffic service.backend): 100% stable.\n- Undone: `start.backend.undo`",
				"- Now: release #42 is serving again.",
				"No logs were archived with this record",
				"1. What went wrong?\n2. Why wasn't it caught pre-deployment?\n3. How do we prevent it next time?\n",
				"## Warnings\n\n- migration 0042 is not additive",
				"## Steps",
				"| 2 | traffic.backend | traffic | service.backend | 2025-03-04 05:07:07Z | 1m0s | ok | 5% \\| 25% |",
				"| 3 | analyse.backend | analyse | service.backend | 2025-03-04 05:08:07Z | 3m0s | failed | error: error rate 9.00% &gt; 5% |",
				"Output of step 1 `start.backend`:\n\n```text\npulled\nstarted\n```",
				"| api | pre | critical | passed | 12ms | GET /api/health -&gt; 200 &lt;ok&gt; |",
				"| 3 | 2025-03-04 05:10:07Z | candidate | 200 | 9.00% | 10ms | 200ms | 400ms | fail |",
				"| 3 | 2025-03-04 05:10:07Z | stable | 0 | n/a | n/a | n/a | n/a | no data |",
				"1000 requests, 3 failed (0.30%): 2 non-2xx, 1 transport errors.",
				"<details><summary>Plan as JSON</summary>\n\n````json\n{\"steps\"",
			},
		},
		{
			name: "succeeded apply",
			r: func() *Record {
				return &Record{Operation: OpApply, Project: "thebot", Release: 1, Started: t0, Result: ResultSucceeded}
			},
			want:    []string{"# slipway apply: thebot (default) release #1\n", "**Result: succeeded**"},
			notWant: []string{"## Incident", "## Steps", "## Plan", "| Ended |", "Error:"},
		},
		{
			name: "rollback is always an incident",
			r: func() *Record {
				return &Record{Operation: OpRollback, Project: "thebot", Release: 41, PriorRelease: 43,
					Started: t0, Result: ResultSucceeded, Reason: "p95 regression"}
			},
			want: []string{"## Incident report", "**Trigger:** manual rollback from release #43 to release #41 (reason given: p95 regression).",
				"- Nothing needed undoing.\n- Now: release #41 is serving again."},
		},
		{
			name: "needs intervention",
			r: func() *Record {
				r := rolledBack()
				r.Result = ResultNeedsIntervention
				return r
			},
			want:    []string{"**Result: failed and could not restore release #42: manual intervention needed**", "- Now: release #42 could not be restored"},
			notWant: []string{"is serving again"},
		},
		{
			name: "running",
			r: func() *Record {
				return &Record{Operation: OpApply, Project: "p", Release: 2, Started: t0, Result: ResultRunning}
			},
			want: []string{"**Result: in progress (or interrupted)**"},
		},
		{
			name: "paused",
			r: func() *Record {
				return &Record{Operation: OpApply, Project: "p", Release: 2, Started: t0, Result: ResultPaused}
			},
			want:    []string{"paused at an approval gate (resume with `slipway promote`, or `slipway abort`)"},
			notWant: []string{"## Incident"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			md := Markdown(tt.r())
			for _, w := range tt.want {
				if !strings.Contains(md, w) {
					t.Errorf("markdown lacks %q", w)
				}
			}
			for _, w := range tt.notWant {
				if strings.Contains(md, w) {
					t.Errorf("markdown has %q", w)
				}
			}
			if t.Failed() {
				t.Logf("markdown:\n%s", md)
			}
		})
	}
}

func TestFencedCannotBeClosedByContent(t *testing.T) {
	tests := []struct{ in, fence string }{
		{"plain", "```"},
		{"a ``` b", "````"},
		{"a ````` b", "``````"},
	}
	for _, tt := range tests {
		got := fenced("", tt.in)
		if !strings.HasPrefix(got, tt.fence+"\n") || !strings.HasSuffix(got, "\n"+tt.fence+"\n") || strings.HasPrefix(got, tt.fence+"`") {
			t.Errorf("fenced(%q) = %q, want fence %q", tt.in, got, tt.fence)
		}
	}
}
