package planner_test

import (
	"testing"

	"github.com/slipwayhq/slipway/planner/plan"
	"github.com/slipwayhq/slipway/providers"
)

// withRestart sets the observed restart policy of every container.
func withRestart(obs *providers.Observations, policy string) *providers.Observations {
	for i := range obs.Containers {
		obs.Containers[i].Restart = policy
	}
	return obs
}

// TestRestartPolicyChangeUpdatesInPlace: a service released with restart
// "no" whose configuration now takes the default, "unless-stopped", is not
// released again: one update step sets the policy on its live containers,
// and its compensation sets the old one back.
func TestRestartPolicyChangeUpdatesInPlace(t *testing.T) {
	s1 := released(t, load(t, serviceHCL(2, `restart = "no"`)))
	cfg := load(t, serviceHCL(2, ""))
	p := mustPlan(t, testOpts(), cfg, s1, withRestart(world(s1), "no"))
	diffLines(t, "steps", kinds(p), []string{"update update shop-web-r1-1 shop-web-r1-2"})
	u := p.Steps[0]
	if u.Restart != "unless-stopped" || u.Compensation == nil || u.Compensation.Restart != "no" || compLine(u) != "update update shop-web-r1-1 shop-web-r1-2" {
		t.Fatalf("update step: restart %q, compensation %+v", u.Restart, u.Compensation)
	}
	if u.Detail != "restart policy no -> unless-stopped on 2 live containers, in place (no restart)" {
		t.Errorf("detail = %q", u.Detail)
	}
	if len(p.Drift) != 0 || p.Services["web"] != nil || p.Resources[0].Strategy != "repair" || p.Resources[0].Unchanged {
		t.Errorf("drift %v, next state %+v, resource %+v: want a repair of the same release", p.Drift, p.Services["web"], p.Resources[0])
	}

	// Applied: nothing more to do.
	if p := mustPlan(t, testOpts(), cfg, s1, withRestart(world(s1), "unless-stopped")); p.Changed() {
		t.Errorf("plan after the update = %v, want no changes", kinds(p))
	}
	// A runtime that does not report policies changes nothing.
	if p := mustPlan(t, testOpts(), cfg, s1, world(s1)); p.Changed() {
		t.Errorf("plan without observed policies = %v, want no changes", kinds(p))
	}
}

// TestRestartPolicyWithRepair: a container removed by hand is recreated
// with the declared policy; only the one still there is updated.
func TestRestartPolicyWithRepair(t *testing.T) {
	s1 := released(t, load(t, serviceHCL(2, `restart = "no"`)))
	cfg := load(t, serviceHCL(2, `restart = "always"`))
	obs := withRestart(world(s1), "no")
	obs.Containers = obs.Containers[1:] // shop-web-r1-1 removed
	p := mustPlan(t, testOpts(), cfg, s1, obs)
	diffLines(t, "steps", kinds(p), []string{
		"start create shop-web-r1-1",
		"health shop-web-r1-1",
		"traffic update [shop-web-r1-1 shop-web-r1-2]",
		"update update shop-web-r1-2",
	})
	if got := p.Steps[0].Containers[0].Restart; got != "always" {
		t.Errorf("recreated with restart %q, want always", got)
	}
	if p.Steps[3].Kind != plan.KindUpdate || p.Steps[3].Restart != "always" {
		t.Errorf("update step %+v", p.Steps[3])
	}
}
