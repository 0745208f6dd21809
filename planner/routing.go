package planner

import (
	"fmt"
	"slices"
	"strings"

	"github.com/slipwayhq/slipway/planner/plan"
	"github.com/slipwayhq/slipway/providers"
)

// routedNow returns, by service, the names of the containers that a route
// may send requests to now: those its file names, and those nginx serves;
// when what nginx serves cannot be read back, every running container of
// the service. Addresses are matched to running containers only: a
// stopped container answers nothing, so it has nothing to drain.
func routedNow(obs *providers.Observations) map[string]map[string]bool {
	out := map[string]map[string]bool{}
	if obs == nil {
		return out
	}
	byAddr := map[string]string{}
	for _, c := range obs.Containers {
		if c.Running() && c.HostAddr != "" {
			byAddr[c.Service+" "+c.HostAddr] = c.Name
		}
	}
	for _, r := range obs.Routes {
		names := out[r.Service]
		if names == nil {
			names = map[string]bool{}
			out[r.Service] = names
		}
		peers := slices.Clone(r.Peers)
		if s := r.Serving; s != nil && s.Known {
			peers = append(peers, s.Peers...)
		} else {
			for _, c := range obs.Containers {
				if c.Service == r.Service && c.Running() {
					names[c.Name] = true
				}
			}
		}
		for _, a := range peers {
			if n, ok := byAddr[r.Service+" "+a]; ok {
				names[n] = true
			}
		}
	}
	return out
}

// servesExactly reports whether the service's route, in its file and in
// what nginx serves now, sends requests to exactly the running containers
// named: false when it sends some elsewhere, or when what nginx serves
// cannot be read back.
func servesExactly(obs *providers.Observations, service string, names []string) bool {
	addrs := map[string]bool{}
	for _, c := range obs.Containers {
		if c.Service == service && c.Running() && slices.Contains(names, c.Name) {
			addrs[c.HostAddr] = true
		}
	}
	for _, r := range obs.Routes {
		if r.Service != service {
			continue
		}
		if r.Serving == nil || !r.Serving.Known {
			return false
		}
		for _, peers := range [][]string{r.Peers, r.Serving.Peers} {
			if len(peers) != len(addrs) {
				return false
			}
			for _, a := range peers {
				if !addrs[a] {
					return false
				}
			}
		}
	}
	return true
}

// drainStep is the wait after traffic left names, before they stop or are
// removed (what says which).
func drainStep(names []string, what string) *plan.Step {
	return &plan.Step{Kind: plan.KindPause, Provider: "slipway", Target: plan.DrainTarget, Pause: RetireDrain,
		Detail: fmt.Sprintf("drain %s for %s before they %s", strings.Join(names, ", "), RetireDrain, what)}
}

// insertSteps puts steps into p at index at, as steps of the resource
// address (made when the plan has none), keeping every resource's step
// indexes right.
func insertSteps(p *plan.Plan, at int, address string, steps ...*plan.Step) {
	p.Steps = slices.Insert(p.Steps, at, steps...)
	var res *plan.Resource
	for _, r := range p.Resources {
		for i, idx := range r.Steps {
			if idx >= at {
				r.Steps[i] = idx + len(steps)
			}
		}
		if r.Address == address {
			res = r
		}
	}
	if res == nil {
		res = &plan.Resource{Address: address, Strategy: "repair"}
		p.Resources = append(p.Resources, res)
	}
	res.Unchanged = false
	for i, s := range steps {
		s.Resource = address
		res.Steps = append(res.Steps, at+i)
	}
	slices.Sort(res.Steps)
}
