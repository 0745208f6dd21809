package executor_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/slipwayhq/slipway/executor"
	"github.com/slipwayhq/slipway/planner/plan"
	"github.com/slipwayhq/slipway/providers"
	"github.com/slipwayhq/slipway/state"
	"github.com/slipwayhq/slipway/state/records"
)

func TestApplySucceeds(t *testing.T) {
	h := newHarness(t)
	p := newPlan(checkStep("pre"), startStep(), healthStep(), switchStep(), stopOldStep(), checkStep("post"))
	st, rec, err := h.apply(t.Context(), p)
	if err != nil {
		t.Fatalf("Apply: %v", err)
	}
	diffLines(t, "events", h.w.Events(), []string{
		"journal open",
		"observe",
		"journal intent checks.pre",
		"checks pre",
		"journal done checks.pre",
		"journal intent service.web.start.1",
		"start " + cand,
		"journal done service.web.start.1",
		"journal intent service.web.health.2",
		"health " + cand,
		"journal done service.web.health.2",
		"journal intent service.web.traffic.3",
		"route web [" + nextIP + "]",
		"journal done service.web.traffic.3",
		"journal intent service.web.stop.4",
		"stop " + old,
		"journal done service.web.stop.4",
		"journal intent checks.post",
		"checks post",
		"journal done checks.post",
	})

	if st.Release != 2 || st.ConfigHash != "cfg2" || st.Secrets["service.web.env.SECRET"] != "hmac" || st.Lineage != h.prior.Lineage {
		t.Errorf("new state release %d hash %q secrets %v lineage %q", st.Release, st.ConfigHash, st.Secrets, st.Lineage)
	}
	web := st.Services["web"]
	if web == nil || web.Release != 2 || web.ImageID != idV2 || len(web.Containers) != 1 {
		t.Fatalf("new state of web = %+v", web)
	}
	if c := web.Containers[0]; c.Name != cand || c.ID != "id-"+cand || c.HostAddr != nextIP || c.ImageID != idV2 {
		t.Errorf("new container = %+v, want the id and address Start returned", c)
	}
	if web.RouteFile != "conf.d/shop-web.conf" || web.RouteChecksum != "sum-1" || web.Weights != nil {
		t.Errorf("route file %q checksum %q weights %v", web.RouteFile, web.RouteChecksum, web.Weights)
	}
	if web.Previous == nil || web.Previous.Release != 1 {
		t.Errorf("previous = %+v", web.Previous)
	}
	// The prior state is left as it was.
	if pw := h.prior.Services["web"]; pw.Release != 1 || pw.Containers[0].Name != old || h.prior.Release != 1 {
		t.Errorf("Apply changed the prior state: %+v", pw)
	}
	// So is the plan's next state, which a saved plan may still hold.
	if c := p.Services["web"].Containers[0]; c.ID != "" || c.HostAddr != "" {
		t.Errorf("Apply wrote into the plan: %+v", c)
	}

	if rec.Result != "succeeded" || rec.Release != 2 || rec.PriorRelease != 1 || rec.Who != "tester@host" || rec.ID != "op-1" {
		t.Errorf("record = %+v", rec)
	}
	if len(rec.Steps) != 6 {
		t.Fatalf("record has %d steps, want 6", len(rec.Steps))
	}
	for i, s := range rec.Steps {
		if s.Outcome != "ok" || s.Index != i || s.ID != p.Steps[i].ID {
			t.Errorf("record step %d = %+v", i, s)
		}
	}
	if len(rec.Checks) != 2 || rec.Checks[0].Phase != "pre" || rec.Checks[1].Phase != "post" {
		t.Errorf("check evidence = %+v", rec.Checks)
	}
	if h.prober.starts != 1 || h.prober.stops != 1 || rec.Prober == nil || rec.Prober.Requests != 10 {
		t.Errorf("prober started %d stopped %d times, counts %+v", h.prober.starts, h.prober.stops, rec.Prober)
	}
	checkResults(t, h, "succeeded")

	var wantHook []string
	for _, s := range p.Steps {
		wantHook = append(wantHook, "started "+s.ID, "finished "+s.ID)
	}
	diffLines(t, "hook calls", h.hook.calls, wantHook)

	// The journal holds one intent and one done per step, in order.
	last := h.w.writes[len(h.w.writes)-1]
	if len(last.Entries) != 2*len(p.Steps) || last.OperationID != "op-1" || last.Release != 2 || last.PriorRelease != 1 {
		t.Errorf("journal = %+v", last)
	}
	if got := last.Finished(); len(got) != len(p.Steps) {
		t.Errorf("journal says steps %v finished, want all %d", got, len(p.Steps))
	}
}

// checkResults checks that the record was reported from the start
// ("running", before any provider call) to its end (want).
func checkResults(t *testing.T, h *harness, want string) {
	t.Helper()
	if !slices.Equal(h.firstRecord, []string{"journal open"}) {
		t.Errorf("first record reported after %v, want right after the journal opens", h.firstRecord)
	}
	results := h.results
	if len(results) < 2 || results[0] != "running" || results[len(results)-1] != want {
		t.Errorf("record results reported = %v, want running first and %s last", results, want)
		return
	}
	for _, r := range results[:len(results)-1] {
		if r != "running" {
			t.Errorf("record results reported = %v: %s before the end", results, r)
		}
	}
}

func TestApplyCanaryWeights(t *testing.T) {
	h := newHarness(t)
	h.opts.AutoApprove = true
	p := newPlan(startStep(), healthStep(), canaryStep(25))
	st, _, err := h.apply(t.Context(), p)
	if err != nil {
		t.Fatal(err)
	}
	if got := h.w.Events("journal", "observe"); got[len(got)-1] != "route web ["+oldIP+"] 25%["+nextIP+"]" {
		t.Errorf("last call = %q, want the 25%% split between the old and new addresses", got[len(got)-1])
	}
	if w := st.Services["web"].Weights; w["stable"] != 75 || w["candidate"] != 25 {
		t.Errorf("weights = %v, want stable 75, candidate 25", w)
	}
}

// TestApplyFails covers the ways a release ends early: which provider
// calls undo it, in which order, and the outcome and record it leaves.
func TestApplyFails(t *testing.T) {
	healthErr := &providers.HealthError{Container: cand, Reason: "deadline exceeded", Logs: []string{"panic: no database"}}
	tests := []struct {
		name        string
		steps       func() []*plan.Step
		fail        map[string]error
		failCheck   string
		wantOutcome executor.Outcome
		wantCode    int
		wantResult  string
		wantStep    string
		wantCalls   []string // provider calls (no journal, observe or checks lines)
		wantHook    []string
	}{
		{
			name:        "health",
			steps:       func() []*plan.Step { return []*plan.Step{startStep(), healthStep(), switchStep()} },
			fail:        map[string]error{"health " + cand: healthErr},
			wantOutcome: executor.RolledBack, wantCode: 2, wantResult: "rolled_back", wantStep: "service.web.health.2",
			wantCalls: []string{"start " + cand, "health " + cand, "remove " + cand},
			wantHook: []string{"started service.web.start.1", "finished service.web.start.1",
				"started service.web.health.2", "finished service.web.health.2 (failed)",
				"compensating service.web.start.1.undo", "compensated service.web.start.1.undo"},
		},
		{
			name: "post check",
			steps: func() []*plan.Step {
				return []*plan.Step{startStep(), healthStep(), switchStep(), stopOldStep(), checkStep("post")}
			},
			failCheck:   "post",
			wantOutcome: executor.RolledBack, wantCode: 2, wantResult: "rolled_back", wantStep: "checks.post",
			// Newest first: the old container started again, traffic
			// back to it, then the new one removed.
			wantCalls: []string{"start " + cand, "health " + cand, "route web [" + nextIP + "]", "stop " + old,
				"start " + old, "route web [" + oldIP + "]", "remove " + cand},
			wantHook: []string{"started service.web.start.1", "finished service.web.start.1",
				"started service.web.health.2", "finished service.web.health.2",
				"started service.web.traffic.3", "finished service.web.traffic.3",
				"started service.web.stop.4", "finished service.web.stop.4",
				"started checks.post", "finished checks.post (failed)",
				"compensating service.web.stop.4.undo", "compensated service.web.stop.4.undo",
				"compensating service.web.traffic.3.undo", "compensated service.web.traffic.3.undo",
				"compensating service.web.start.1.undo", "compensated service.web.start.1.undo"},
		},
		{
			name:        "pre check",
			steps:       func() []*plan.Step { return []*plan.Step{checkStep("pre"), startStep(), healthStep(), switchStep()} },
			failCheck:   "pre",
			wantOutcome: executor.Refused, wantCode: 1, wantResult: "failed", wantStep: "checks.pre",
			wantCalls: nil,
			wantHook:  []string{"started checks.pre", "finished checks.pre (failed)"},
		},
		{
			name:        "compensation",
			steps:       func() []*plan.Step { return []*plan.Step{startStep(), healthStep(), switchStep()} },
			fail:        map[string]error{"health " + cand: healthErr, "remove " + cand: errBoom},
			wantOutcome: executor.NeedsIntervention, wantCode: 3, wantResult: "needs_intervention", wantStep: "service.web.health.2",
			wantCalls: []string{"start " + cand, "health " + cand, "remove " + cand},
			wantHook: []string{"started service.web.start.1", "finished service.web.start.1",
				"started service.web.health.2", "finished service.web.health.2 (failed)",
				"compensating service.web.start.1.undo", "compensated service.web.start.1.undo (failed)"},
		},
		{
			// The router restored the previous routing itself: its own
			// compensation must not run (it would switch a second time).
			name:        "traffic",
			steps:       func() []*plan.Step { return []*plan.Step{startStep(), healthStep(), switchStep()} },
			fail:        map[string]error{"route web": errBoom},
			wantOutcome: executor.RolledBack, wantCode: 2, wantResult: "rolled_back", wantStep: "service.web.traffic.3",
			wantCalls: []string{"start " + cand, "health " + cand, "route web [" + nextIP + "]", "remove " + cand},
			wantHook: []string{"started service.web.start.1", "finished service.web.start.1",
				"started service.web.health.2", "finished service.web.health.2",
				"started service.web.traffic.3", "finished service.web.traffic.3 (failed)",
				"compensating service.web.start.1.undo", "compensated service.web.start.1.undo"},
		},
		{
			// A half-done start is undone by its own compensation.
			name:        "start",
			steps:       func() []*plan.Step { return []*plan.Step{startStep(), healthStep(), switchStep()} },
			fail:        map[string]error{"start " + cand: errBoom},
			wantOutcome: executor.RolledBack, wantCode: 2, wantResult: "rolled_back", wantStep: "service.web.start.1",
			wantCalls: []string{"start " + cand, "remove " + cand},
			wantHook: []string{"started service.web.start.1", "finished service.web.start.1 (failed)",
				"compensating service.web.start.1.undo", "compensated service.web.start.1.undo"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t)
			h.w.Fail = tt.fail
			if tt.failCheck != "" {
				h.checker.fail[tt.failCheck] = errBoom
			}
			p := newPlan(tt.steps()...)
			st, rec, err := h.apply(t.Context(), p)
			if err == nil {
				t.Fatal("Apply succeeded")
			}
			if err.Outcome != tt.wantOutcome || err.Outcome.ExitCode() != tt.wantCode || err.Step != tt.wantStep {
				t.Errorf("outcome %s (exit %d) at step %q, want %s (exit %d) at %q: %v",
					err.Outcome, err.Outcome.ExitCode(), err.Step, tt.wantOutcome, tt.wantCode, tt.wantStep, err)
			}
			if st != h.prior {
				t.Errorf("Apply returned a new state after a failure, want the prior one")
			}
			diffLines(t, "provider calls", h.w.Events("journal", "observe", "checks"), tt.wantCalls)
			diffLines(t, "hook calls", h.hook.calls, tt.wantHook)
			if rec.Result != tt.wantResult || rec.Error != err.Error() {
				t.Errorf("record result %q error %q, want %q and %q", rec.Result, rec.Error, tt.wantResult, err.Error())
			}
			checkResults(t, h, tt.wantResult)
			if tt.wantOutcome == executor.NeedsIntervention && len(err.Undo) != 1 {
				t.Errorf("undo errors = %v, want one", err.Undo)
			}
			if tt.name == "health" {
				var he *providers.HealthError
				if !errors.As(err, &he) || he.Container != cand {
					t.Errorf("error %v does not carry the health error", err)
				}
				if i := slices.IndexFunc(rec.Steps, func(s records.StepRecord) bool { return s.ID == "service.web.health.2" }); i < 0 ||
					!slices.Contains(rec.Steps[i].Output, "panic: no database") || rec.Steps[i].Outcome != "failed" {
					t.Errorf("record of the health step does not keep the container's logs: %+v", rec.Steps)
				}
			}
			// Each compensation that worked is journaled as done.
			j := h.w.writes[len(h.w.writes)-1]
			for _, s := range p.Steps {
				if s.Compensation == nil || !slices.Contains(tt.wantHook, "compensated "+s.ID+".undo") {
					continue
				}
				if got := j.LastPhase(s.Index); got != state.PhaseCompensated {
					t.Errorf("journal of step %s ends in %q, want compensated", s.ID, got)
				}
			}
			if rec.Prober != nil && h.prober.stops != 1 {
				t.Errorf("prober stopped %d times", h.prober.stops)
			}
		})
	}
}

func TestApplyApprovalGate(t *testing.T) {
	steps := func() []*plan.Step {
		return []*plan.Step{startStep(), healthStep(), canaryStep(50), gateStep(), switchStep()}
	}
	t.Run("paused", func(t *testing.T) {
		h := newHarness(t)
		st, rec, err := h.apply(t.Context(), newPlan(steps()...))
		if err == nil || err.Outcome != executor.Paused || err.Outcome.ExitCode() != 4 || err.Step != "service.web.pause.gate" {
			t.Fatalf("Apply = %v, want paused at the gate (exit 4)", err)
		}
		if st != h.prior || rec.Result != "paused" {
			t.Errorf("state is prior: %v, record result %q", st == h.prior, rec.Result)
		}
		diffLines(t, "provider calls", h.w.Events("journal", "observe"), []string{
			"start " + cand, "health " + cand, "route web [" + oldIP + "] 50%[" + nextIP + "]",
		})
		checkResults(t, h, "paused")
		// The journal keeps the gate in flight and everything before it
		// done, for promote or abort to pick up.
		j := h.w.writes[len(h.w.writes)-1]
		if got := j.Finished(); !slices.Equal(got, []int{0, 1, 2}) {
			t.Errorf("journal finished steps %v, want [0 1 2]", got)
		}
		if got := j.LastPhase(3); got != state.PhaseIntent {
			t.Errorf("journal of the gate ends in %q, want intent", got)
		}
	})
	t.Run("auto-approve", func(t *testing.T) {
		h := newHarness(t)
		h.opts.AutoApprove = true
		st, rec, err := h.apply(t.Context(), newPlan(steps()...))
		if err != nil {
			t.Fatal(err)
		}
		if st.Release != 2 || rec.Result != "succeeded" || st.Services["web"].Weights != nil {
			t.Errorf("state release %d weights %v, record %q", st.Release, st.Services["web"].Weights, rec.Result)
		}
		if got := h.w.Events("journal", "observe"); got[len(got)-1] != "route web ["+nextIP+"]" {
			t.Errorf("last call = %q, want the switch after the gate", got[len(got)-1])
		}
	})
}

// TestApplyResumeKeepsRecord promotes a release paused at a gate: the new
// record starts with the steps and readings the paused run recorded, each
// step once, then the gate (approved) and the steps after it.
func TestApplyResumeKeepsRecord(t *testing.T) {
	h := newHarness(t)
	_, paused, err := h.apply(t.Context(), newPlan(startStep(), healthStep(), canaryStep(50), gateStep(), switchStep()))
	if err == nil || err.Outcome != executor.Paused {
		t.Fatalf("Apply = %v, want paused", err)
	}
	paused.Analysis = append(paused.Analysis, records.AnalysisReading{Step: 2, Version: "candidate", Requests: 100, Verdict: "pass"})
	j := h.w.writes[len(h.w.writes)-1]
	h.opts.Resume = &j
	h.opts.OperationID = "op-2" // promote's own id; the resumed one wins
	h.opts.Continues = paused
	_, rec, err := h.apply(t.Context(), newPlan(startStep(), healthStep(), canaryStep(50), gateStep(), switchStep()))
	if err != nil {
		t.Fatal(err)
	}
	var got []int
	for _, s := range rec.Steps {
		got = append(got, s.Index)
	}
	if !slices.Equal(got, []int{0, 1, 2, 3, 4}) {
		t.Errorf("record steps %v, want [0 1 2 3 4], each once", got)
	}
	if len(rec.Analysis) != 1 || rec.Analysis[0].Requests != 100 || rec.ID != paused.ID {
		t.Errorf("record id %q analysis %+v, want the paused run's id and reading", rec.ID, rec.Analysis)
	}

	// Another operation's record is not continued.
	h2 := newHarness(t)
	if _, _, err := h2.apply(t.Context(), newPlan(startStep(), healthStep(), canaryStep(50), gateStep(), switchStep())); err == nil {
		t.Fatal("want paused")
	}
	j2 := h2.w.writes[len(h2.w.writes)-1]
	h2.opts.Resume = &j2
	other := *paused
	other.ID = "op-other"
	h2.opts.Continues = &other
	_, rec, err = h2.apply(t.Context(), newPlan(startStep(), healthStep(), canaryStep(50), gateStep(), switchStep()))
	if err != nil {
		t.Fatal(err)
	}
	if len(rec.Steps) != 2 || len(rec.Analysis) != 0 {
		t.Errorf("record of another operation was continued: %d steps, %d readings", len(rec.Steps), len(rec.Analysis))
	}
}

// TestApplyGracefulStop closes Options.Stop while a step runs: that step
// ends, nothing after it runs, and the finished steps are undone.
func TestApplyGracefulStop(t *testing.T) {
	t.Run("during a pause", func(t *testing.T) {
		h := newHarness(t)
		stop := make(chan struct{})
		h.opts.Stop = stop
		h.hook.progress = func(s *plan.Step, msg string) {
			if s.Kind == plan.KindPause {
				close(stop)
			}
		}
		// An hour's pause: the test only ends if the stop ends it.
		_, rec, err := h.apply(t.Context(), newPlan(startStep(), healthStep(), switchStep(), pauseStep(1<<62), checkStep("post")))
		if err == nil || err.Outcome != executor.RolledBack || !errors.Is(err, executor.ErrInterrupted) {
			t.Fatalf("Apply = %v, want rolled back after an interrupt", err)
		}
		diffLines(t, "provider calls", h.w.Events("journal", "observe", "checks"), []string{
			"start " + cand, "health " + cand, "route web [" + nextIP + "]",
			"route web [" + oldIP + "]", "remove " + cand,
		})
		if rec.Result != "rolled_back" {
			t.Errorf("record result %q", rec.Result)
		}
	})
	t.Run("between steps", func(t *testing.T) {
		h := newHarness(t)
		stop := make(chan struct{})
		h.opts.Stop = stop
		h.hook.finished = func(s *plan.Step) {
			if s.Kind == plan.KindStart {
				close(stop)
			}
		}
		_, _, err := h.apply(t.Context(), newPlan(startStep(), healthStep(), switchStep()))
		if err == nil || err.Outcome != executor.RolledBack || !errors.Is(err, executor.ErrInterrupted) {
			t.Fatalf("Apply = %v, want rolled back after an interrupt", err)
		}
		diffLines(t, "provider calls", h.w.Events("journal", "observe"), []string{"start " + cand, "remove " + cand})
		diffLines(t, "hook calls", h.hook.calls, []string{"started service.web.start.1", "finished service.web.start.1",
			"compensating service.web.start.1.undo", "compensated service.web.start.1.undo"})
	})
}

// TestApplyHardStop cancels ctx (a second interrupt): the executor stops
// at once, between steps or inside one, undoes nothing and keeps the
// journal for the next plan; the record still ends.
func TestApplyHardStop(t *testing.T) {
	tests := []struct {
		name         string
		cancelAt     func(h *harness, cancel func())
		wantFinished []int
	}{
		{"between steps", func(h *harness, cancel func()) {
			h.hook.finished = func(s *plan.Step) { cancel() }
		}, []int{0}},
		{"during a pause", func(h *harness, cancel func()) {
			h.hook.progress = func(s *plan.Step, msg string) { cancel() }
		}, []int{0, 1, 2}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t)
			ctx, cancel := context.WithCancel(t.Context())
			defer cancel()
			tt.cancelAt(h, cancel)
			_, rec, err := h.apply(ctx, newPlan(startStep(), healthStep(), switchStep(), pauseStep(1<<62), checkStep("post")))
			if err == nil || err.Outcome != executor.NeedsIntervention || !errors.Is(err, context.Canceled) {
				t.Fatalf("Apply = %v, want needs intervention after a hard stop", err)
			}
			for _, c := range h.w.Events("journal", "observe") {
				if c == "remove "+cand || c == "route web ["+oldIP+"]" {
					t.Errorf("a hard stop undid a step: %v", h.w.Events())
				}
			}
			j := h.w.writes[len(h.w.writes)-1]
			if got := j.Finished(); !slices.Equal(got, tt.wantFinished) {
				t.Errorf("journal finished steps %v, want %v", got, tt.wantFinished)
			}
			if rec.Result != "needs_intervention" {
				t.Errorf("record result %q", rec.Result)
			}
			if want := "stopped at once: context canceled; the journal is kept, run 'slipway plan' to see what to do; manual intervention needed"; !strings.HasSuffix(err.Error(), want) {
				t.Errorf("error = %q, want %q", err.Error(), want)
			}
			checkResults(t, h, "needs_intervention")
		})
	}
}

// TestApplyHardStopDuringUndo interrupts twice: the first starts the
// undo, the second stops it after the compensation under way.
func TestApplyHardStopDuringUndo(t *testing.T) {
	h := newHarness(t)
	stop := make(chan struct{})
	h.opts.Stop = stop
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	h.hook.progress = func(s *plan.Step, msg string) { close(stop) }
	h.hook.compensated = func(s *plan.Step) { cancel() }
	_, rec, err := h.apply(ctx, newPlan(startStep(), healthStep(), switchStep(), pauseStep(1<<62)))
	if err == nil {
		t.Fatal("Apply succeeded")
	}
	if err.Outcome != executor.NeedsIntervention || len(err.Undo) != 1 {
		t.Fatalf("Apply = %v (undo errors %v), want needs intervention with one step not undone", err, err.Undo)
	}
	diffLines(t, "provider calls", h.w.Events("journal", "observe"), []string{
		"start " + cand, "health " + cand, "route web [" + nextIP + "]", "route web [" + oldIP + "]",
	})
	if rec.Result != "needs_intervention" {
		t.Errorf("record result %q", rec.Result)
	}
	// The journal shows the new container still in the world.
	if got := h.w.writes[len(h.w.writes)-1].Finished(); !slices.Equal(got, []int{0, 1}) {
		t.Errorf("journal finished steps %v, want [0 1]", got)
	}
}

func TestApplyJournalUnwritable(t *testing.T) {
	h := newHarness(t)
	h.w.Fail["journal open"] = errBoom
	st, _, err := h.apply(t.Context(), newPlan(startStep(), healthStep(), switchStep()))
	if err == nil || err.Outcome != executor.Refused || !errors.Is(err, errBoom) || st != h.prior {
		t.Fatalf("Apply = %v, want refused", err)
	}
	if got := h.w.Events("journal"); len(got) != 0 {
		t.Errorf("provider calls without a journal: %v", got)
	}
}

// TestApplyIntentUnwritable fails the journal write before a step: the
// step's action never runs, and the steps before it are undone.
func TestApplyIntentUnwritable(t *testing.T) {
	h := newHarness(t)
	p := newPlan(startStep(), healthStep(), switchStep())
	calls := 0
	j := h.opts.Journal
	h.opts.Journal = journalFunc(func(jn *state.Journal) error {
		if n := len(jn.Entries); n > 0 && jn.Entries[n-1].Phase == state.PhaseIntent && jn.Entries[n-1].StepID == "service.web.traffic.3" {
			calls++
			return errBoom
		}
		return j.WriteJournal(jn)
	})
	_, _, err := h.apply(t.Context(), p)
	if err == nil || err.Outcome != executor.RolledBack || calls != 1 {
		t.Fatalf("Apply = %v, want rolled back", err)
	}
	diffLines(t, "provider calls", h.w.Events("journal", "observe"), []string{"start " + cand, "health " + cand, "remove " + cand})
}

type journalFunc func(*state.Journal) error

func (f journalFunc) WriteJournal(j *state.Journal) error { return f(j) }
func (f journalFunc) ClearJournal() error                 { return nil }

func TestOutcomeExitCodes(t *testing.T) {
	want := map[executor.Outcome]int{executor.Succeeded: 0, executor.Refused: 1, executor.RolledBack: 2, executor.NeedsIntervention: 3, executor.Paused: 4}
	for o, code := range want {
		if o.ExitCode() != code {
			t.Errorf("%s exits %d, want %d", o, o.ExitCode(), code)
		}
	}
}

// TestApplyManyContainers runs steps over two containers at once, as the
// executor does for replicas: under -race this proves the shared record
// and live map are safe, and every container's logs are kept.
func TestApplyManyContainers(t *testing.T) {
	const old2, cand2 = "shop-web-r1-2", "shop-web-r2-2"
	two := func(s *plan.Step, extra string) *plan.Step {
		if len(s.Containers) > 0 {
			c := s.Containers[0]
			c.Name, c.Index = extra, 2
			s.Containers = append(s.Containers, c)
		} else {
			s.Names = append(s.Names, extra)
		}
		if c := s.Compensation; c != nil && len(c.Names) > 0 {
			c.Names = append(c.Names, extra)
		}
		return s
	}
	setup := func(t *testing.T) *harness {
		h := newHarness(t)
		h.w.Add(providers.Container{ID: "id-" + old2, Name: old2, Project: "shop", Service: "web", Release: 1, Index: 2,
			ImageID: idV1, State: "running", HostAddr: "127.0.0.1:30002"})
		return h
	}
	t.Run("health", func(t *testing.T) {
		h := setup(t)
		for _, n := range []string{cand, cand2} {
			h.w.Fail["health "+n] = &providers.HealthError{Container: n, Reason: "deadline exceeded", Logs: []string{"log of " + n}}
		}
		_, rec, err := h.apply(t.Context(), newPlan(two(startStep(), cand2), two(healthStep(), cand2)))
		if err == nil || err.Outcome != executor.RolledBack {
			t.Fatalf("Apply = %v, want rolled back", err)
		}
		out := rec.Steps[1].Output
		if !slices.Contains(out, "log of "+cand) || !slices.Contains(out, "log of "+cand2) {
			t.Errorf("health record output = %v, want the logs of both containers", out)
		}
	})
	t.Run("start again", func(t *testing.T) {
		h := setup(t)
		h.checker.fail["post"] = errBoom
		_, _, err := h.apply(t.Context(), newPlan(two(startStep(), cand2), two(healthStep(), cand2), switchStep(), two(stopOldStep(), old2), checkStep("post")))
		if err == nil || err.Outcome != executor.RolledBack {
			t.Fatalf("Apply = %v, want rolled back", err)
		}
		for _, n := range []string{old, old2} {
			if c, _ := h.w.Container(n); !c.Running() {
				t.Errorf("%s is %q after the rollback, want running", n, c.State)
			}
		}
	})
}

// TestTrafficStartsStoppedTargets: requests never go to a stopped
// container. A hotfix stops the old release first; undoing its switch
// routes back to it, so the executor starts it again before it routes.
func TestTrafficStartsStoppedTargets(t *testing.T) {
	h := newHarness(t)
	c, _ := h.w.Container(old)
	c.State = "exited"
	h.w.Add(c)
	back := switchStep().Compensation
	back.ID, back.Index = "service.web.traffic.back", 0
	p := newPlan(back)
	if _, _, err := h.apply(t.Context(), p); err != nil {
		t.Fatal(err)
	}
	got := h.w.Events("journal", "observe")
	want := []string{"start " + old, "route web [" + oldIP + "]"}
	if !slices.Equal(got, want) {
		t.Errorf("calls = %q, want %q", got, want)
	}
}

// updateStep sets restart policy unless-stopped on the live container,
// undone by setting "no" back.
func updateStep() *plan.Step {
	return &plan.Step{ID: "service.web.update.1", Resource: "service.web", Kind: plan.KindUpdate, Action: plan.Update, Target: old,
		Detail: "restart policy no -> unless-stopped", Names: []string{old}, Restart: "unless-stopped",
		Compensation: &plan.Step{Kind: plan.KindUpdate, Action: plan.Update, Target: old, Detail: "restart policy back to no",
			Names: []string{old}, Restart: "no"}}
}

// TestApplyUpdatesRestartPolicy: an update step changes the live
// container's policy between its journal entries, and a later failure
// sets the old policy back.
func TestApplyUpdatesRestartPolicy(t *testing.T) {
	h := newHarness(t)
	if _, _, err := h.apply(t.Context(), newPlan(updateStep())); err != nil {
		t.Fatalf("Apply: %v", err)
	}
	diffLines(t, "events", h.w.Events(), []string{
		"journal open",
		"observe",
		"journal intent service.web.update.1",
		"restart-policy " + old + " unless-stopped",
		"journal done service.web.update.1",
	})

	h = newHarness(t)
	h.checker.fail["post"] = errBoom
	_, _, err := h.apply(t.Context(), newPlan(updateStep(), checkStep("post")))
	if err == nil || err.Outcome != executor.RolledBack {
		t.Fatalf("Apply with a failing post check: %v, want rolled back", err)
	}
	diffLines(t, "events", h.w.Events("journal"), []string{
		"observe",
		"restart-policy " + old + " unless-stopped",
		"checks post",
		"restart-policy " + old + " no",
	})
	if c, _ := h.w.Container(old); c.Restart != "no" {
		got := c.Restart
		t.Errorf("restart policy after the undo = %q, want no", got)
	}
}

// TestTrafficRecordsTheLiveAddress: a container that answers on another
// port than state recorded (restarted before its port was pinned) is
// routed where it answers, and the state records that address.
func TestTrafficRecordsTheLiveAddress(t *testing.T) {
	h := newHarness(t)
	h.prior.Services["web"].Containers[0].HostAddr = "127.0.0.1:39999"
	back := &plan.Step{ID: "service.web.traffic.1", Resource: "service.web", Kind: plan.KindTraffic, Action: plan.Update,
		Traffic: &plan.Traffic{Stable: []string{old}, Route: route(1, "v1")}}
	p := newPlan(back)
	p.Services = map[string]*state.Service{"web": h.prior.Services["web"].DeepCopy()}
	st, _, err := h.apply(t.Context(), p)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(h.w.Events(), "route web ["+oldIP+"]") {
		t.Errorf("events %v: want the route to %s", h.w.Events(), oldIP)
	}
	if got := st.Services["web"].Containers[0].HostAddr; got != oldIP {
		t.Errorf("state records %s, want the address it answers on, %s", got, oldIP)
	}
}

// TestUndoDrains undoes releases whose traffic had moved: after the
// compensation that routes back, the executor drains (plan.Step.Drain)
// before it stops or removes containers, once however many switches it
// undid, and a hard stop during the drain leaves the rest to the next plan.
func TestUndoDrains(t *testing.T) {
	const drain = 30 * time.Millisecond
	// canaryBack is the canary's first step, undone by all traffic back
	// to release 1 with a drain.
	canaryBack := func(weight int) *plan.Step {
		s := canaryStep(weight)
		s.Compensation = &plan.Step{Kind: plan.KindTraffic, Action: plan.Update, Detail: "all traffic back to v1",
			Traffic: &plan.Traffic{Stable: []string{old}, Route: route(1, "v1")}, Drain: drain}
		return s
	}
	withDrain := func(s *plan.Step) *plan.Step {
		s.Compensation.Drain = drain
		return s
	}
	progress := func(h *harness) {
		h.hook.progress = func(s *plan.Step, msg string) {
			h.hook.calls = append(h.hook.calls, "progress "+s.ID+": "+msg)
		}
	}
	undo := []string{
		"compensating service.web.traffic.25.undo", "compensated service.web.traffic.25.undo",
		"progress service.web.start.1.undo: draining for 30ms: traffic left these containers",
		"compensating service.web.start.1.undo", "compensated service.web.start.1.undo",
	}

	t.Run("post check", func(t *testing.T) {
		h := newHarness(t)
		progress(h)
		h.checker.fail["post"] = errBoom
		p := newPlan(startStep(), healthStep(), canaryBack(25), canaryStep(50), withDrain(switchStep()), checkStep("post"))
		if _, _, err := h.apply(t.Context(), p); err == nil || err.Outcome != executor.RolledBack {
			t.Fatalf("Apply = %v, want rolled back", err)
		}
		diffLines(t, "undo", h.hook.calls[len(h.hook.calls)-7:], append([]string{
			"compensating service.web.traffic.3.undo", "compensated service.web.traffic.3.undo"}, undo...))
		diffLines(t, "provider calls", h.w.Events("journal", "observe", "checks")[5:], []string{
			"route web [" + oldIP + "]", "route web [" + oldIP + "]", "remove " + cand})
	})

	t.Run("abort", func(t *testing.T) {
		h := newHarness(t)
		progress(h)
		steps := func() []*plan.Step {
			return []*plan.Step{startStep(), healthStep(), canaryBack(25), gateStep(), switchStep()}
		}
		if _, _, err := h.apply(t.Context(), newPlan(steps()...)); err == nil || err.Outcome != executor.Paused {
			t.Fatalf("Apply = %v, want paused", err)
		}
		j := h.w.writes[len(h.w.writes)-1]
		h.opts.Resume, h.opts.Abort = &j, true
		h.hook.calls = nil
		if _, _, err := h.apply(t.Context(), newPlan(steps()...)); err == nil || !errors.Is(err, executor.ErrAborted) {
			t.Fatalf("abort = %v, want aborted", err)
		}
		diffLines(t, "undo", h.hook.calls, undo)
	})

	// A health gate that fails moved no traffic: nothing to drain.
	t.Run("no traffic", func(t *testing.T) {
		h := newHarness(t)
		progress(h)
		h.w.Fail = map[string]error{"health " + cand: errBoom}
		if _, _, err := h.apply(t.Context(), newPlan(startStep(), healthStep(), canaryBack(25))); err == nil {
			t.Fatal("Apply succeeded")
		}
		for _, c := range h.hook.calls {
			if strings.HasPrefix(c, "progress") {
				t.Errorf("undo without traffic drained: %s", c)
			}
		}
	})

	// A hard stop during the drain stops the undo there: the journal is
	// kept for the next plan, and the candidate is not removed under
	// the requests it may still be finishing.
	t.Run("hard stop", func(t *testing.T) {
		h := newHarness(t)
		ctx, cancel := context.WithCancel(t.Context())
		defer cancel()
		h.hook.progress = func(s *plan.Step, msg string) {
			if strings.HasPrefix(msg, "draining") {
				cancel()
			}
		}
		stop := make(chan struct{})
		h.hook.finished = func(s *plan.Step) {
			if s.ID == "service.web.traffic.25" {
				close(stop)
			}
		}
		h.opts.Stop = stop
		p := newPlan(startStep(), healthStep(), canaryBack(25), pauseStep(time.Hour))
		_, _, err := h.apply(ctx, p)
		if err == nil || err.Outcome != executor.NeedsIntervention {
			t.Fatalf("Apply = %v, want needs intervention", err)
		}
		if slices.Contains(h.w.Events(), "remove "+cand) {
			t.Errorf("the candidate was removed after a hard stop during its drain: %v", h.w.Events())
		}
	})
}

// TestUndoRecordsRestartedAddresses fails a release after it stopped the
// old containers: the undo starts them again on new ports, waits for
// their health gate, and routes to them; the state it returns records
// those addresses and that route file, so that the next plan has nothing
// to repair.
func TestUndoRecordsRestartedAddresses(t *testing.T) {
	h := newHarness(t)
	h.w.NewPorts = true
	h.checker.fail["post"] = errBoom
	stop := stopOldStep()
	stop.Compensation.Health = &providers.HealthSpec{Path: "/health", HealthyThreshold: 2, Deadline: time.Minute}
	st, _, err := h.apply(t.Context(), newPlan(startStep(), healthStep(), switchStep(), stop, checkStep("post")))
	if err == nil || err.Outcome != executor.RolledBack {
		t.Fatalf("Apply = %v, want rolled back", err)
	}
	const moved = "127.0.0.1:40002" // the second address Start gives
	// Started again, health-gated, then routed to.
	diffLines(t, "undo calls", h.w.Events("journal", "observe", "checks")[4:], []string{
		"start " + old, "health " + old, "route web [" + moved + "]", "remove " + cand})
	if st == h.prior {
		t.Fatal("Apply returned the prior state, whose addresses are gone")
	}
	web := st.Services["web"]
	if c := web.Containers[0]; c.Name != old || c.HostAddr != moved {
		t.Errorf("old container in the state = %+v, want it at %s", c, moved)
	}
	if web.RouteChecksum != "sum-2" || st.Release != 1 || web.Release != 1 || st.Serial != h.prior.Serial {
		t.Errorf("state release %d serial %d, web release %d route %s: want release 1 with the undo's route file", st.Release, st.Serial, web.Release, web.RouteChecksum)
	}
	if h.prior.Services["web"].Containers[0].HostAddr != oldIP {
		t.Error("the prior state was changed in place")
	}
}
