package planner

import (
	"fmt"
	"path/filepath"

	"github.com/slipwayhq/slipway/config"
	"github.com/slipwayhq/slipway/planner/plan"
	"github.com/slipwayhq/slipway/providers"
)

// checkSpecs resolves the named check blocks of cfg, in order.
func checkSpecs(cfg *config.Config, names []string) []plan.Check {
	var out []plan.Check
	for _, n := range names {
		if c := cfg.Check(n); c != nil {
			out = append(out, plan.NewCheck(c))
		}
	}
	return out
}

// AnalysisSpec resolves the analysis block an for the routed service svc:
// its source's access log (resolved against dir, the configuration's
// absolute directory), probe address and canary header, and the releases
// of the stable and the candidate group. A watch, which judges the live
// version alone, clears Header and gives one release for both. It returns
// nil when an is nil or svc has no route.
func AnalysisSpec(cfg *config.Config, dir, env string, svc *config.Service, an *config.Analysis, stable, candidate int) *plan.Analysis {
	if an == nil || svc.Route == nil {
		return nil
	}
	s := &plan.Analysis{Block: *an, Project: cfg.Project.Name, Env: env, Service: svc.Name,
		URL: fmt.Sprintf("http://127.0.0.1:%d%s", svc.Route.Listen, svc.Route.Location), StableRelease: stable, CandidateRelease: candidate}
	if cfg.Nginx != nil && cfg.Nginx.AccessLog != "" {
		s.AccessLog = cfg.Nginx.AccessLog
		if !filepath.IsAbs(s.AccessLog) {
			s.AccessLog = filepath.Join(dir, s.AccessLog)
		}
	}
	if svc.Route.ServerName != "_" {
		s.Host = svc.Route.ServerName
	}
	if svc.Canary != nil {
		s.Header = svc.Canary.Header
	}
	return s
}

// switchModes says, on each traffic step that routes, how the router will
// make it live, as obs.Switch tells for its service: through a live table
// with no reload, or by a reload (and why).
func switchModes(p *plan.Plan, obs *providers.Observations) {
	if obs == nil || obs.Switch == nil {
		return
	}
	for _, s := range p.Steps {
		t := s.Traffic
		if s.Kind != plan.KindTraffic || t == nil || t.Remove {
			continue
		}
		sw, ok := obs.Switch[t.Route.Service]
		if !ok {
			continue
		}
		t.Switch = &sw
		switch {
		case sw.Mode == SwitchDynamic:
			s.Detail += " (dynamic: no reload)"
		case sw.Reason != "":
			s.Detail += " (nginx reload: " + sw.Reason + ")"
		default:
			s.Detail += " (nginx reload)"
		}
	}
}

// SwitchDynamic is the SwitchPlan mode of a change that goes live without
// a reload.
const SwitchDynamic = "dynamic"

// SwitchSpec is the routing of svc whose switch a router is asked about
// (providers.SwitchPlanner) before planning: its shape, with one
// placeholder address. How a router makes a change live depends on the
// route's shape only, never on its addresses or shares.
func SwitchSpec(cfg *config.Config, env string, svc *config.Service) providers.RouteSpec {
	rs := routeSpec(cfg, env, svc, 0, "", "")
	rs.Stable = []string{"127.0.0.1:40000"}
	return rs
}
