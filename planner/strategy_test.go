package planner_test

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/slipwayhq/slipway/planner"
	"github.com/slipwayhq/slipway/planner/plan"
	"github.com/slipwayhq/slipway/providers"
	"github.com/slipwayhq/slipway/state"
)

const (
	canaryHCL = `canary {
    steps    = [5, 25, { percent = 50, approve = true }, 100]
    pause    = "1m"
    analysis = "standard"
  }`
	rollingHCL = `rolling {
    batch_size = 1
    drain      = "2s"
  }`
)

func TestContainerName(t *testing.T) {
	tests := []struct {
		project, env, service string
		release, index        int
		want                  string
	}{
		{"shop", "", "web", 1, 1, "shop-web-r1-1"},
		{"shop", "", "web", 12, 3, "shop-web-r12-3"},
		{"shop", "staging", "web", 2, 1, "shop-staging-web-r2-1"},
	}
	for _, tt := range tests {
		if got := planner.ContainerName(tt.project, tt.env, tt.service, tt.release, tt.index); got != tt.want {
			t.Errorf("ContainerName(%q, %q, %q, %d, %d) = %q, want %q", tt.project, tt.env, tt.service, tt.release, tt.index, got, tt.want)
		}
	}
}

func TestVersion(t *testing.T) {
	tests := map[string]string{
		"thebot/backend:1.3.0":           "1.3.0",
		"demo":                           "demo",
		"registry.local:5000/demo":       "registry.local:5000/demo",
		"registry.local:5000/demo:v2":    "v2",
		"registry.local:5000/team/x:1.0": "1.0",
	}
	for ref, want := range tests {
		if got := planner.Version(ref); got != want {
			t.Errorf("Version(%q) = %q, want %q", ref, got, want)
		}
	}
}

// TestFirstRelease checks the plan of every strategy from an empty state:
// start, health and route, each undoable.
func TestFirstRelease(t *testing.T) {
	tests := []struct {
		name, strategy, env string
		wantStrategy        string
	}{
		{"blue_green", "blue_green {}", "", state.StrategyBlueGreen},
		{"default", "", "", state.StrategyBlueGreen},
		{"canary", canaryHCL, "", state.StrategyCanary},
		{"rolling", rollingHCL, "", state.StrategyRolling},
		{"hotfix", "hotfix {}", "", state.StrategyHotfix},
		{"env", "blue_green {}", "staging", state.StrategyBlueGreen},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := load(t, serviceHCL(2, tt.strategy))
			opts := testOpts()
			opts.Env = tt.env
			prior := state.New("shop", tt.env)
			p := mustPlan(t, opts, cfg, prior, world(prior))

			c1, c2 := "shop-web-r1-1", "shop-web-r1-2"
			if tt.env != "" {
				c1, c2 = "shop-"+tt.env+"-web-r1-1", "shop-"+tt.env+"-web-r1-2"
			}
			diffLines(t, "steps", kinds(p), []string{
				"start create " + c1 + " " + c2,
				"health " + c1 + " " + c2,
				"traffic create [" + c1 + " " + c2 + "]",
			})
			diffLines(t, "compensations", comps(p), []string{
				"remove delete " + c1 + " " + c2,
				"",
				"traffic delete remove-route",
			})
			if p.Release != 1 || p.PriorRelease != 0 || p.Operation != "apply" {
				t.Errorf("release %d after %d, operation %q; want 1 after 0, apply", p.Release, p.PriorRelease, p.Operation)
			}
			for i, s := range p.Steps {
				if s.Index != i {
					t.Errorf("step %d has Index %d", i, s.Index)
				}
				if s.Resource != "service.web" {
					t.Errorf("step %s belongs to %q, want service.web", s.ID, s.Resource)
				}
			}
			start := p.Steps[0]
			for i, c := range start.Containers {
				if c.Env != tt.env || c.Release != 1 || c.Index != i+1 || c.ImageID != idV1 || c.Port != 8080 || c.Project != "shop" {
					t.Errorf("container spec %d = %+v", i, c)
				}
			}
			if got := p.Steps[1].Health; got == nil || got.Path != "/health" || got.HealthyThreshold != 2 || got.Deadline != time.Minute {
				t.Errorf("health spec = %+v, want the defaults", got)
			}
			route := p.Steps[2].Traffic.Route
			if route.Env != tt.env || route.Release != 1 || route.StableVersion != "v1" || route.Listen != 8081 || route.ServerName != "shop.example.com" {
				t.Errorf("route spec = %+v", route)
			}
			svc := p.Services["web"]
			if svc == nil || svc.Strategy != tt.wantStrategy || svc.ImageID != idV1 || svc.Release != 1 || svc.Version != "v1" || len(svc.Containers) != 2 || svc.Previous != nil {
				t.Fatalf("next state of web = %+v", svc)
			}
			if p.Images["demo:v1"] != idV1 {
				t.Errorf("image not pinned: %v", p.Images)
			}
			if tt.wantStrategy == state.StrategyBlueGreen {
				if svc.Color != state.ColorBlue || start.Containers[0].Color != state.ColorBlue || svc.Containers[0].Color != state.ColorBlue {
					t.Errorf("first blue-green color: state %q, spec %q, want blue", svc.Color, start.Containers[0].Color)
				}
			}
		})
	}
}

// comps lists the compensation of every step ("" for none).
func comps(p *plan.Plan) []string {
	out := make([]string, len(p.Steps))
	for i, s := range p.Steps {
		out[i] = compLine(s)
	}
	return out
}

func TestChecksAroundSteps(t *testing.T) {
	src := serviceHCL(1, "") + `
check "secret_set" {
  phase = "pre"
  env {
    names = ["HOME"]
  }
}

check "api" {
  phase = "post"
  http {
    url = "http://127.0.0.1:8081/health"
  }
}
`
	cfg := load(t, src)
	prior := state.New("shop", "")
	p := mustPlan(t, testOpts(), cfg, prior, world(prior))
	got := kinds(p)
	if len(got) != 5 || got[0] != "check" || got[4] != "check" {
		t.Fatalf("steps = %v, want checks first and last", got)
	}
	if p.Steps[0].Phase != "pre" || !slices.Equal(p.Steps[0].Checks, []string{"secret_set"}) {
		t.Errorf("first step = %+v, want the pre checks", p.Steps[0])
	}
	if p.Steps[4].Phase != "post" || !slices.Equal(p.Steps[4].Checks, []string{"api"}) {
		t.Errorf("last step = %+v, want the post checks", p.Steps[4])
	}
	// The resource's step indexes still point at its own steps.
	for _, r := range p.Resources {
		for _, i := range r.Steps {
			if p.Steps[i].Resource != r.Address {
				t.Errorf("resource %s lists step %d (%s)", r.Address, i, p.Steps[i].ID)
			}
		}
	}

	// With nothing to release, the checks alone are no change.
	again := mustPlan(t, testOpts(), cfg, settle(p, prior), world(settle(p, prior)))
	if again.Changed() {
		t.Errorf("an unchanged release with checks plans %v", kinds(again))
	}
}

// TestBlueGreen follows three releases: colors alternate, the previous
// color is kept as configured and the one before it removed.
func TestBlueGreen(t *testing.T) {
	tests := []struct {
		keep       string
		retire2    string // the step that retires release 1 in release 2
		retire3    []string
		keptState2 string
	}{
		{
			keep:    "running",
			retire2: "stop",
			retire3: []string{"remove delete shop-web-r1-1 shop-web-r1-2", "stop"},
		},
		{
			keep:    "stopped",
			retire2: "pause",
			retire3: []string{"remove delete shop-web-r1-1 shop-web-r1-2", "pause", "stop update shop-web-r2-1 shop-web-r2-2"},
		},
		{
			keep:    "removed",
			retire2: "pause",
			retire3: []string{"pause", "remove delete shop-web-r2-1 shop-web-r2-2"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.keep, func(t *testing.T) {
			src := serviceHCL(2, fmt.Sprintf("blue_green {\n    keep_previous = %q\n  }", tt.keep))
			s1 := released(t, load(t, src))

			cfg2 := load(t, src, "version=v2")
			p2 := mustPlan(t, testOpts(), cfg2, s1, world(s1))
			diffLines(t, "release 2", kinds(p2), append([]string{
				"start create shop-web-r2-1 shop-web-r2-2",
				"health shop-web-r2-1 shop-web-r2-2",
				"traffic update [shop-web-r2-1 shop-web-r2-2]",
				tt.retire2,
			}, retireRest(tt.keep)...))
			// The switch is undone by routing back to the old color,
			// rendered as release 1 with its version.
			back := p2.Steps[2].Compensation
			if back == nil || back.Traffic == nil || !slices.Equal(back.Traffic.Stable, []string{"shop-web-r1-1", "shop-web-r1-2"}) ||
				back.Traffic.Route.Release != 1 || back.Traffic.Route.StableVersion != "v1" {
				t.Errorf("switch compensation = %+v, want all traffic back to release 1", back)
			}
			if p2.Steps[0].Compensation == nil || p2.Steps[0].Compensation.Kind != plan.KindRemove {
				t.Errorf("start of release 2 cannot be undone")
			}
			svc := p2.Services["web"]
			if svc.Color != state.ColorGreen || p2.Steps[0].Containers[0].Color != state.ColorGreen {
				t.Errorf("release 2 color = %q, want green", svc.Color)
			}
			if svc.Previous == nil || svc.Previous.Release != 1 || svc.Previous.Kept != tt.keep || svc.Previous.Color != state.ColorBlue {
				t.Fatalf("release 2 previous = %+v, want release 1 blue kept %s", svc.Previous, tt.keep)
			}
			if wantKept := tt.keep != "removed"; (len(svc.Previous.Containers) == 2) != wantKept {
				t.Errorf("release 2 keeps %d previous containers (kept %s)", len(svc.Previous.Containers), tt.keep)
			}
			// Traffic left the old color: it drains before it stops or goes.
			if tt.keep != "running" {
				if d := p2.Steps[3]; d.Kind != plan.KindPause || d.Pause != planner.RetireDrain {
					t.Errorf("step after the switch = %s %s, want a %s drain", d.Kind, d.Pause, planner.RetireDrain)
				}
			}
			if tt.keep == "stopped" {
				st := p2.Steps[4]
				if st.StopAfter != 10*time.Second {
					t.Errorf("stop of the old color waits %s, want the 10s stop_timeout", st.StopAfter)
				}
				if got := compLine(st); got != "start update shop-web-r1-1 shop-web-r1-2" {
					t.Errorf("stop of the old color is undone by %q, want it started again", got)
				}
				// Traffic goes back to them next: they pass their
				// health gate first.
				if h := st.Compensation.Health; h == nil || h.Path != "/health" {
					t.Errorf("starting the old color again waits for health %+v, want its gate", h)
				}
			}

			s2 := settle(p2, s1)
			cfg3 := load(t, src, "version=v3")
			p3 := mustPlan(t, testOpts(), cfg3, s2, world(s2))
			diffLines(t, "release 3", kinds(p3), append([]string{
				"start create shop-web-r3-1 shop-web-r3-2",
				"health shop-web-r3-1 shop-web-r3-2",
				"traffic update [shop-web-r3-1 shop-web-r3-2]",
			}, tt.retire3...))
			if c := p3.Services["web"].Color; c != state.ColorBlue {
				t.Errorf("release 3 color = %q, want blue again", c)
			}
			if len(p3.Drift) != 0 {
				t.Errorf("drift in a settled world: %v", p3.Drift)
			}
		})
	}
}

// TestCanary checks one traffic step per percent with the weights, the
// gates between them, and a last step with the new containers only.
func TestCanary(t *testing.T) {
	src := serviceHCL(2, canaryHCL)
	s1 := released(t, load(t, src))
	p := mustPlan(t, testOpts(), load(t, src, "version=v2"), s1, world(s1))

	old, cand := "shop-web-r1-1 shop-web-r1-2", "shop-web-r2-1 shop-web-r2-2"
	diffLines(t, "steps", kinds(p), []string{
		"start create " + cand,
		"health " + cand,
		"traffic update [" + old + "] 5%[" + cand + "]",
		"analyse",
		"traffic update [" + old + "] 25%[" + cand + "]",
		"analyse",
		"traffic update [" + old + "] 50%[" + cand + "]",
		"analyse",
		"pause",
		"traffic update [" + cand + "]",
		"pause",
		"stop update " + old,
	})
	back := "traffic update [" + old + "]"
	diffLines(t, "compensations", comps(p), []string{
		"remove delete " + cand, "", back, "", "", "", "", "", "", back, "",
		// The old containers are stopped last; a failing post check starts
		// them again before traffic goes back to them.
		"start update " + old,
	})
	for _, i := range []int{3, 5, 7} {
		if s := p.Steps[i]; s.Analysis != "standard" || s.Pause != time.Minute {
			t.Errorf("step %d analyses %q over %s, want standard over 1m", i, s.Analysis, s.Pause)
		}
	}
	if s := p.Steps[8]; !s.Approve {
		t.Errorf("step 8 = %+v, want the approval gate at 50%%", s)
	}
	first := p.Steps[2].Traffic.Route
	if first.StableVersion != "v1" || first.CandidateVersion != "v2" || first.CanaryHeader != "X-Slipway-Canary" {
		t.Errorf("canary route versions %q/%q header %q", first.StableVersion, first.CandidateVersion, first.CanaryHeader)
	}
	last := p.Steps[9].Traffic
	if last.CandidateWeight != 0 || last.Route.StableVersion != "v2" || last.Route.CandidateVersion != "" {
		t.Errorf("last traffic step = %+v, want v2 stable alone", last)
	}
	svc := p.Services["web"]
	if svc.Previous == nil || svc.Previous.Kept != state.KeptStopped || svc.Previous.Release != 1 {
		t.Errorf("canary previous = %+v, want release 1 kept stopped", svc.Previous)
	}
}

// TestCanaryPauseWithoutAnalysis checks that a canary with no analysis
// waits with plain pauses, a step's own pause overriding the canary's.
func TestCanaryPauseWithoutAnalysis(t *testing.T) {
	src := serviceHCL(1, `canary {
    steps = [10, { percent = 50, pause = "5m" }, 100]
    pause = "1m"
  }`)
	s1 := released(t, load(t, src))
	p := mustPlan(t, testOpts(), load(t, src, "version=v2"), s1, world(s1))
	var pauses []time.Duration
	for _, s := range p.Steps {
		if s.Kind == plan.KindAnalyse {
			t.Errorf("analysis step %s without an analysis", s.ID)
		}
		if s.Kind == plan.KindPause {
			pauses = append(pauses, s.Pause)
		}
	}
	if !slices.Equal(pauses, []time.Duration{time.Minute, 5 * time.Minute, planner.RetireDrain}) {
		t.Errorf("pauses = %v, want [1m 5m] and the drain before the old containers stop", pauses)
	}
}

// TestRolling checks the batches and that traffic is only ever sent to
// running containers, never to fewer than replicas - max_unavailable.
func TestRolling(t *testing.T) {
	tests := []struct {
		name                  string
		from, to, batch, unav int
	}{
		{"one by one", 2, 2, 1, 0},
		{"batches of two", 3, 3, 2, 0},
		{"one batch", 2, 2, 2, 0},
		{"scale up", 2, 4, 1, 0},
		{"scale down", 4, 2, 1, 0},
		{"max unavailable", 3, 3, 1, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			strategy := fmt.Sprintf("rolling {\n    batch_size = %d\n    max_unavailable = %d\n    drain = \"2s\"\n  }", tt.batch, tt.unav)
			s1 := released(t, load(t, serviceHCL(tt.from, strategy)))
			p := mustPlan(t, testOpts(), load(t, serviceHCL(tt.to, strategy), "version=v2"), s1, world(s1))

			running := map[string]bool{}
			for _, c := range s1.Services["web"].Containers {
				running[c.Name] = true
			}
			batches, stopped := 0, map[string]bool{}
			for i, s := range p.Steps {
				switch s.Kind {
				case plan.KindStart:
					batches++
					if len(s.Containers) > tt.batch {
						t.Errorf("step %d starts %d containers, batch_size is %d", i, len(s.Containers), tt.batch)
					}
					for _, c := range s.Containers {
						running[c.Name] = true
					}
				case plan.KindStop:
					if i == 0 || p.Steps[i-1].Kind != plan.KindPause || p.Steps[i-1].Pause != 2*time.Second {
						t.Errorf("stop step %d is not preceded by the 2s drain", i)
					}
					if c := s.Compensation; c == nil || c.Kind != plan.KindStart || !slices.Equal(c.Names, s.Names) {
						t.Errorf("stop step %d compensation = %+v, want the same containers started", i, c)
					}
					for _, n := range s.Names {
						delete(running, n)
						stopped[n] = true
					}
				case plan.KindTraffic:
					serving := s.Traffic.Stable
					if min := min(tt.from, tt.to) - tt.unav; len(serving) < min {
						t.Errorf("step %d serves %d containers %v, want at least %d", i, len(serving), serving, min)
					}
					for _, n := range serving {
						if !running[n] {
							t.Errorf("step %d sends traffic to %s, which is not running", i, n)
						}
					}
					if c := s.Compensation; c == nil || c.Traffic == nil {
						t.Errorf("traffic step %d cannot be undone", i)
					} else {
						for _, n := range c.Traffic.Stable {
							if !running[n] && !stopped[n] {
								t.Errorf("step %d compensation routes to %s, which never ran", i, n)
							}
						}
					}
				}
			}
			if want := (tt.to + tt.batch - 1) / tt.batch; batches != want {
				t.Errorf("%d batches, want %d", batches, want)
			}
			// At the end the new replicas alone run and serve.
			var last *plan.Step
			for _, s := range p.Steps {
				if s.Kind == plan.KindTraffic {
					last = s
				}
			}
			if len(last.Traffic.Stable) != tt.to {
				t.Errorf("last traffic step serves %v, want the %d new replicas", last.Traffic.Stable, tt.to)
			}
			for n := range running {
				if !slices.Contains(last.Traffic.Stable, n) {
					t.Errorf("%s still runs after the release", n)
				}
			}
			if len(stopped) != tt.from {
				t.Errorf("%d old replicas stopped, want %d", len(stopped), tt.from)
			}
			prev := p.Services["web"].Previous
			if prev == nil || prev.Kept != state.KeptStopped || len(prev.Containers) != tt.from {
				t.Errorf("previous = %+v, want %d containers kept stopped", prev, tt.from)
			}
		})
	}
}

// TestHotfix checks the reason rule and that the old containers stop
// before the new ones start.
func TestHotfix(t *testing.T) {
	tests := []struct {
		name, block, reason string
		wantReason          string // "" means the plan is refused
	}{
		{"no reason", "hotfix {}", "", ""},
		{"command line", "hotfix {}", "login loop", "login loop"},
		{"config", `hotfix {
    reason = "cert expired"
  }`, "", "cert expired"},
		{"command line wins", `hotfix {
    reason = "cert expired"
  }`, "login loop", "login loop"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := serviceHCL(1, tt.block)
			s1 := released(t, load(t, src))
			opts := testOpts()
			opts.Reason = tt.reason
			p, diags := planner.Plan(t.Context(), opts, load(t, src, "version=v2"), s1, world(s1))
			if tt.wantReason == "" {
				if !hasDiag(diags, "Hotfix Needs A Reason") || p != nil {
					t.Fatalf("plan = %v, diagnostics %v; want Hotfix Needs A Reason and no plan", p, diags)
				}
				return
			}
			if diags.HasErrors() {
				t.Fatal(diags.Error())
			}
			if p.Reason != tt.wantReason {
				t.Errorf("reason = %q, want %q", p.Reason, tt.wantReason)
			}
			diffLines(t, "steps", kinds(p), []string{
				"stop update shop-web-r1-1",
				"start create shop-web-r2-1",
				"health shop-web-r2-1",
				"traffic update [shop-web-r2-1]",
			})
			diffLines(t, "compensations", comps(p), []string{
				"start update shop-web-r1-1",
				"remove delete shop-web-r2-1",
				"",
				"traffic update [shop-web-r1-1]",
			})
			// The old containers stay stopped until the next release, so
			// a failing post check can start them again.
			if svc := p.Services["web"]; svc.Previous == nil || svc.Previous.Kept != state.KeptStopped || svc.Color != "" {
				t.Errorf("hotfix state: previous %+v, color %q; want the old release kept stopped, no color", svc.Previous, svc.Color)
			}
		})
	}
}

func TestUnchanged(t *testing.T) {
	for _, strategy := range []string{"", canaryHCL, rollingHCL, "hotfix {}"} {
		src := serviceHCL(2, strategy)
		s1 := released(t, load(t, src))
		p := mustPlan(t, testOpts(), load(t, src), s1, world(s1))
		if p.Changed() || len(p.Steps) != 0 || len(p.Drift) != 0 {
			t.Errorf("%q: plan of the live release = %v, drift %v; want nothing", strategy, kinds(p), p.Drift)
		}
		if len(p.Resources) != 1 || !p.Resources[0].Unchanged {
			t.Errorf("%q: resources = %+v, want web unchanged", strategy, p.Resources)
		}
		if p.Services["web"] != nil {
			t.Errorf("%q: an unchanged service has a next state", strategy)
		}
	}
}

func TestImageNotFound(t *testing.T) {
	cfg := load(t, serviceHCL(1, ""), "version=v9")
	prior := state.New("shop", "")
	p, diags := planner.Plan(t.Context(), testOpts(), cfg, prior, world(prior))
	if p != nil || !hasDiag(diags, "Image Not Found") {
		t.Fatalf("plan = %v, diagnostics %v; want Image Not Found", p, diags)
	}
	if d := diags[0]; d.Subject == nil || d.Subject.Filename == "" {
		t.Errorf("diagnostic %q does not point at the service", d.Summary)
	}
}

// TestServiceRemoved checks that a service dropped from the config has its
// route and containers removed.
func TestServiceRemoved(t *testing.T) {
	src := serviceHCL(1, "")
	s1 := released(t, load(t, src))
	s1.Services["old"] = &state.Service{Name: "old", Image: "demo:v1", ImageID: idV1, Release: 1,
		Containers: []state.Container{{Name: "shop-old-r1-1", ImageID: idV1}}, RouteFile: "conf.d/shop-old.conf", RouteChecksum: "x",
		Previous: &state.Previous{Release: 0, Containers: []state.Container{{Name: "shop-old-r0-1"}}, Kept: state.KeptStopped}}
	p := mustPlan(t, testOpts(), load(t, src), s1, world(s1))
	diffLines(t, "steps", kinds(p), []string{"traffic delete remove-route", "pause", "remove delete shop-old-r1-1 shop-old-r0-1"})
	if !p.Steps[1].Drains() {
		t.Errorf("step between the route's removal and the containers' = %q, want a drain", p.Steps[1].Detail)
	}
	if s, ok := p.Services["old"]; !ok || s != nil {
		t.Errorf("next state of old = %v (present %v), want a nil entry", s, ok)
	}
}

// TestUndoRoutesToRunningContainers fails every release at each of its
// steps in turn and replays the executor's undo: every compensating
// traffic step must route to running containers, and afterwards the old
// release must run again with none of the new containers left.
func TestUndoRoutesToRunningContainers(t *testing.T) {
	strategies := map[string]string{
		"blue_green running": "blue_green {}",
		"blue_green stopped": "blue_green {\n    keep_previous = \"stopped\"\n  }",
		"blue_green removed": "blue_green {\n    keep_previous = \"removed\"\n  }",
		"canary":             canaryHCL,
		"rolling":            rollingHCL,
	}
	// hotfix is left out: it accepts brief downtime, so undoing its switch
	// routes to its stopped old containers, which the executor starts
	// again before it routes to them.
	for name, strategy := range strategies {
		t.Run(name, func(t *testing.T) {
			src := serviceHCL(2, strategy) + postCheckHCL
			s1 := released(t, load(t, src))
			obs := world(s1)
			replayUndo(t, mustPlan(t, testOpts(), load(t, src, "version=v2"), s1, obs), s1, obs)
		})
	}
}

const postCheckHCL = `
check "api" {
  phase = "post"
  http {
    url = "http://127.0.0.1:8081/health"
  }
}
`

// replayUndo fails p at each of its steps in turn and replays what the
// executor then does (the failed step's own compensation unless it is a
// traffic step, then the finished steps' compensations newest first)
// against the running containers of obs. Every compensating traffic step
// must route to containers running at that moment, and afterwards exactly
// the containers that ran before must run. A failure after (or while)
// containers serving prior were removed cannot be undone (the executor
// reports it as needing intervention), so those cases are skipped.
func replayUndo(t *testing.T, p *plan.Plan, prior *state.State, obs *providers.Observations) {
	t.Helper()
	var before, serving []string
	for _, c := range obs.Containers {
		if c.Running() {
			before = append(before, c.Name)
		}
	}
	slices.Sort(before)
	for _, s := range prior.Services {
		for _, c := range s.Containers {
			serving = append(serving, c.Name)
		}
	}
	removesServing := func(s *plan.Step) bool {
		return s.Kind == plan.KindRemove && slices.ContainsFunc(s.Names, func(n string) bool { return slices.Contains(serving, n) })
	}
	for k, failed := range p.Steps {
		running := map[string]bool{}
		for _, n := range before {
			running[n] = true
		}
		do := func(s *plan.Step) {
			for _, c := range s.Containers {
				running[c.Name] = true
			}
			for _, n := range s.Names {
				switch s.Kind {
				case plan.KindStart:
					running[n] = true
				case plan.KindStop, plan.KindRemove:
					delete(running, n)
				}
			}
		}
		if slices.ContainsFunc(p.Steps[:k+1], removesServing) {
			continue
		}
		for _, s := range p.Steps[:k] {
			do(s)
		}
		undo := func(s *plan.Step) {
			c := s.Compensation
			if c == nil {
				return
			}
			if c.Traffic != nil && !c.Traffic.Remove {
				for _, n := range append(slices.Clone(c.Traffic.Stable), c.Traffic.Candidate...) {
					if !running[n] {
						t.Errorf("failing at step %d (%s): undoing %s routes to %s, which is not running", k, failed.ID, s.ID, n)
					}
				}
			}
			do(c)
		}
		if failed.Kind == plan.KindStart {
			do(failed) // half done
		}
		if failed.Kind != plan.KindTraffic {
			undo(failed)
		}
		for i := k - 1; i >= 0; i-- {
			undo(p.Steps[i])
		}
		var after []string
		for n := range running {
			after = append(after, n)
		}
		slices.Sort(after)
		if !slices.Equal(after, before) {
			t.Errorf("failing at step %d (%s): after the undo %v run, want %v", k, failed.ID, after, before)
		}
	}
}

// retireRest is what follows the drain when the old color is not kept
// running.
func retireRest(keep string) []string {
	switch keep {
	case "stopped":
		return []string{"stop update shop-web-r1-1 shop-web-r1-2"}
	case "removed":
		return []string{"remove delete shop-web-r1-1 shop-web-r1-2"}
	}
	return nil
}
