package planner

import (
	"context"
	"fmt"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/slipwayhq/slipway/config"
	"github.com/slipwayhq/slipway/planner/plan"
	"github.com/slipwayhq/slipway/providers"
	"github.com/slipwayhq/slipway/state"
)

// Rollback plans the return from prior to the services of target, a
// snapshot of an earlier release. The fast path starts the target's kept
// containers and switches traffic to them; otherwise its containers are
// created again from the snapshot's image id (an id, so that a moved tag
// cannot change what comes back). Rollback skips canary steps and analysis.
func Rollback(ctx context.Context, opts Options, cfg *config.Config, prior, target *state.State, obs *providers.Observations) (*plan.Plan, hcl.Diagnostics) {
	p := newPlan(opts, cfg, prior, obs, "rollback")
	p.TargetRelease = target.Release
	if p.Reason == "" {
		p.Reason = fmt.Sprintf("rollback to release #%d", target.Release)
	}
	var diags hcl.Diagnostics
	live := map[string]providers.Container{}
	for _, c := range obs.Containers {
		live[c.Name] = c
	}
	for _, name := range sortedKeys(target.Services) {
		if err := ctx.Err(); err != nil {
			return nil, diags.Append(&hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Planning Interrupted", Detail: err.Error() + "."})
		}
		ts := target.Services[name]
		svc := cfg.Service(name)
		if svc == nil {
			diags = diags.Append(&hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Service No Longer Configured",
				Detail: fmt.Sprintf("Release #%d ran service %q, which the configuration no longer declares; declare it again to roll it back.", target.Release, name)})
			continue
		}
		diags = append(diags, rollbackService(p, cfg, opts, svc, prior.Services[name], ts, live, obs)...)
	}
	for _, name := range sortedKeys(prior.Services) {
		if _, ok := target.Services[name]; !ok {
			planRemoval(p, cfg, prior.Services[name])
		}
	}
	if diags.HasErrors() {
		return nil, diags
	}
	rollbackDatabases(p, cfg, opts, target, obs)
	cleanOrphans(p, cfg, opts, prior, obs)
	imagesFirst(p)
	finish(p, cfg, opts)
	switchModes(p, obs)
	return p, diags
}

func rollbackService(p *plan.Plan, cfg *config.Config, opts Options, svc *config.Service, cs, ts *state.Service, live map[string]providers.Container, obs *providers.Observations) hcl.Diagnostics {
	res := &plan.Resource{Address: "service." + svc.Name, To: ts.Image, Strategy: "rollback"}
	if cs != nil {
		res.From = cs.Image
	}
	p.Resources = append(p.Resources, res)
	sp := &svcPlan{p: p, res: res, dir: opts.ConfigDir, routed: routedNow(obs)[svc.Name]}
	if cs != nil && cs.ImageID == ts.ImageID && cs.ConfigHash == ts.ConfigHash && sameNames(cs.Containers, ts.Containers) {
		// Rolling back to the release that runs (after an interrupted
		// apply) repairs whatever that apply left changed.
		if !repair(sp, cfg, opts, svc, cs, obs) {
			res.Unchanged = true
		}
		return nil
	}
	var pull *plan.Step
	if !obs.ImageIDs[ts.ImageID] {
		var diags hcl.Diagnostics
		if pull, diags = pullBack(svc, ts, obs); diags.HasErrors() {
			return diags
		}
	}
	next := *ts
	next.Containers = append([]state.Container(nil), ts.Containers...)
	next.Weights = nil
	p.Services[svc.Name] = &next

	if pull != nil {
		sp.add(pull)
	}
	tnames := bringBack(sp, cfg, opts, svc, ts, live)
	var cur []string
	if cs != nil {
		for _, c := range cs.Containers {
			cur = append(cur, c.Name)
		}
	}
	if svc.Route != nil {
		rs := routeSpec(cfg, opts.Env, svc, p.Release, ts.Version, "")
		step := &plan.Step{Kind: plan.KindTraffic, Action: plan.Update, Provider: "nginx", Target: routeTarget(svc),
			Detail:  fmt.Sprintf("switch all requests back to %s of release #%d in one step", labelled(ts.Version, ts.Color), ts.Release),
			Traffic: traffic(tnames, nil, 0, rs)}
		if cs != nil && len(cur) > 0 {
			step.Compensation = &plan.Step{Kind: plan.KindTraffic, Action: plan.Update, Provider: "nginx", Target: routeTarget(svc),
				Detail: fmt.Sprintf("all traffic back to %s", cs.Version), Traffic: traffic(cur, nil, 0, routeSpec(cfg, opts.Env, svc, cs.Release, cs.Version, "")), Drain: RetireDrain}
		}
		sp.add(step)
	}
	next.Previous = nil
	if cs != nil && len(cur) > 0 && !sameNames(cs.Containers, ts.Containers) {
		keepCurrent(sp, svc, cs, ts, cur, &next)
	}
	return nil
}

// bringBack adds the steps that get the target's containers running and
// healthy, and returns their names: kept containers started again,
// missing ones created again from the target's image id, each gated on
// its health.
func bringBack(sp *svcPlan, cfg *config.Config, opts Options, svc *config.Service, ts *state.Service, live map[string]providers.Container) []string {
	var tnames []string
	var missing []providers.ContainerSpec
	var stopped []string
	specs := containerSpecs(cfg, opts.Env, svc, ts.Release, ts.Color, ts.ImageID, ts.ConfigHash)
	for i, c := range ts.Containers {
		tnames = append(tnames, c.Name)
		lc, ok := live[c.Name]
		switch {
		case !ok || lc.ImageID != ts.ImageID:
			s := specs[min(i, len(specs)-1)]
			s.Name, s.Index, s.Color, s.Release = c.Name, c.Index, c.Color, c.Release
			missing = append(missing, s)
		case !lc.Running():
			stopped = append(stopped, c.Name)
		}
	}
	if len(stopped) > 0 {
		sp.add(&plan.Step{Kind: plan.KindStart, Action: plan.Update, Provider: "docker", Target: strings.Join(stopped, ", "),
			Detail: fmt.Sprintf("start the kept %s of release #%d", plural(len(stopped), "container"), ts.Release), Names: stopped,
			Compensation: &plan.Step{Kind: plan.KindStop, Action: plan.Update, Provider: "docker", Target: strings.Join(stopped, ", "),
				Detail: "stop them again", Names: stopped, StopAfter: svc.StopTimeout}})
	}
	if len(missing) > 0 {
		start(sp, svc, missing, fmt.Sprintf(" of release #%d (recreated from %s)", ts.Release, short(ts.ImageID)))
		if len(stopped) > 0 {
			sp.add(&plan.Step{Kind: plan.KindHealth, Provider: "docker", Target: strings.Join(stopped, ", "), Detail: healthDetail(svc), Names: stopped, Health: health(svc)})
		}
		return tnames
	}
	// Containers that kept running since the release that left them
	// served until then: one answer shows they answer now, and the switch
	// is not held up by the probe interval. Containers started again keep
	// the configured gate, and so does an image HEALTHCHECK.
	h, detail := health(svc), healthDetail(svc)
	if len(stopped) == 0 && h.Path != "" && h.HealthyThreshold > 1 {
		h.HealthyThreshold = 1
		detail = fmt.Sprintf("GET %s once (already running), deadline %s", h.Path, h.Deadline)
	}
	sp.add(&plan.Step{Kind: plan.KindHealth, Provider: "docker", Target: strings.Join(tnames, ", "), Detail: detail, Names: tnames, Health: h})
	return tnames
}

// keepCurrent adds the steps that retire the release rolled back from,
// cur its containers: drained and kept stopped for a rollback the other
// way, and the containers the release before it kept removed, unless the
// target is that release.
func keepCurrent(sp *svcPlan, svc *config.Service, cs, ts *state.Service, cur []string, next *state.Service) {
	if svc.Route != nil {
		sp.add(drainStep(cur, "stop"))
	}
	sp.add(&plan.Step{Kind: plan.KindStop, Action: plan.Update, Provider: "docker", Target: strings.Join(cur, ", "),
		Detail: fmt.Sprintf("%s of release #%d (%s) kept stopped", plural(len(cur), "container"), cs.Release, cs.Version), Names: cur, StopAfter: svc.StopTimeout,
		Compensation: &plan.Step{Kind: plan.KindStart, Action: plan.Update, Provider: "docker", Target: strings.Join(cur, ", "),
			Detail: "start them again", Names: cur, Health: health(svc)}})
	next.Previous = &state.Previous{Release: cs.Release, Image: cs.Image, ImageID: cs.ImageID, Version: cs.Version, Color: cs.Color, Containers: cs.Containers, Kept: state.KeptStopped}
	if pp := cs.Previous; pp != nil && !sameNames(pp.Containers, ts.Containers) && len(pp.Containers) > 0 {
		var n []string
		for _, c := range pp.Containers {
			n = append(n, c.Name)
		}
		sp.add(&plan.Step{Kind: plan.KindRemove, Action: plan.Delete, Provider: "docker", Target: strings.Join(n, ", "),
			Detail: fmt.Sprintf("%s of release #%d (no longer kept)", plural(len(n), "container"), pp.Release), Names: n})
	}
}

func sameNames(a, b []state.Container) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i].Name != b[i].Name {
			return false
		}
	}
	return true
}

// rollbackDatabases warns when code goes back across migrations still
// applied, and restores the databases -restore-db names: after the
// services moved (their containers stopped), a fresh backup first, then
// the backup taken before the migrations.
func rollbackDatabases(p *plan.Plan, cfg *config.Config, opts Options, target *state.State, obs *providers.Observations) {
	for _, db := range cfg.Postgres {
		had := map[string]bool{}
		if d := target.Databases[db.Name]; d != nil {
			for _, m := range d.Migrations {
				had[m.Version] = true
			}
		}
		var newer []string
		if o := obs.Databases[db.Name]; o != nil {
			for _, m := range o.Applied {
				if !had[m.Version] {
					newer = append(newer, m.Name)
				}
			}
		}
		b := opts.RestoreDB[db.Name]
		if b == nil {
			if len(newer) > 0 {
				p.Warnings = append(p.Warnings, fmt.Sprintf("postgres.%s: release #%d predates migrations still applied (%s). Its code runs against the newer schema: safe only for additive (expand/contract) migrations. To restore the database too: slipway rollback -restore-db %d", db.Name, target.Release, strings.Join(newer, ", "), target.Release))
			}
			continue
		}
		res := &plan.Resource{Address: "postgres." + db.Name, Strategy: "restore"}
		p.Resources = append(p.Resources, res)
		sp := &svcPlan{p: p, res: res}
		dir := ""
		if db.Backup != nil {
			dir = db.Backup.Dir
		} else {
			dir = filepathDir(b.Path)
		}
		sp.add(&plan.Step{Kind: plan.KindMigrate, Action: plan.Delete, Provider: "postgres", Target: db.Name, Database: db.Name,
			RestoreFrom: b.Path, BackupDir: dir,
			Detail: fmt.Sprintf("fresh backup of the live database into %s, then restore %s (taken %s, before release #%d) in one transaction; other sessions on the database are terminated", dir, b.Path, b.CreatedAt.UTC().Format("2006-01-02 15:04:05Z"), b.Release)})
		p.Warnings = append(p.Warnings, fmt.Sprintf("postgres.%s: writes made since %s leave the live database; the fresh backup taken first keeps them.", db.Name, b.CreatedAt.UTC().Format("2006-01-02 15:04:05Z")))
	}
}

func filepathDir(p string) string {
	if i := strings.LastIndex(p, "/"); i > 0 {
		return p[:i]
	}
	return "."
}
