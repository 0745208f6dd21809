package executor_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/slipwayhq/slipway/executor"
	"github.com/slipwayhq/slipway/planner/plan"
	"github.com/slipwayhq/slipway/providers"
	"github.com/slipwayhq/slipway/providers/fake"
	"github.com/slipwayhq/slipway/state"
	"github.com/slipwayhq/slipway/state/records"
)

// loggingRuntime is the fake runtime with logs: two lines per container,
// the second holding a secret, and "logs NAME" in the world's event log.
type loggingRuntime struct {
	*fake.Runtime
	w    *fakeWorld
	fail error
}

func (r loggingRuntime) Logs(ctx context.Context, name string, n int) ([]string, error) {
	r.w.Record(fmt.Sprintf("logs %s %d", name, n))
	if r.fail != nil {
		return nil, r.fail
	}
	return []string{"line 1 of " + name, "token=s3cr3t-value"}, nil
}

func mask(s string) string { return strings.ReplaceAll(s, "s3cr3t-value", "(sensitive)") }

// rollbackWorld is release 2 live (cand routed through routeFile, old
// kept stopped) and the plan of a rollback to release 1 as release 3.
func rollbackWorld(t *testing.T) (*fakeWorld, *state.State, *plan.Plan, string) {
	routeFile := filepath.Join(t.TempDir(), "shop-web.conf")
	if err := os.WriteFile(routeFile, []byte("# managed by slipway: release 2\nupstream v2 {}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	w := newWorld(t)
	w.Add(providers.Container{ID: "id-" + old, Name: old, Project: "shop", Service: "web", Release: 1, Index: 1, ImageID: idV1, State: "exited", HostAddr: oldIP})
	w.Add(providers.Container{ID: "id-" + cand, Name: cand, Project: "shop", Service: "web", Release: 2, Index: 1, ImageID: idV2, State: "running", HostAddr: "127.0.0.1:30002"})
	prior := priorState()
	prior.Release = 2
	prior.Services["web"] = &state.Service{Name: "web", Strategy: state.StrategyBlueGreen, Image: "demo:v2", ImageID: idV2, Release: 2, Version: "v2",
		Color: state.ColorGreen, Containers: []state.Container{{ID: "id-" + cand, Name: cand, Color: state.ColorGreen, Release: 2, Index: 1, ImageID: idV2}},
		RouteFile: routeFile, RouteChecksum: "sum-0",
		Previous: &state.Previous{Release: 1, Image: "demo:v1", ImageID: idV1, Version: "v1", Color: state.ColorBlue, Kept: state.KeptStopped,
			Containers: []state.Container{{Name: old, Release: 1, Index: 1}}}}
	steps := []*plan.Step{
		{ID: "service.web.start", Resource: "service.web", Kind: plan.KindStart, Action: plan.Update, Target: old, Names: []string{old}},
		{ID: "service.web.health", Resource: "service.web", Kind: plan.KindHealth, Target: old, Names: []string{old},
			Health: &providers.HealthSpec{Path: "/health", HealthyThreshold: 1}},
		{ID: "service.web.traffic", Resource: "service.web", Kind: plan.KindTraffic, Action: plan.Update, Target: "service.web",
			Traffic:      &plan.Traffic{Stable: []string{old}, Route: route(3, "v1")},
			Compensation: &plan.Step{Kind: plan.KindTraffic, Action: plan.Update, Traffic: &plan.Traffic{Stable: []string{cand}, Route: route(2, "v2")}}},
		{ID: "service.web.stop", Resource: "service.web", Kind: plan.KindStop, Action: plan.Update, Target: cand, Names: []string{cand}},
	}
	for i, s := range steps {
		s.Index = i
	}
	p := &plan.Plan{Operation: "rollback", Project: "shop", Lineage: prior.Lineage, Serial: 4, PriorRelease: 2, Release: 3, TargetRelease: 1,
		Reason: "rollback to release #1", Warnings: []string{"post-deploy checks skipped (-no-verify): api"},
		Resources: []*plan.Resource{{Address: "service.web", From: "demo:v2", To: "demo:v1", Strategy: "rollback", Steps: []int{0, 1, 2, 3}},
			{Address: "service.api", Unchanged: true}},
		Steps: steps,
		Services: map[string]*state.Service{"web": {Name: "web", Strategy: state.StrategyBlueGreen, Image: "demo:v1", ImageID: idV1, Release: 1, Version: "v1",
			Color: state.ColorBlue, Containers: []state.Container{{Name: old, Color: state.ColorBlue, Release: 1, Index: 1, ImageID: idV1}}}},
	}
	return w, prior, p, routeFile
}

func TestRollbackArchives(t *testing.T) {
	w, prior, p, _ := rollbackWorld(t)
	dir := filepath.Join(t.TempDir(), "records", "op-9-archive")
	opts := executor.Options{Prior: prior, Journal: w.journal(), OperationID: "op-9", Who: "ops@host", ArchiveDir: dir, Mask: mask}
	_, rec, err := executor.Apply(t.Context(), p, providers.Set{Runtime: loggingRuntime{Runtime: w.runtime(), w: w}, Router: w.router()}, opts, nil)
	if err != nil {
		t.Fatalf("Apply: %v", err)
	}
	ev := w.Events("journal", "observe")
	// Traffic moves first; the logs of the release it left are read after.
	if r, l := slices.Index(ev, "route web ["+oldIP+"]"), slices.Index(ev, "logs "+cand+" 100"); r < 0 || l < r {
		t.Errorf("events %q: want the logs of %s read after the switch", ev, cand)
	}
	if slices.Contains(ev, "logs "+old+" 100") {
		t.Errorf("the logs of %s, which now serves, were archived: %q", old, ev)
	}
	if rec.TargetRelease != 1 || rec.Release != 3 || rec.PriorRelease != 2 {
		t.Errorf("record releases: target %d, release %d, prior %d", rec.TargetRelease, rec.Release, rec.PriorRelease)
	}
	if want := []records.Change{{Resource: "service.web", From: "demo:v2", To: "demo:v1", Strategy: "rollback"}}; !slices.Equal(rec.Changes, want) {
		t.Errorf("record changes = %+v, want %+v", rec.Changes, want)
	}
	if !slices.Contains(rec.Warnings, "post-deploy checks skipped (-no-verify): api") {
		t.Errorf("record warnings = %q, want the plan's", rec.Warnings)
	}
	inc := rec.Incident
	if inc == nil {
		t.Fatal("no incident in the record of a rollback that archived logs")
	}
	wantLogs := []string{filepath.Join(dir, "route-web.conf"), filepath.Join(dir, cand+".log")}
	if !slices.Equal(inc.Logs, wantLogs) {
		t.Errorf("incident logs = %q, want %q", inc.Logs, wantLogs)
	}
	files := map[string]string{
		"route-web.conf": "# managed by slipway: release 2\nupstream v2 {}\n",
		cand + ".log":    "line 1 of " + cand + "\ntoken=(sensitive)\n",
	}
	for name, want := range files {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil || string(b) != want {
			t.Errorf("archived %s = %q, %v; want %q", name, b, err, want)
		}
	}
	if want := "service.web: v1 of release #1 (demo:v1) runs again, on " + old; !slices.Equal(inc.Restored, []string{want}) {
		t.Errorf("incident restored = %q, want %q", inc.Restored, want)
	}
	if len(inc.Timeline) != 1 || !strings.Contains(inc.Timeline[0].Event, "the route file of service.web it replaced and the last 100 log lines of 1 container of release #2") {
		t.Errorf("incident timeline = %+v", inc.Timeline)
	}
	md := records.Markdown(rec)
	if !strings.Contains(md, "- `"+filepath.Join(dir, cand+".log")+"`") {
		t.Errorf("the incident report does not list the archived log:\n%s", md)
	}
}

func TestArchiveNotAsked(t *testing.T) {
	tests := []struct {
		name string
		run  func(t *testing.T, dir string) *records.Record
	}{
		{"rollback without an archive dir", func(t *testing.T, dir string) *records.Record {
			w, prior, p, _ := rollbackWorld(t)
			opts := executor.Options{Prior: prior, Journal: w.journal(), OperationID: "op-9"}
			_, rec, err := executor.Apply(t.Context(), p, providers.Set{Runtime: loggingRuntime{Runtime: w.runtime(), w: w}, Router: w.router()}, opts, nil)
			if err != nil {
				t.Fatal(err)
			}
			if ev := w.Events(); slices.ContainsFunc(ev, func(e string) bool { return strings.HasPrefix(e, "logs ") }) {
				t.Errorf("logs read with no archive dir: %q", ev)
			}
			return rec
		}},
		{"apply that succeeds", func(t *testing.T, dir string) *records.Record {
			h := newHarness(t)
			h.opts.ArchiveDir = dir
			_, rec, err := executor.Apply(t.Context(), newPlan(startStep(), healthStep(), switchStep(), stopOldStep()),
				providers.Set{Runtime: loggingRuntime{Runtime: h.w.runtime(), w: h.w}, Router: h.w.router()}, h.opts, nil)
			if err != nil {
				t.Fatal(err)
			}
			return rec
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "archive")
			rec := tt.run(t, dir)
			if rec.Incident != nil && len(rec.Incident.Logs) > 0 {
				t.Errorf("incident logs = %q, want none", rec.Incident.Logs)
			}
			if _, err := os.Stat(dir); err == nil {
				t.Errorf("%s was created", dir)
			}
		})
	}
}

// TestUndoArchivesBeforeRemoving: the undo of a failed release moves the
// traffic back, then archives the logs of the new containers before they
// are removed.
func TestUndoArchivesBeforeRemoving(t *testing.T) {
	for _, logsFail := range []bool{false, true} {
		t.Run(fmt.Sprintf("logs fail %v", logsFail), func(t *testing.T) {
			h := newHarness(t)
			dir := filepath.Join(t.TempDir(), "archive")
			h.opts.ArchiveDir, h.opts.Mask = dir, mask
			h.checker.fail["post"] = errBoom
			rt := loggingRuntime{Runtime: h.w.runtime(), w: h.w}
			if logsFail {
				rt.fail = fmt.Errorf("daemon said no to s3cr3t-value")
			}
			_, rec, err := executor.Apply(t.Context(), newPlan(startStep(), healthStep(), switchStep(), checkStep("post")),
				providers.Set{Runtime: rt, Router: h.w.router()}, h.opts, nil)
			if err == nil {
				t.Fatal("Apply succeeded with a failing post check")
			}
			ev := h.w.Events("journal", "observe")
			back, logs, removed := slices.Index(ev, "route web ["+oldIP+"]"), slices.Index(ev, "logs "+cand+" 100"), slices.Index(ev, "remove "+cand)
			if back < 0 || logs < back || removed < logs {
				t.Errorf("events %q: want traffic back, then the logs of %s, then its removal", ev, cand)
			}
			if rec.Result != records.ResultRolledBack || rec.Incident == nil {
				t.Fatalf("record result %q, incident %+v", rec.Result, rec.Incident)
			}
			if logsFail {
				if len(rec.Incident.Logs) != 0 {
					t.Errorf("incident logs = %q, want none", rec.Incident.Logs)
				}
				if want := "archive the logs of " + cand + ": daemon said no to (sensitive)"; !slices.Contains(rec.Warnings, want) {
					t.Errorf("warnings = %q, want %q", rec.Warnings, want)
				}
				return
			}
			// The fake route file does not exist: only the log is kept.
			if want := []string{filepath.Join(dir, cand+".log")}; !slices.Equal(rec.Incident.Logs, want) {
				t.Errorf("incident logs = %q, want %q", rec.Incident.Logs, want)
			}
			if len(rec.Incident.Restored) != 0 {
				t.Errorf("an undone apply lists restored %q; its undone steps say it", rec.Incident.Restored)
			}
		})
	}
}

// fakeAnalyzer fails with reason at its first window.
type fakeAnalyzer struct{ reason string }

func (a fakeAnalyzer) Analyse(ctx context.Context, s *plan.Step, report func([]records.AnalysisReading, string, string)) error {
	report([]records.AnalysisReading{{Step: s.Index, Version: "candidate", Requests: 80, ErrorRate: 0.1, Verdict: "fail"}}, "fail", a.reason)
	return fmt.Errorf("analysis failed: %s", a.reason)
}

func TestAnalysisFailureIsTheThreshold(t *testing.T) {
	h := newHarness(t)
	h.opts.Analyzer = fakeAnalyzer{reason: "candidate error rate 10.0% > fail 5.0%"}
	analyse := &plan.Step{ID: "service.web.analyse.5", Resource: "service.web", Kind: plan.KindAnalyse, Target: "service.web", Analysis: "standard"}
	_, rec, err := h.apply(t.Context(), newPlan(startStep(), healthStep(), canaryStep(5), analyse))
	if err == nil {
		t.Fatal("Apply succeeded with a failing analysis")
	}
	if rec.Incident == nil || rec.Incident.Threshold != "candidate error rate 10.0% > fail 5.0%" {
		t.Fatalf("incident = %+v, want the failing reason as its threshold", rec.Incident)
	}
	if got := records.Trigger(rec); !strings.Contains(got, "(threshold: candidate error rate 10.0% > fail 5.0%)") {
		t.Errorf("trigger = %q", got)
	}
}
