package planner

import (
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/slipwayhq/slipway/config"
	"github.com/slipwayhq/slipway/planner/plan"
	"github.com/slipwayhq/slipway/providers"
	"github.com/slipwayhq/slipway/state"
)

// cleanOrphans removes the project's containers that neither the state
// nor the plan accounts for: leftovers of an interrupted apply or made by
// hand under slipway's labels. A leftover that is exactly a container the
// plan starts (same name, image and config) is adopted instead, which is
// how an interrupted apply resumes.
//
// A leftover no route sends requests to is removed first, before any start
// could collide with its name. When a route sends requests to a container
// the plan adopts, the plan opens by taking that share back (see
// rerouteFirst): the plan's undo removes what it started. One that a route still sends requests to (a
// canary killed at 50%) leaves the routing first: it is removed after the
// plan's first traffic step that routes elsewhere and a drain, when no
// start before that step reuses its name. Otherwise the plan opens with
// the service's state routed again (its stopped or missing containers
// started first), a drain, and the removal, before anything else.
func cleanOrphans(p *plan.Plan, cfg *config.Config, opts Options, prior *state.State, obs *providers.Observations) {
	if obs == nil {
		return
	}
	routed := routedNow(obs)
	byService, adoptedRouted := leftovers(p, prior, obs, routed)
	services := make([]string, 0, len(byService))
	for s := range byService {
		services = append(services, s)
	}
	for s := range adoptedRouted {
		if _, ok := byService[s]; !ok {
			services = append(services, s)
		}
	}
	sort.Strings(services)
	// Services in reverse, each putting its steps first: the plan opens
	// with them in name order.
	for i := len(services) - 1; i >= 0; i-- {
		s := services[i]
		names := byService[s]
		sort.Strings(names)
		cleanService(p, cfg, opts, prior, obs, s, names, adoptedRouted[s], routed[s])
	}
}

// knownNames are the containers the state or the plan accounts for,
// previous releases included.
func knownNames(p *plan.Plan, prior *state.State) map[string]bool {
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
	return known
}

// leftovers sorts the observed containers nobody accounts for by service
// (byService), and finds the adopted ones (exactly a container the plan
// starts) that a route sends requests to: the share an interrupted apply
// had given them (adoptedRouted).
func leftovers(p *plan.Plan, prior *state.State, obs *providers.Observations, routed map[string]map[string]bool) (byService, adoptedRouted map[string][]string) {
	known := knownNames(p, prior)
	planned := map[string]providers.ContainerSpec{}
	for _, s := range p.Steps {
		for _, c := range s.Containers {
			planned[c.Name] = c
		}
	}
	byService, adoptedRouted = map[string][]string{}, map[string][]string{}
	for _, c := range obs.Containers {
		spec, isPlanned := planned[c.Name]
		if isPlanned && spec.ImageID == c.ImageID && spec.ConfigHash == c.ConfigHash {
			if routed[c.Service][c.Name] {
				adoptedRouted[c.Service] = append(adoptedRouted[c.Service], c.Name)
			}
			continue
		}
		if known[c.Name] && !isPlanned {
			continue
		}
		byService[c.Service] = append(byService[c.Service], c.Name)
	}
	return byService, adoptedRouted
}

// cleanService puts the steps that deal with service s's leftovers
// (names, sorted) into the plan: traffic first where a route still sends
// them requests, a drain, then their removal.
func cleanService(p *plan.Plan, cfg *config.Config, opts Options, prior *state.State, obs *providers.Observations,
	s string, names, adopted []string, routed map[string]bool) {
	var hot, cold []string
	for _, n := range names {
		if routed[n] {
			hot = append(hot, n)
		} else {
			cold = append(cold, n)
		}
	}
	addr := "service." + s
	if len(adopted) > 0 {
		// Resuming: the share the interrupted apply gave its
		// containers comes back first, so that undoing this plan
		// (its start's compensation removes them) never removes a
		// container that receives requests; they earn their share
		// again through the plan's own gates.
		sort.Strings(adopted)
		steps := rerouteFirst(p, cfg, opts, prior.Services[s], obs, s, append(adopted, hot...))
		if len(names) > 0 {
			steps = append(steps, orphanRemoval(addr+".cleanup", names))
		}
		insertSteps(p, 0, addr, steps...)
		return
	}
	if len(hot) > 0 {
		at, ok := takenOut(p, addr, hot, names)
		if !ok {
			steps := rerouteFirst(p, cfg, opts, prior.Services[s], obs, s, hot)
			// Every leftover goes in one step, after the drain.
			steps = append(steps, orphanRemoval(addr+".cleanup", names))
			insertSteps(p, 0, addr, steps...)
			return
		}
		steps := []*plan.Step{orphanRemoval(addr+".cleanup.drained", hot)}
		next := at + 1
		if next >= len(p.Steps) || p.Steps[next].Resource != addr || !p.Steps[next].Drains() {
			d := drainStep(hot, "are removed")
			d.ID = addr + ".cleanup.drain"
			steps = append([]*plan.Step{d}, steps...)
		} else {
			next++
		}
		insertSteps(p, next, addr, steps...)
	}
	if len(cold) > 0 {
		insertSteps(p, 0, addr, orphanRemoval(addr+".cleanup", cold))
	}
}

func orphanRemoval(id string, names []string) *plan.Step {
	return &plan.Step{ID: id, Kind: plan.KindRemove, Action: plan.Delete, Provider: "docker", Target: joinNames(names), Names: names,
		Detail: fmt.Sprintf("%s not in the state (left by an interrupted apply)", plural(len(names), "container"))}
}

// takenOut returns the index of the first traffic step of the resource
// address that routes none of hot, provided no step before it starts a
// container named like one of names (its removal must come first then).
func takenOut(p *plan.Plan, address string, hot, names []string) (int, bool) {
	for i, s := range p.Steps {
		for _, c := range s.Containers {
			if slices.Contains(names, c.Name) {
				return 0, false
			}
		}
		if s.Resource != address || s.Kind != plan.KindTraffic || s.Traffic == nil {
			continue
		}
		t := s.Traffic
		if t.Remove || !slices.ContainsFunc(append(slices.Clone(t.Stable), t.Candidate...), func(n string) bool { return slices.Contains(hot, n) }) {
			return i, true
		}
	}
	return 0, false
}

// rerouteFirst returns the steps that take hot, containers left by an
// interrupted operation, out of the routing before anything else happens:
// the service's state routed again (its missing or stopped containers
// started and health-gated first), or its route removed when the state
// has nothing to route to, then a drain. They have no compensation: the
// state's routing is the safe one to be left in.
func rerouteFirst(p *plan.Plan, cfg *config.Config, opts Options, ps *state.Service, obs *providers.Observations, service string, hot []string) []*plan.Step {
	addr := "service." + service
	svc := cfg.Service(service)
	var steps []*plan.Step
	if svc == nil || svc.Route == nil || ps == nil || len(ps.Containers) == 0 {
		steps = append(steps, &plan.Step{ID: addr + ".cleanup.traffic", Kind: plan.KindTraffic, Action: plan.Delete, Provider: "nginx", Target: addr,
			Detail:  fmt.Sprintf("remove the route that sends requests to %s (left by an interrupted apply)", strings.Join(hot, ", ")),
			Traffic: &plan.Traffic{Route: providers.RouteSpec{Project: cfg.Project.Name, Env: opts.Env, Service: service}, Remove: true}})
	} else {
		live := map[string]providers.Container{}
		for _, c := range obs.Containers {
			live[c.Name] = c
		}
		specs := containerSpecs(cfg, opts.Env, svc, ps.Release, ps.Color, ps.ImageID, ps.ConfigHash)
		var missing []providers.ContainerSpec
		var n []string
		for i, c := range ps.Containers {
			n = append(n, c.Name)
			if lc, ok := live[c.Name]; (!ok || !lc.Running() || (c.ImageID != "" && lc.ImageID != c.ImageID)) && i < len(specs) {
				s := specs[i]
				s.Name, s.Index, s.Color, s.Release = c.Name, c.Index, c.Color, c.Release
				missing = append(missing, s)
			}
		}
		if len(missing) > 0 {
			m := names(missing)
			steps = append(steps,
				&plan.Step{ID: addr + ".cleanup.start", Kind: plan.KindStart, Action: plan.Create, Provider: "docker", Target: strings.Join(m, ", "),
					Detail: fmt.Sprintf("%s of release #%d again, to route to", plural(len(m), "container"), ps.Release), Containers: missing},
				&plan.Step{ID: addr + ".cleanup.health", Kind: plan.KindHealth, Provider: "docker", Target: strings.Join(m, ", "),
					Detail: healthDetail(svc), Names: m, Health: health(svc)})
		}
		rs := routeSpec(cfg, opts.Env, svc, ps.Release, ps.Version, "")
		steps = append(steps, &plan.Step{ID: addr + ".cleanup.traffic", Kind: plan.KindTraffic, Action: plan.Update, Provider: "nginx", Target: routeTarget(svc),
			Detail:  fmt.Sprintf("all requests back to %s of release #%d, away from %s", ps.Version, ps.Release, strings.Join(hot, ", ")),
			Traffic: traffic(n, nil, 0, rs)})
	}
	d := drainStep(hot, "are removed")
	d.ID = addr + ".cleanup.drain"
	return append(steps, d)
}

func joinNames(n []string) string {
	return strings.Join(n, ", ")
}
