package planner

import (
	"fmt"
	"sort"

	"github.com/slipwayhq/slipway/planner/plan"
	"github.com/slipwayhq/slipway/providers"
	"github.com/slipwayhq/slipway/state"
)

// cleanOrphans removes the project's containers that neither the state
// nor the plan accounts for: leftovers of an interrupted apply or made by
// hand under slipway's labels. A leftover that is exactly a container the
// plan starts (same name, image and config) is adopted instead, which is
// how an interrupted apply resumes. Removals run first, before any start
// could collide with a leftover's name.
func cleanOrphans(p *plan.Plan, prior *state.State, obs *providers.Observations) {
	if obs == nil {
		return
	}
	known := map[string]bool{}
	for _, s := range []map[string]*state.Service{prior.Services, p.Services} {
		for _, svc := range s {
			if svc == nil {
				continue
			}
			for _, c := range svc.Containers {
				known[c.Name] = true
			}
			if svc.Previous != nil {
				for _, c := range svc.Previous.Containers {
					known[c.Name] = true
				}
			}
		}
	}
	planned := map[string]providers.ContainerSpec{}
	for _, s := range p.Steps {
		for _, c := range s.Containers {
			planned[c.Name] = c
		}
	}
	byService := map[string][]string{}
	for _, c := range obs.Containers {
		spec, isPlanned := planned[c.Name]
		if isPlanned && spec.ImageID == c.ImageID && spec.ConfigHash == c.ConfigHash {
			continue
		}
		if known[c.Name] && !isPlanned {
			continue
		}
		byService[c.Service] = append(byService[c.Service], c.Name)
	}
	if len(byService) == 0 {
		return
	}
	services := make([]string, 0, len(byService))
	for s := range byService {
		services = append(services, s)
	}
	sort.Strings(services)
	var steps []*plan.Step
	for _, s := range services {
		names := byService[s]
		sort.Strings(names)
		steps = append(steps, &plan.Step{ID: fmt.Sprintf("service.%s.cleanup", s), Resource: "service." + s,
			Kind: plan.KindRemove, Action: plan.Delete, Provider: "docker", Target: joinNames(names), Names: names,
			Detail: fmt.Sprintf("%s not in the state (left by an interrupted apply)", plural(len(names), "container"))})
	}
	p.Steps = append(steps, p.Steps...)
	for _, r := range p.Resources {
		for i := range r.Steps {
			r.Steps[i] += len(steps)
		}
	}
	for i, s := range steps {
		for _, r := range p.Resources {
			if r.Address == s.Resource {
				r.Steps = append([]int{i}, r.Steps...)
				r.Unchanged = false
			}
		}
	}
}

func joinNames(n []string) string {
	out := ""
	for i, s := range n {
		if i > 0 {
			out += ", "
		}
		out += s
	}
	return out
}
