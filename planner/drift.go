package planner

import (
	"fmt"
	"strings"

	"github.com/slipwayhq/slipway/config"
	"github.com/slipwayhq/slipway/planner/plan"
	"github.com/slipwayhq/slipway/providers"
	"github.com/slipwayhq/slipway/state"
)

// drift lists every difference between what the state says runs and what
// was observed.
func drift(cfg *config.Config, prior *state.State, obs *providers.Observations) []plan.Drift {
	if obs == nil {
		return nil
	}
	var out []plan.Drift
	live := map[string]providers.Container{}
	for _, c := range obs.Containers {
		live[c.Name] = c
	}
	known := map[string]bool{}
	for _, name := range sortedKeys(prior.Services) {
		ps := prior.Services[name]
		addr := "service." + name
		for _, c := range ps.Containers {
			known[c.Name] = true
			lc, ok := live[c.Name]
			switch {
			case !ok:
				out = append(out, plan.Drift{Address: addr, Detail: fmt.Sprintf("container %s was removed outside slipway", c.Name)})
			case !lc.Running():
				out = append(out, plan.Drift{Address: addr, Detail: fmt.Sprintf("container %s is %s, not running", c.Name, lc.State)})
			case c.ImageID != "" && lc.ImageID != c.ImageID:
				out = append(out, plan.Drift{Address: addr, Detail: fmt.Sprintf("container %s runs another image (%s)", c.Name, short(lc.ImageID))})
			case moved(c, lc):
				out = append(out, plan.Drift{Address: addr, Detail: fmt.Sprintf("container %s answers on %s, not on %s where nginx sends it requests (restarted on another port)", c.Name, lc.HostAddr, c.HostAddr)})
			}
		}
		if pp := ps.Previous; pp != nil {
			for _, c := range pp.Containers {
				known[c.Name] = true
				if _, ok := live[c.Name]; !ok && pp.Kept != state.KeptRemoved {
					out = append(out, plan.Drift{Address: addr, Detail: fmt.Sprintf("kept container %s of release #%d was removed outside slipway (rollback will recreate it)", c.Name, pp.Release)})
				}
			}
		}
		if ps.RouteFile != "" {
			found := false
			for _, r := range obs.Routes {
				if r.Service != name {
					continue
				}
				found = true
				switch {
				case r.Edited():
					out = append(out, plan.Drift{Address: addr, Detail: fmt.Sprintf("nginx file %s was edited outside slipway", r.Path)})
				case ps.RouteChecksum != "" && r.Actual != ps.RouteChecksum:
					out = append(out, plan.Drift{Address: addr, Detail: fmt.Sprintf("nginx file %s is slipway's routing of release #%d, not the one the state records (an interrupted or undone operation wrote it)", r.Path, r.Release)})
				}
				if s := r.Serving; s != nil && !s.Known {
					out = append(out, plan.Drift{Address: addr, Detail: fmt.Sprintf("nginx serves a routing other than its file's (release tag %s; a switch was interrupted): every container of the service may receive requests", s.Tag)})
				}
			}
			if !found {
				out = append(out, plan.Drift{Address: addr, Detail: fmt.Sprintf("nginx file %s was removed outside slipway", ps.RouteFile)})
			}
		}
	}
	for _, c := range obs.Containers {
		if !known[c.Name] {
			out = append(out, plan.Drift{Address: "service." + c.Service, Detail: fmt.Sprintf("container %s is not in the state (left by an interrupted apply, or made by hand)", c.Name)})
		}
	}
	return out
}

// moved reports whether a running container answers on another address
// than the one state recorded, which its route sends requests to: a
// container created before slipway pinned host ports gets a new one each
// time its restart policy restarts it.
func moved(c state.Container, lc providers.Container) bool {
	return lc.Running() && c.HostAddr != "" && lc.HostAddr != "" && lc.HostAddr != c.HostAddr
}

func short(id string) string {
	id = strings.TrimPrefix(id, "sha256:")
	if len(id) > 12 {
		return id[:12]
	}
	return id
}

// repair plans the steps that bring an unchanged service back to its state
// after drift: missing or stopped containers started again (idempotent by
// name) and the route rendered anew. It reports whether anything is needed.
func repair(sp *svcPlan, cfg *config.Config, opts Options, svc *config.Service, ps *state.Service, obs *providers.Observations) bool {
	live := map[string]providers.Container{}
	for _, c := range obs.Containers {
		live[c.Name] = c
	}
	specs := containerSpecs(cfg, opts.Env, svc, ps.Release, ps.Color, ps.ImageID, ps.ConfigHash)
	var missing []providers.ContainerSpec
	addrDrift := false
	for i, c := range ps.Containers {
		if lc, ok := live[c.Name]; ok && moved(c, lc) {
			addrDrift = true
		}
		if lc, ok := live[c.Name]; !ok || !lc.Running() || (c.ImageID != "" && lc.ImageID != c.ImageID) {
			if i < len(specs) {
				s := specs[i]
				s.Name, s.Index, s.Color, s.Release = c.Name, c.Index, c.Color, c.Release
				missing = append(missing, s)
			}
		}
	}
	routeDrift := false
	if svc.Route != nil {
		found := false
		for _, r := range obs.Routes {
			if r.Service == svc.Name {
				found = true
				routeDrift = r.Edited() || (ps.RouteChecksum != "" && r.Actual != ps.RouteChecksum)
			}
		}
		var n []string
		for _, c := range ps.Containers {
			n = append(n, c.Name)
		}
		// The file can be right while nginx serves another routing: a
		// switch interrupted between the file and the live table (or
		// the reload).
		routeDrift = routeDrift || !found || addrDrift || !servesExactly(obs, svc.Name, n)
	}
	if len(missing) == 0 && !routeDrift {
		return false
	}
	next := *ps
	next.Containers = append([]state.Container(nil), ps.Containers...)
	sp.p.Services[svc.Name] = &next
	sp.res.From = ps.Image
	sp.res.Strategy = "repair"
	if len(missing) > 0 {
		// No compensation removes them: they are the state's own
		// containers, and once routed an undo must not take them away.
		start(sp, svc, missing, " (recreated)").Compensation = nil
	}
	if svc.Route != nil {
		var n []string
		for _, c := range ps.Containers {
			n = append(n, c.Name)
		}
		rs := routeSpec(cfg, opts.Env, svc, ps.Release, ps.Version, "")
		sp.add(&plan.Step{Kind: plan.KindTraffic, Action: plan.Update, Provider: "nginx", Target: routeTarget(svc),
			Detail: fmt.Sprintf("render the route to %s again", ps.Version), Traffic: traffic(n, nil, 0, rs)})
	}
	return true
}
