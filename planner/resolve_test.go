package planner_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/slipwayhq/slipway/planner"
	"github.com/slipwayhq/slipway/planner/plan"
	"github.com/slipwayhq/slipway/providers"
)

// TestPlanCarriesChecksAndAnalyses: check steps carry their checks and
// analyse steps their analysis as resolved from the configuration, so
// that nothing looks them up by name when the plan runs.
func TestPlanCarriesChecksAndAnalyses(t *testing.T) {
	src := serviceHCL(1, canaryHCL) + `
check "api" {
  phase = "post"
  http {
    url    = "http://127.0.0.1:8081/health"
    status = 204
  }
}
`
	s1 := released(t, load(t, src))
	opts := testOpts()
	opts.ConfigDir = "/srv/deploy"
	p := mustPlan(t, opts, load(t, src, "version=v2"), s1, world(s1))
	post := p.Steps[len(p.Steps)-1]
	if post.Kind != plan.KindCheck || len(post.CheckSpecs) != 1 {
		t.Fatalf("last step %+v, want the post checks with their specs", post)
	}
	ck := post.CheckSpecs[0]
	if ck.Name != "api" || ck.Kind != "http" || ck.Phase != "post" || ck.Block().Attrs["status"].AsBigFloat().String() != "204" {
		t.Errorf("post check = %+v", ck)
	}
	var analyses int
	for _, s := range p.Steps {
		if s.Kind != plan.KindAnalyse {
			continue
		}
		analyses++
		a := s.AnalysisSpec
		if a == nil || a.Block.Name != "standard" || a.Block.MinRequests != 20 {
			t.Fatalf("analyse step %s carries %+v", s.ID, a)
		}
		if a.Project != "shop" || a.Service != "web" || a.StableRelease != 1 || a.CandidateRelease != 2 ||
			a.URL != "http://127.0.0.1:8081/" || a.Host != "shop.example.com" || a.Header != "X-Slipway-Canary" {
			t.Errorf("analysis source = %+v", a)
		}
	}
	if analyses != 3 {
		t.Errorf("%d analyse steps, want 3", analyses)
	}
}

// TestAnalysisSpecAccessLog: a relative access log resolves against the
// configuration's directory; none means the nginx source has none.
func TestAnalysisSpecAccessLog(t *testing.T) {
	cfg := load(t, strings.Replace(serviceHCL(1, canaryHCL), `config_dir = "conf.d"`, "config_dir = \"conf.d\"\n  access_log = \"logs/access.log\"", 1))
	svc := cfg.Service("web")
	a := planner.AnalysisSpec(cfg, "/srv/deploy", "", svc, cfg.Analysis("standard"), 3, 3)
	if a.AccessLog != "/srv/deploy/logs/access.log" || a.StableRelease != 3 || a.CandidateRelease != 3 {
		t.Errorf("spec = %+v", a)
	}
	cfg.Nginx.AccessLog = ""
	if a := planner.AnalysisSpec(cfg, "/srv/deploy", "", svc, cfg.Analysis("standard"), 3, 3); a.AccessLog != "" {
		t.Errorf("access log %q without one configured", a.AccessLog)
	}
	if planner.AnalysisSpec(cfg, "/srv/deploy", "", svc, nil, 3, 3) != nil {
		t.Error("a spec without an analysis block")
	}
}

// TestRollbackNoVerifyAndTarget: -no-verify leaves the post checks out
// and says so; the plan names the release it returns to.
func TestRollbackNoVerifyAndTarget(t *testing.T) {
	src := serviceHCL(1, "") + `
check "api" {
  phase = "post"
  http {
    url = "http://127.0.0.1:8081/health"
  }
}
`
	s1 := released(t, load(t, src))
	cfg2 := load(t, src, "version=v2")
	s2 := settle(mustPlan(t, testOpts(), cfg2, s1, world(s1)), s1)
	for _, noVerify := range []bool{false, true} {
		opts := testOpts()
		opts.NoVerify = noVerify
		p, diags := planner.Rollback(t.Context(), opts, cfg2, s2, s1, world(s2))
		if diags.HasErrors() {
			t.Fatal(diags.Error())
		}
		if p.TargetRelease != 1 {
			t.Errorf("target release %d, want 1", p.TargetRelease)
		}
		last := p.Steps[len(p.Steps)-1]
		warned := slices.Contains(p.Warnings, "post-deploy checks skipped (-no-verify): api")
		if noVerify == (last.Kind == plan.KindCheck) || noVerify != warned || noVerify != (len(p.PostChecks) == 0) {
			t.Errorf("no-verify %v: last step %s, warnings %q, post checks %q", noVerify, last.ID, p.Warnings, p.PostChecks)
		}
		for i, s := range p.Steps {
			if s.Index != i {
				t.Errorf("step %s has index %d at %d", s.ID, s.Index, i)
			}
		}
	}
}

// TestSwitchModes: each routing traffic step says how the router said
// it would go live; removals and compensations do not, nor does a plan
// made without the router's answer.
func TestSwitchModes(t *testing.T) {
	src := serviceHCL(1, "")
	s1 := released(t, load(t, src))
	cfg2 := load(t, src, "version=v2")
	for _, tt := range []struct {
		sw   *providers.SwitchPlan
		want string
	}{
		{nil, ""},
		{&providers.SwitchPlan{Mode: "reload"}, " (nginx reload)"},
		{&providers.SwitchPlan{Mode: planner.SwitchDynamic}, " (dynamic: no reload)"},
		{&providers.SwitchPlan{Mode: "reload", Reason: "the route's shape changed"}, " (nginx reload: the route's shape changed)"},
	} {
		obs := world(s1)
		if tt.sw != nil {
			obs.Switch = map[string]providers.SwitchPlan{"web": *tt.sw}
		}
		p := mustPlan(t, testOpts(), cfg2, s1, obs)
		var n int
		for _, s := range p.Steps {
			if s.Kind != plan.KindTraffic {
				continue
			}
			n++
			if !strings.HasSuffix(s.Detail, tt.want) || (tt.want == "") != (s.Traffic.Switch == nil) {
				t.Errorf("%+v: detail %q, switch %+v", tt.sw, s.Detail, s.Traffic.Switch)
			}
			if c := s.Compensation; c != nil && (strings.Contains(c.Detail, "reload") || c.Traffic.Switch != nil) {
				t.Errorf("compensation %q says how it switches", c.Detail)
			}
		}
		if n == 0 {
			t.Fatal("no traffic step")
		}
	}
}
