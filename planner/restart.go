package planner

import (
	"fmt"
	"sort"
	"strings"

	"github.com/slipwayhq/slipway/config"
	"github.com/slipwayhq/slipway/planner/plan"
	"github.com/slipwayhq/slipway/providers"
	"github.com/slipwayhq/slipway/state"
)

// planRestart adds, for a service whose release stays, the steps that set
// its declared restart policy on its live containers in place (an update:
// no new release, no restart), one step per policy they have now, each
// undone by setting that policy back. A container the runtime does not
// report a policy for, or that does not exist (a repair creates it with
// the declared policy), is left alone. It reports whether it added a step;
// the service then counts as repaired.
func planRestart(sp *svcPlan, svc *config.Service, ps *state.Service, obs *providers.Observations) bool {
	want := svc.Restart
	if want == "" {
		want = "no"
	}
	live := map[string]providers.Container{}
	for _, c := range obs.Containers {
		live[c.Name] = c
	}
	byPolicy := map[string][]string{}
	for _, c := range ps.Containers {
		lc, ok := live[c.Name]
		if !ok || lc.Restart == "" || lc.Restart == want {
			continue
		}
		byPolicy[lc.Restart] = append(byPolicy[lc.Restart], c.Name)
	}
	if len(byPolicy) == 0 {
		return false
	}
	policies := make([]string, 0, len(byPolicy))
	for p := range byPolicy {
		policies = append(policies, p)
	}
	sort.Strings(policies)
	for _, from := range policies {
		n := byPolicy[from]
		target := strings.Join(n, ", ")
		sp.add(&plan.Step{Kind: plan.KindUpdate, Action: plan.Update, Provider: "docker", Target: target,
			Detail: fmt.Sprintf("restart policy %s -> %s on %s, in place (no restart)", from, want, plural(len(n), "live container")),
			Names:  n, Restart: want,
			Compensation: &plan.Step{Kind: plan.KindUpdate, Action: plan.Update, Provider: "docker", Target: target,
				Detail: "restart policy back to " + from, Names: n, Restart: from}})
	}
	if sp.res.Strategy != "repair" {
		sp.res.From = ps.Image
		sp.res.Strategy = "repair"
	}
	return true
}
