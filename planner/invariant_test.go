package planner_test

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"
	"github.com/slipwayhq/slipway/config"
	"github.com/slipwayhq/slipway/planner"
	"github.com/slipwayhq/slipway/planner/plan"
	"github.com/slipwayhq/slipway/providers"
	"github.com/slipwayhq/slipway/state"
)

// simWorld is the live world a plan's steps act on, as the executor and
// the providers would change it: containers, the route file and what
// nginx serves.
type simWorld struct {
	containers map[string]providers.Container
	hasFile    bool
	file       []string // names the route file routes to
	fileSum    string
	fileRel    int
	live       []string // names nginx serves
	// readable is false when slipway cannot read back what nginx serves
	// (reload mode, a switch killed after the file was written).
	readable bool
}

// simOf is the world in which st is exactly live (see world).
func simOf(st *state.State) *simWorld {
	w := &simWorld{containers: map[string]providers.Container{}, readable: true}
	for _, c := range world(st).Containers {
		w.containers[c.Name] = c
	}
	if s := st.Services["web"]; s != nil && s.RouteFile != "" {
		w.hasFile, w.fileSum, w.fileRel = true, s.RouteChecksum, s.Release
		for _, c := range s.Containers {
			w.file = append(w.file, c.Name)
		}
		w.live = slices.Clone(w.file)
	}
	return w
}

func (w *simWorld) clone() *simWorld {
	c := *w
	c.containers = maps.Clone(w.containers)
	c.file, c.live = slices.Clone(w.file), slices.Clone(w.live)
	return &c
}

// routed names the containers a route sends requests to: the file's
// (for nginx's next start) and those nginx serves, whether slipway can
// read them back or not.
func (w *simWorld) routed() map[string]bool {
	out := map[string]bool{}
	if !w.hasFile {
		return out
	}
	for _, n := range append(slices.Clone(w.file), w.live...) {
		out[n] = true
	}
	return out
}

// obs is what slipway observes of w.
func (w *simWorld) obs() *providers.Observations {
	obs := &providers.Observations{Images: map[string]string{}, ImageIDs: map[string]bool{}}
	for ref, id := range images {
		obs.Images[ref] = id
		obs.ImageIDs[id] = true
	}
	for _, n := range slices.Sorted(maps.Keys(w.containers)) {
		obs.Containers = append(obs.Containers, w.containers[n])
	}
	if w.hasFile {
		addrs := func(names []string) []string {
			var out []string
			for _, n := range names {
				out = append(out, addr(n))
			}
			slices.Sort(out)
			return slices.Compact(out)
		}
		s := &providers.Serving{Tag: "old"}
		if w.readable {
			s = &providers.Serving{Known: true, Tag: "live", Peers: addrs(w.live)}
		}
		obs.Routes = []providers.RouteFile{{Project: "shop", Service: "web", Path: "conf.d/shop-web.conf", Release: w.fileRel,
			Checksum: w.fileSum, Actual: w.fileSum, Peers: addrs(w.file), Serving: s}}
	}
	return obs
}

// trafficNames are the containers a traffic step routes to.
func trafficNames(t *plan.Traffic) []string {
	if t.Remove {
		return nil
	}
	return append(slices.Clone(t.Stable), t.Candidate...)
}

// do applies s to w as the executor would, and returns what cannot be
// done (a start over another image's container, a route to nothing).
func (w *simWorld) do(s *plan.Step) []string {
	var problems []string
	switch s.Kind {
	case plan.KindStart:
		for _, spec := range s.Containers {
			if c, ok := w.containers[spec.Name]; ok && (c.ImageID != spec.ImageID || c.ConfigHash != spec.ConfigHash) {
				problems = append(problems, fmt.Sprintf("%s starts %s over a container of another image or config", s.ID, spec.Name))
			}
			w.containers[spec.Name] = providers.Container{ID: "id-" + spec.Name, Name: spec.Name, Project: "shop", Service: spec.Service,
				Release: spec.Release, Color: spec.Color, Index: spec.Index, ConfigHash: spec.ConfigHash, ImageID: spec.ImageID,
				State: "running", HostAddr: addr(spec.Name)}
		}
		for _, n := range s.Names {
			w.setState(n, "running")
		}
	case plan.KindStop:
		if s.Action != plan.NoOp {
			for _, n := range s.Names {
				w.setState(n, "exited")
			}
		}
	case plan.KindRemove:
		for _, n := range s.Names {
			delete(w.containers, n)
		}
	case plan.KindTraffic:
		t := s.Traffic
		if t.Remove {
			w.hasFile, w.file, w.live, w.readable = false, nil, nil, true
			return nil
		}
		names := trafficNames(t)
		for _, n := range names {
			if _, ok := w.containers[n]; !ok {
				problems = append(problems, fmt.Sprintf("%s routes to %s, which does not exist", s.ID, n))
			}
			// The executor starts a stopped container before routing to it.
			w.setState(n, "running")
		}
		w.hasFile, w.file, w.live, w.readable = true, names, slices.Clone(names), true
		w.fileRel, w.fileSum = t.Route.Release, sum(t)
	}
	return problems
}

// writeOnly applies traffic step s as far as a switch killed half-way
// gets: the file is written, nginx still serves what it served, which in
// reload mode cannot be read back.
func (w *simWorld) writeOnly(s *plan.Step, dynamic bool) {
	t := s.Traffic
	w.hasFile, w.file = true, trafficNames(t)
	w.fileRel, w.fileSum = t.Route.Release, sum(t)
	if !dynamic {
		w.readable = false
	}
}

// sum is the route file checksum the tests give a routing; settle gives a
// whole release's route "sum-r<release>".
func sum(t *plan.Traffic) string {
	if len(t.Candidate) > 0 && len(t.Stable) > 0 {
		return fmt.Sprintf("sum-r%d-%d", t.Route.Release, t.CandidateWeight)
	}
	return fmt.Sprintf("sum-r%d", t.Route.Release)
}

func (w *simWorld) setState(n, st string) {
	if c, ok := w.containers[n]; ok {
		c.State = st
		w.containers[n] = c
	}
}

// drainOrder checks the rule on steps run in order from a world where
// routed receive requests: no stop or remove of a container a route sends
// requests to, and a drain between the traffic step that took it out and
// its stop or removal. undo says the steps are compensations, run as the
// executor undoes: a traffic compensation with a Drain makes the next
// stop or remove wait (pending, when the failed step was a switch). exempt
// skips a step (hotfix's stop that starts its downtime).
func drainOrder(steps []*plan.Step, routed map[string]bool, undo, pending bool, exempt func(*plan.Step) bool) []string {
	var bad []string
	routed = maps.Clone(routed)
	owed := map[string]string{} // taken out, not drained since: by the step that took it out
	for _, s := range steps {
		switch {
		case s.Kind == plan.KindTraffic && s.Traffic != nil:
			next := map[string]bool{}
			for _, n := range trafficNames(s.Traffic) {
				next[n] = true
				delete(owed, n)
			}
			for n := range routed {
				if !next[n] {
					owed[n] = s.ID
				}
			}
			routed = next
			if undo && s.Drain > 0 {
				pending = true
			}
		case s.Drains():
			owed = map[string]string{}
		case (s.Kind == plan.KindStop || s.Kind == plan.KindRemove) && s.Action != plan.NoOp:
			if undo && pending {
				owed, pending = map[string]string{}, false
			}
			if exempt != nil && exempt(s) {
				continue
			}
			for _, n := range s.Names {
				if routed[n] {
					bad = append(bad, fmt.Sprintf("%s %ss %s while a route sends it requests", s.ID, s.Kind, n))
				} else if by, ok := owed[n]; ok {
					bad = append(bad, fmt.Sprintf("%s %ss %s with no drain after %s took it out", s.ID, s.Kind, n, by))
				}
			}
		}
	}
	return bad
}

// undoOf is what the executor runs when p fails at step k (k == len for
// an abort after the last step): the failed step's own compensation unless
// it is a traffic step, then the finished steps' newest first; pending
// says a failed switch owes a drain.
func undoOf(p *plan.Plan, k int) (undo []*plan.Step, pending bool) {
	if k < len(p.Steps) {
		f := p.Steps[k]
		if f.Compensation != nil && f.Kind != plan.KindTraffic {
			undo = append(undo, f.Compensation)
		}
		pending = f.Kind == plan.KindTraffic && f.Compensation != nil && f.Compensation.Drain > 0
	}
	for i := k - 1; i >= 0; i-- {
		if c := p.Steps[i].Compensation; c != nil {
			c := *c
			c.ID = p.Steps[i].ID + ".undo"
			undo = append(undo, &c)
		}
	}
	return undo, pending
}

// hotfixStop exempts hotfix's first stop, which its plan says starts the
// downtime the strategy accepts.
func hotfixStop(p *plan.Plan) func(*plan.Step) bool {
	return func(s *plan.Step) bool {
		for _, r := range p.Resources {
			if r.Address == s.Resource && r.Strategy == state.StrategyHotfix && s.Kind == plan.KindStop && strings.Contains(s.Detail, "(downtime starts)") {
				return true
			}
		}
		return false
	}
}

// checker runs the rule over plans and the undo of each of their steps.
type checker struct {
	t     *testing.T
	plans int
	undos int
}

// check checks p, made against w, and its undo at each step. It returns
// false when p broke the rule, so that its cuts are not explored further.
func (c *checker) check(label string, p *plan.Plan, w *simWorld) bool {
	c.t.Helper()
	c.plans++
	exempt := hotfixStop(p)
	bad := drainOrder(p.Steps, w.routed(), false, false, exempt)
	run := w.clone()
	for k, s := range p.Steps {
		undo, pending := undoOf(p, k)
		at := run.clone()
		if s.Kind == plan.KindStart {
			at.do(s) // half done
		}
		c.undos++
		for _, b := range drainOrder(undo, at.routed(), true, pending, nil) {
			bad = append(bad, fmt.Sprintf("undo after a failure at %s: %s", s.ID, b))
		}
		bad = append(bad, run.do(s)...)
	}
	for _, r := range p.Resources {
		if r.Strategy != state.StrategyHotfix {
			continue
		}
		for _, i := range r.Steps {
			if s := p.Steps[i]; s.Kind == plan.KindStop && s.Action != plan.NoOp && i < slices.IndexFunc(p.Steps, func(s *plan.Step) bool { return s.Kind == plan.KindTraffic }) && !exempt(s) {
				bad = append(bad, fmt.Sprintf("hotfix stop %s does not say it starts the downtime: %q", s.ID, s.Detail))
			}
		}
	}
	for _, b := range bad {
		c.t.Errorf("%s:\n  %s\n  steps: %s", label, b, strings.Join(kinds(p), " | "))
	}
	return len(bad) == 0
}

func planOrFail(t *testing.T, label string, p *plan.Plan, diags hcl.Diagnostics) *plan.Plan {
	t.Helper()
	if diags.HasErrors() {
		t.Fatalf("%s: %s", label, diags.Error())
	}
	return p
}

// journalOf is the journal an apply of p cut after its first k steps
// leaves.
func journalOf(p *plan.Plan, k int) *state.Journal {
	j := &state.Journal{OperationID: "op-cut", Operation: p.Operation, Release: p.Release, PriorRelease: p.PriorRelease}
	for _, s := range p.Steps[:k] {
		j.Entries = append(j.Entries, state.JournalEntry{Step: s.Index, StepID: s.ID, Phase: state.PhaseIntent},
			state.JournalEntry{Step: s.Index, StepID: s.ID, Phase: state.PhaseDone})
	}
	return j
}

// recoveries checks every way back from op (applied against prior and
// the live world w by cfg) cut after each of its steps, and with each
// traffic step half done in either switch mode: apply again (resume),
// apply another version, rollback (to the release before op), and
// rollback to first (the release before that, when given).
func (c *checker) recoveries(label string, op *plan.Plan, cfg, other *config.Config, prior, first *state.State, w *simWorld) {
	c.t.Helper()
	ctx := context.Background()
	type cut struct {
		name string
		w    *simWorld
		done int
	}
	var cuts []cut
	run := w.clone()
	for k := 0; k <= len(op.Steps); k++ {
		cuts = append(cuts, cut{fmt.Sprintf("cut after %d steps", k), run.clone(), k})
		if k == len(op.Steps) {
			break
		}
		s := op.Steps[k]
		if s.Kind == plan.KindTraffic && !s.Traffic.Remove {
			for _, dynamic := range []bool{false, true} {
				half := run.clone()
				half.writeOnly(s, dynamic)
				cuts = append(cuts, cut{fmt.Sprintf("cut inside %s (dynamic %v)", s.ID, dynamic), half, k})
			}
		}
		run.do(s)
	}
	for _, ct := range cuts {
		opts := testOpts()
		opts.Journal = journalOf(op, ct.done)
		obs := ct.w.obs()
		where := label + ", " + ct.name
		p, diags := planner.Plan(ctx, opts, cfg, prior, obs)
		c.check(where+", apply again", planOrFail(c.t, where, p, diags), ct.w)
		if other != nil {
			p, diags = planner.Plan(ctx, opts, other, prior, obs)
			c.check(where+", apply another version", planOrFail(c.t, where, p, diags), ct.w)
		}
		p, diags = planner.Rollback(ctx, opts, cfg, prior, prior.DeepCopy(), obs)
		c.check(where+", rollback", planOrFail(c.t, where, p, diags), ct.w)
		if first != nil {
			p, diags = planner.Rollback(ctx, opts, cfg, prior, first, obs)
			c.check(where+", rollback to #1", planOrFail(c.t, where, p, diags), ct.w)
		}
	}
}

// TestRecoveryDrainsBeforeRemoving is the planner's invariant over
// generated plans: for every strategy, keep_previous and 1 to 3 replicas,
// the releases #1, #2 and #3, every rollback of #3, and every recovery of
// each of them cut after every step (or inside a traffic step), no step
// stops or removes a container a route still sends requests to, and a
// drain separates the traffic step that took it out from its stop or
// removal; the same holds for the undo of every plan failing (or aborted)
// at every step. Hotfix's first stop is the one exemption, and its plan
// says it starts the downtime.
func TestRecoveryDrainsBeforeRemoving(t *testing.T) {
	strategies := map[string]string{
		"blue_green running": "blue_green {}",
		"blue_green stopped": "blue_green {\n    keep_previous = \"stopped\"\n  }",
		"blue_green removed": "blue_green {\n    keep_previous = \"removed\"\n  }",
		"canary":             "canary {\n    steps = [25, { percent = 50, approve = true }, 100]\n    pause = \"1m\"\n  }",
		"rolling":            rollingHCL,
		"rolling no drain":   "rolling {\n    batch_size = BATCH\n    drain      = \"0s\"\n  }",
		"hotfix":             "hotfix {\n    reason = \"test\"\n  }",
	}
	c := &checker{t: t}
	for _, name := range slices.Sorted(maps.Keys(strategies)) {
		for replicas := 1; replicas <= 3; replicas++ {
			label := fmt.Sprintf("%s, %d replicas", name, replicas)
			// A batch is at most the replicas (validate refuses more).
			strategy := strings.ReplaceAll(strategies[name], "BATCH", fmt.Sprint(min(2, replicas)))
			src := serviceHCL(replicas, strategy) + postCheckHCL
			cfg1, cfg2, cfg3, cfg4 := load(t, src), load(t, src, "version=v2"), load(t, src, "version=v3"), load(t, src, "version=v1")
			ctx := context.Background()

			empty := state.New("shop", "")
			p1 := mustPlan(t, testOpts(), cfg1, empty, world(empty))
			c.check(label+", release #1", p1, simOf(empty))
			c.recoveries(label+", release #1", p1, cfg1, cfg2, empty, nil, simOf(empty))
			s1 := settle(p1, empty)

			p2 := mustPlan(t, testOpts(), cfg2, s1, world(s1))
			c.check(label+", release #2", p2, simOf(s1))
			c.recoveries(label+", release #2", p2, cfg2, cfg3, s1, nil, simOf(s1))
			s2 := settle(p2, s1)

			// Release #3 has a kept release before the previous one.
			p3 := mustPlan(t, testOpts(), cfg3, s2, world(s2))
			c.check(label+", release #3", p3, simOf(s2))
			c.recoveries(label+", release #3", p3, cfg3, cfg4, s2, s1, simOf(s2))
			s3 := settle(p3, s2)

			for _, target := range []*state.State{s1, s2} {
				rl := fmt.Sprintf("%s, rollback of #3 to #%d", label, target.Release)
				r, diags := planner.Rollback(ctx, testOpts(), cfg3, s3, target, world(s3))
				r = planOrFail(t, rl, r, diags)
				c.check(rl, r, simOf(s3))
				c.recoveries(rl, r, cfg3, nil, s3, target, simOf(s3))
			}
		}
	}
	t.Logf("%d plans and the undo of %d failures checked", c.plans, c.undos)
}
