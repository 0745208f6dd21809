package planner

import (
	"fmt"
	"strings"
	"time"

	"github.com/hashicorp/hcl/v2"
	"github.com/slipwayhq/slipway/config"
	"github.com/slipwayhq/slipway/planner/plan"
	"github.com/slipwayhq/slipway/providers"
	"github.com/slipwayhq/slipway/state"
)

// svcPlan collects the steps of one service.
type svcPlan struct {
	p   *plan.Plan
	res *plan.Resource
	dir string // Options.ConfigDir
	// routed names the service's containers a route sends requests to
	// now (see routedNow).
	routed map[string]bool
}

// routedAny reports whether a route sends requests to any of names now.
func (sp *svcPlan) routedAny(names []string) bool {
	for _, n := range names {
		if sp.routed[n] {
			return true
		}
	}
	return false
}

func (sp *svcPlan) add(s *plan.Step) *plan.Step {
	s.Resource = sp.res.Address
	s.ID = fmt.Sprintf("%s.%s.%d", sp.res.Address, s.Kind, len(sp.res.Steps)+1)
	sp.res.Steps = append(sp.res.Steps, len(sp.p.Steps))
	sp.p.Steps = append(sp.p.Steps, s)
	return s
}

func planService(p *plan.Plan, opts Options, cfg *config.Config, prior *state.State, obs *providers.Observations, svc *config.Service) hcl.Diagnostics {
	addr := "service." + svc.Name
	img, diags := serviceImage(opts, cfg, svc, obs)
	if diags.HasErrors() {
		return diags
	}
	id := img.id
	if id != "" {
		p.Images[svc.Image] = id
	}
	ps := prior.Services[svc.Name]
	hash := serviceHash(svc, p.Secrets)
	res := &plan.Resource{Address: addr, To: svc.Image, Strategy: svc.Strategy}
	p.Resources = append(p.Resources, res)
	if ps != nil {
		res.From = ps.Image
	}
	sp := &svcPlan{p: p, res: res, dir: opts.ConfigDir, routed: routedNow(obs)[svc.Name]}

	changed := ps == nil || id == "" || ps.ImageID != id || !sameConfig(ps.ConfigHash, svc, p.Secrets) || ps.Strategy != svc.Strategy
	if !changed {
		repaired := repair(sp, cfg, opts, svc, ps, obs)
		if planRestart(sp, svc, ps, obs) || repaired {
			return nil
		}
		res.Unchanged = true
		return nil
	}
	if svc.Strategy == state.StrategyHotfix && ps != nil && opts.Reason == "" && (svc.Hotfix == nil || svc.Hotfix.Reason == "") {
		return hcl.Diagnostics{{
			Severity: hcl.DiagError,
			Summary:  "Hotfix Needs A Reason",
			Detail:   fmt.Sprintf("Service %q uses the hotfix strategy, which recreates it in place with brief downtime; give a reason with -reason \"...\" or hotfix { reason = \"...\" } so the release record keeps it.", svc.Name),
			Subject:  svc.DeclRange.Ptr(),
		}}
	}
	if svc.Strategy == state.StrategyHotfix && p.Reason == "" {
		if opts.Reason != "" {
			p.Reason = opts.Reason
		} else if svc.Hotfix != nil {
			p.Reason = svc.Hotfix.Reason
		}
	}

	rel := p.Release
	color := nextColor(ps)
	next := &state.Service{
		Name: svc.Name, Strategy: svc.Strategy, Image: svc.Image, ImageID: id, ImageDigest: img.digest, Release: rel,
		Version: Version(svc.Image), ConfigHash: hash, Color: color,
	}
	if img.step != nil {
		sp.add(img.step)
	}
	specs := containerSpecs(cfg, opts.Env, svc, rel, color, id, hash)
	for _, s := range specs {
		next.Containers = append(next.Containers, state.Container{Name: s.Name, Color: color, Release: rel, Index: s.Index, ImageID: id})
	}
	p.Services[svc.Name] = next

	var old []string
	if ps != nil {
		for _, c := range ps.Containers {
			old = append(old, c.Name)
		}
	}
	switch {
	case ps == nil:
		planFirst(sp, cfg, svc, specs, next)
	case svc.Strategy == state.StrategyHotfix:
		planHotfix(sp, cfg, svc, ps, specs, old, next)
	case svc.Strategy == state.StrategyCanary:
		planCanary(sp, cfg, svc, ps, specs, old, next)
	case svc.Strategy == state.StrategyRolling:
		planRolling(sp, cfg, svc, ps, specs, old, next)
	default:
		planBlueGreen(sp, cfg, svc, ps, specs, old, next)
	}
	return nil
}

// nextColor is the color of a service's next release: the other one than
// its serving containers have (a canary or rolling service keeps colors on
// its containers only).
func nextColor(ps *state.Service) string {
	c := ""
	if ps != nil {
		c = ps.Color
		if c == "" && len(ps.Containers) > 0 {
			c = ps.Containers[0].Color
		}
	}
	if c == state.ColorBlue {
		return state.ColorGreen
	}
	return state.ColorBlue
}

func names(specs []providers.ContainerSpec) []string {
	out := make([]string, len(specs))
	for i, s := range specs {
		out[i] = s.Name
	}
	return out
}

func containerSpecs(cfg *config.Config, env string, svc *config.Service, release int, color, imageID, hash string) []providers.ContainerSpec {
	var vars []providers.EnvVar
	for _, e := range svc.Env {
		vars = append(vars, providers.EnvVar{Name: e.Name, Value: e.Value, Sensitive: e.Sensitive})
	}
	specs := make([]providers.ContainerSpec, svc.Replicas)
	for i := range specs {
		// slipway tells each container who it is, as Kamal and Nomad do.
		own := []providers.EnvVar{
			{Name: "SLIPWAY_SERVICE", Value: svc.Name},
			{Name: "SLIPWAY_RELEASE", Value: fmt.Sprint(release)},
			{Name: "SLIPWAY_COLOR", Value: color},
		}
		vars := append(append([]providers.EnvVar(nil), vars...), own...)
		specs[i] = providers.ContainerSpec{
			Name: ContainerName(cfg.Project.Name, env, svc.Name, release, i+1), Project: cfg.Project.Name, Env: env,
			Service: svc.Name, Release: release, Color: color, Index: i + 1, ConfigHash: hash,
			Image: svc.Image, ImageID: imageID, Vars: vars, Command: svc.Command, Port: svc.Port, HostIP: svc.HostIP,
			Volumes: svc.Volumes, Networks: svc.Networks, ExtraHosts: svc.ExtraHosts, Memory: parseMemory(svc.Memory),
			CPUs: svc.CPUs, Restart: svc.Restart, StopTimeout: svc.StopTimeout,
		}
	}
	return specs
}

func health(svc *config.Service) *providers.HealthSpec {
	h := svc.Health
	return &providers.HealthSpec{Path: h.Path, Interval: h.Interval, Timeout: h.Timeout, HealthyThreshold: h.HealthyThreshold, Deadline: h.Deadline}
}

func routeSpec(cfg *config.Config, env string, svc *config.Service, release int, stableVer, candVer string) providers.RouteSpec {
	r := svc.Route
	rs := providers.RouteSpec{Project: cfg.Project.Name, Env: env, Service: svc.Name, Release: release,
		Listen: r.Listen, ServerName: r.ServerName, Location: r.Location, TLSCert: r.TLSCert, TLSKey: r.TLSKey,
		ProxyTimeout: r.ProxyTimeout, StableVersion: stableVer, CandidateVersion: candVer}
	if c := svc.Canary; c != nil {
		rs.StickyCookie = c.StickyCookie
		rs.CanaryHeader = c.Header
	}
	return rs
}

func healthDetail(svc *config.Service) string {
	h := svc.Health
	if h.Path == "" {
		return fmt.Sprintf("image HEALTHCHECK, deadline %s", h.Deadline)
	}
	return fmt.Sprintf("GET %s, %d in a row, deadline %s", h.Path, h.HealthyThreshold, h.Deadline)
}

func plural(n int, one string) string {
	if n == 1 {
		return fmt.Sprintf("%d %s", n, one)
	}
	return fmt.Sprintf("%d %ss", n, one)
}

// preview adds the preview checks, which run against one of the new
// containers directly after its health gate and before any traffic moves.
func preview(sp *svcPlan, cfg *config.Config, specs []providers.ContainerSpec) {
	var names []string
	for _, c := range cfg.Checks {
		if c.Phase == "preview" {
			names = append(names, c.Name)
		}
	}
	if len(names) == 0 || len(specs) == 0 {
		return
	}
	sp.add(&plan.Step{Kind: plan.KindCheck, Provider: "slipway", Target: "preview", Phase: "preview", Checks: names, CheckSpecs: checkSpecs(cfg, names),
		Names: []string{specs[0].Name}, Detail: fmt.Sprintf("%s against %s before traffic moves: %s", plural(len(names), "preview check"), specs[0].Name, strings.Join(names, ", "))})
}

// start adds the start and health steps of specs, and returns the start
// step; removing them is its compensation.
func start(sp *svcPlan, svc *config.Service, specs []providers.ContainerSpec, label string) *plan.Step {
	n := names(specs)
	st := sp.add(&plan.Step{Kind: plan.KindStart, Action: plan.Create, Provider: "docker", Target: strings.Join(n, ", "),
		Detail: fmt.Sprintf("%s%s from %s", plural(len(specs), "container"), label, svc.Image), Containers: specs,
		Compensation: &plan.Step{Kind: plan.KindRemove, Action: plan.Delete, Provider: "docker", Target: strings.Join(n, ", "),
			Detail: "remove the new containers", Names: n}})
	sp.add(&plan.Step{Kind: plan.KindHealth, Provider: "docker", Target: strings.Join(n, ", "),
		Detail: healthDetail(svc), Names: n, Health: health(svc)})
	return st
}

func traffic(stable, cand []string, weight int, route providers.RouteSpec) *plan.Traffic {
	return &plan.Traffic{Stable: stable, Candidate: cand, CandidateWeight: weight, Route: route}
}

func planFirst(sp *svcPlan, cfg *config.Config, svc *config.Service, specs []providers.ContainerSpec, next *state.Service) {
	label := ""
	if svc.Strategy == state.StrategyBlueGreen {
		label = " (" + next.Color + ")"
	}
	start(sp, svc, specs, label)
	preview(sp, cfg, specs)
	if svc.Route == nil {
		return
	}
	rs := routeSpec(cfg, sp.p.Env, svc, next.Release, next.Version, "")
	sp.add(&plan.Step{Kind: plan.KindTraffic, Action: plan.Create, Provider: "nginx", Target: routeTarget(svc),
		Detail: fmt.Sprintf("route all requests to %s", next.Version), Traffic: traffic(names(specs), nil, 0, rs),
		Compensation: &plan.Step{Kind: plan.KindTraffic, Action: plan.Delete, Provider: "nginx", Target: routeTarget(svc),
			Detail: "remove the route", Traffic: &plan.Traffic{Route: rs, Remove: true}, Drain: RetireDrain}})
}

func routeTarget(svc *config.Service) string {
	r := svc.Route
	return fmt.Sprintf("%s:%d%s", r.ServerName, r.Listen, r.Location)
}

// back is the compensation that routes everything to the old containers.
func back(cfg *config.Config, env string, svc *config.Service, ps *state.Service, old []string) *plan.Step {
	if svc.Route == nil {
		return nil
	}
	rs := routeSpec(cfg, env, svc, ps.Release, ps.Version, "")
	return &plan.Step{Kind: plan.KindTraffic, Action: plan.Update, Provider: "nginx", Target: routeTarget(svc),
		Detail: fmt.Sprintf("all traffic back to %s", ps.Version), Traffic: traffic(old, nil, 0, rs), Drain: RetireDrain}
}

// RetireDrain is how long a release waits, after traffic left the old
// containers, before it stops or removes them.
const RetireDrain = 2 * time.Second

// retire handles the containers of the release before the previous one and
// keeps the previous one as configured. Those of the release before the
// previous one are removed first, unless a route still sends them requests
// (after an interrupted rollback): then after the drain.
func retire(sp *svcPlan, svc *config.Service, ps *state.Service, old []string, next *state.Service, keep string) {
	var gone []string
	var goneRelease int
	if pp := ps.Previous; pp != nil {
		for _, c := range pp.Containers {
			gone = append(gone, c.Name)
		}
		goneRelease = pp.Release
	}
	goneRouted := svc.Route != nil && sp.routedAny(gone)
	removeGone := func() {
		sp.add(&plan.Step{Kind: plan.KindRemove, Action: plan.Delete, Provider: "docker", Target: strings.Join(gone, ", "),
			Detail: fmt.Sprintf("%s of release #%d (no longer kept)", plural(len(gone), "container"), goneRelease), Names: gone})
	}
	if len(gone) > 0 && !goneRouted {
		removeGone()
	}
	prev := &state.Previous{Release: ps.Release, Image: ps.Image, ImageID: ps.ImageID, Version: ps.Version, Color: ps.Color, Containers: ps.Containers, Kept: keep}
	next.Previous = prev
	label := ""
	if ps.Color != "" {
		label = " (" + ps.Color + ")"
	}
	drained := false
	if len(old) > 0 && keep != state.KeptRunning && svc.Route != nil {
		// Traffic has just moved away from them: let nginx finish what it
		// sent them and drop its idle keep-alive connections to them
		// before they stop, or a request reusing one is lost.
		sp.add(drainStep(old, "stop"))
		drained = true
	}
	if goneRouted {
		if !drained {
			sp.add(drainStep(gone, "are removed"))
		}
		removeGone()
	}
	if len(old) == 0 {
		return
	}
	switch keep {
	case state.KeptStopped:
		sp.add(&plan.Step{Kind: plan.KindStop, Action: plan.Update, Provider: "docker", Target: strings.Join(old, ", "),
			Detail: fmt.Sprintf("%s%s, kept stopped for rollback", plural(len(old), "container"), label), Names: old, StopAfter: svc.StopTimeout,
			Compensation: &plan.Step{Kind: plan.KindStart, Action: plan.Update, Provider: "docker", Target: strings.Join(old, ", "),
				Detail: "start the old containers again", Names: old, Health: health(svc)}})
	case state.KeptRemoved:
		sp.add(&plan.Step{Kind: plan.KindRemove, Action: plan.Delete, Provider: "docker", Target: strings.Join(old, ", "),
			Detail: fmt.Sprintf("%s%s removed", plural(len(old), "container"), label), Names: old})
		next.Previous.Containers = nil
	default:
		sp.add(&plan.Step{Kind: plan.KindStop, Action: plan.NoOp, Provider: "docker", Target: strings.Join(old, ", "),
			Detail: fmt.Sprintf("%s%s kept running until the next release, for instant rollback", plural(len(old), "container"), label)})
	}
}

func planBlueGreen(sp *svcPlan, cfg *config.Config, svc *config.Service, ps *state.Service, specs []providers.ContainerSpec, old []string, next *state.Service) {
	start(sp, svc, specs, " ("+next.Color+")")
	preview(sp, cfg, specs)
	if svc.Route != nil {
		rs := routeSpec(cfg, sp.p.Env, svc, next.Release, next.Version, "")
		sp.add(&plan.Step{Kind: plan.KindTraffic, Action: plan.Update, Provider: "nginx", Target: routeTarget(svc),
			Detail:  fmt.Sprintf("switch all requests %s -> %s in one step", labelled(ps.Version, ps.Color), labelled(next.Version, next.Color)),
			Traffic: traffic(names(specs), nil, 0, rs), Compensation: back(cfg, sp.p.Env, svc, ps, old)})
	}
	keep := state.KeptRunning
	if svc.BlueGreen != nil && svc.BlueGreen.KeepPrevious != "" {
		keep = svc.BlueGreen.KeepPrevious
	}
	retire(sp, svc, ps, old, next, keep)
}

func labelled(version, color string) string {
	if color == "" {
		return version
	}
	return version + " (" + color + ")"
}

func planHotfix(sp *svcPlan, cfg *config.Config, svc *config.Service, ps *state.Service, specs []providers.ContainerSpec, old []string, next *state.Service) {
	next.Color = ""
	for i := range specs {
		specs[i].Color = ""
		next.Containers[i].Color = ""
	}
	if len(old) > 0 {
		sp.add(&plan.Step{Kind: plan.KindStop, Action: plan.Update, Provider: "docker", Target: strings.Join(old, ", "),
			Detail: fmt.Sprintf("stop %s of %s (downtime starts)", plural(len(old), "container"), ps.Version), Names: old, StopAfter: svc.StopTimeout,
			Compensation: &plan.Step{Kind: plan.KindStart, Action: plan.Update, Provider: "docker", Target: strings.Join(old, ", "),
				Detail: "start the old containers again", Names: old, Health: health(svc)}})
	}
	start(sp, svc, specs, "")
	preview(sp, cfg, specs)
	if svc.Route != nil {
		rs := routeSpec(cfg, sp.p.Env, svc, next.Release, next.Version, "")
		sp.add(&plan.Step{Kind: plan.KindTraffic, Action: plan.Update, Provider: "nginx", Target: routeTarget(svc),
			Detail: fmt.Sprintf("route all requests to %s", next.Version), Traffic: traffic(names(specs), nil, 0, rs),
			Compensation: back(cfg, sp.p.Env, svc, ps, old)})
	}
	// The old containers stay stopped, not removed: a failing post check
	// can still start them again, and rollback can use them. The next
	// release removes them.
	retire(sp, svc, ps, nil, next, state.KeptStopped)
}

func planCanary(sp *svcPlan, cfg *config.Config, svc *config.Service, ps *state.Service, specs []providers.ContainerSpec, old []string, next *state.Service) {
	start(sp, svc, specs, " (candidate)")
	preview(sp, cfg, specs)
	c := svc.Canary
	if svc.Route != nil {
		for i, st := range c.Steps {
			rs := routeSpec(cfg, sp.p.Env, svc, next.Release, ps.Version, next.Version)
			t := traffic(old, names(specs), st.Percent, rs)
			detail := fmt.Sprintf("%d%% of requests to %s", st.Percent, next.Version)
			if st.Percent == 100 {
				t = traffic(names(specs), nil, 0, routeSpec(cfg, sp.p.Env, svc, next.Release, next.Version, ""))
				detail = fmt.Sprintf("all requests to %s", next.Version)
			}
			step := sp.add(&plan.Step{Kind: plan.KindTraffic, Action: plan.Update, Provider: "nginx", Target: routeTarget(svc),
				Detail: detail, Traffic: t})
			if i == 0 || st.Percent == 100 {
				step.Compensation = back(cfg, sp.p.Env, svc, ps, old)
			}
			if st.Percent == 100 {
				break
			}
			pause := st.Pause
			if pause == 0 {
				pause = c.Pause
			}
			if c.Analysis != "" {
				sp.add(&plan.Step{Kind: plan.KindAnalyse, Provider: "slipway", Target: c.Analysis, Analysis: c.Analysis, Pause: pause,
					AnalysisSpec: AnalysisSpec(cfg, sp.dir, sp.p.Env, svc, cfg.Analysis(c.Analysis), ps.Release, next.Release),
					Detail:       fmt.Sprintf("analysis %q over %s: %s against %s", c.Analysis, pause, next.Version, ps.Version)})
			} else if pause > 0 {
				sp.add(&plan.Step{Kind: plan.KindPause, Provider: "slipway", Target: fmt.Sprintf("%d%%", st.Percent), Pause: pause,
					Detail: fmt.Sprintf("wait %s at %d%%", pause, st.Percent)})
			}
			if st.Approve {
				sp.add(&plan.Step{Kind: plan.KindPause, Provider: "slipway", Target: fmt.Sprintf("%d%%", st.Percent), Approve: true,
					Detail: fmt.Sprintf("approval gate at %d%%: continue with 'slipway promote'", st.Percent)})
			}
		}
	}
	next.Color = ""
	retire(sp, svc, ps, old, next, state.KeptStopped)
}

func planRolling(sp *svcPlan, cfg *config.Config, svc *config.Service, ps *state.Service, specs []providers.ContainerSpec, old []string, next *state.Service) {
	r := svc.Rolling
	batch := max(r.BatchSize, 1)
	next.Color = ""
	serving := append([]string(nil), old...)
	for b := 0; b < len(specs); b += batch {
		end := min(b+batch, len(specs))
		group := specs[b:end]
		start(sp, svc, group, fmt.Sprintf(" (batch %d)", b/batch+1))
		if b == 0 {
			preview(sp, cfg, group)
		}
		var retiring []string
		for i := b; i < end && i < len(old); i++ {
			retiring = append(retiring, old[i])
		}
		if end == len(specs) && len(old) > end {
			retiring = append(retiring, old[end:]...)
		}
		before := append([]string(nil), serving...)
		serving = append(without(serving, retiring), names(group)...)
		if svc.Route != nil {
			rs := routeSpec(cfg, sp.p.Env, svc, next.Release, next.Version, "")
			var comp *plan.Step
			if len(before) > 0 {
				comp = &plan.Step{Kind: plan.KindTraffic, Action: plan.Update, Provider: "nginx", Target: routeTarget(svc),
					Detail: "restore the replicas serving before this batch", Traffic: traffic(before, nil, 0, rs), Drain: RetireDrain}
			}
			sp.add(&plan.Step{Kind: plan.KindTraffic, Action: plan.Update, Provider: "nginx", Target: routeTarget(svc),
				Detail:  fmt.Sprintf("add %s, drain %s", strings.Join(names(group), ", "), orNone(retiring)),
				Traffic: traffic(serving, nil, 0, rs), Compensation: comp})
		}
		if len(retiring) > 0 {
			drain := r.Drain
			if drain <= 0 && svc.Route != nil {
				// A replica that served is never stopped without a drain.
				drain = RetireDrain
			}
			if drain > 0 {
				sp.add(&plan.Step{Kind: plan.KindPause, Provider: "slipway", Target: plan.DrainTarget, Pause: drain,
					Detail: fmt.Sprintf("drain %s for %s", strings.Join(retiring, ", "), drain)})
			}
			sp.add(&plan.Step{Kind: plan.KindStop, Action: plan.Update, Provider: "docker", Target: strings.Join(retiring, ", "),
				Detail: "stop the drained replicas", Names: retiring, StopAfter: svc.StopTimeout,
				Compensation: &plan.Step{Kind: plan.KindStart, Action: plan.Update, Provider: "docker", Target: strings.Join(retiring, ", "),
					Detail: "start the drained replicas again", Names: retiring, Health: health(svc)}})
		}
		if end < len(specs) && r.Pause > 0 {
			sp.add(&plan.Step{Kind: plan.KindPause, Provider: "slipway", Target: "batch", Pause: r.Pause,
				Detail: fmt.Sprintf("wait %s before the next batch", r.Pause)})
		}
	}
	retire(sp, svc, ps, nil, next, state.KeptStopped)
	next.Previous.Containers = ps.Containers
}

func without(list, drop []string) []string {
	var out []string
	for _, s := range list {
		keep := true
		for _, d := range drop {
			if s == d {
				keep = false
			}
		}
		if keep {
			out = append(out, s)
		}
	}
	return out
}

func orNone(s []string) string {
	if len(s) == 0 {
		return "none"
	}
	return strings.Join(s, ", ")
}

// planRemoval removes a service that is no longer configured.
func planRemoval(p *plan.Plan, cfg *config.Config, ps *state.Service) {
	res := &plan.Resource{Address: "service." + ps.Name, From: ps.Image, Strategy: ps.Strategy}
	p.Resources = append(p.Resources, res)
	sp := &svcPlan{p: p, res: res}
	if ps.RouteFile != "" {
		sp.add(&plan.Step{Kind: plan.KindTraffic, Action: plan.Delete, Provider: "nginx", Target: ps.RouteFile,
			Detail: "remove the route", Traffic: &plan.Traffic{Route: providers.RouteSpec{Project: cfg.Project.Name, Env: p.Env, Service: ps.Name}, Remove: true}})
	}
	var n []string
	for _, c := range ps.Containers {
		n = append(n, c.Name)
	}
	if ps.Previous != nil {
		for _, c := range ps.Previous.Containers {
			n = append(n, c.Name)
		}
	}
	if len(n) > 0 {
		if ps.RouteFile != "" {
			sp.add(drainStep(n, "are removed"))
		}
		sp.add(&plan.Step{Kind: plan.KindRemove, Action: plan.Delete, Provider: "docker", Target: strings.Join(n, ", "),
			Detail: "the service is no longer configured", Names: n})
	}
	p.Services[ps.Name] = nil
}
