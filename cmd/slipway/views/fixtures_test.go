package views

import (
	"fmt"
	"strings"
	"time"

	"github.com/slipwayhq/slipway/planner/plan"
	"github.com/slipwayhq/slipway/providers"
)

// The plans below are built by hand in the shapes the planner makes, one
// per strategy, so the renderings can be read and reviewed as goldens.

const secretValue = "s3cr3t-value"

var created = time.Date(2025, 3, 14, 9, 26, 53, 0, time.UTC)

// builder appends steps to a plan and its resources.
type builder struct{ p *plan.Plan }

func newBuilder(prior, release int) *builder {
	p := &plan.Plan{Operation: "apply", Project: "thebot", PriorRelease: prior, Release: release,
		ConfigHash: "c0ffee", Created: created, Images: map[string]string{}}
	if prior > 0 {
		p.Lineage, p.Serial = "5f1c2a3b-8d4e-4f60-9a7b-0c1d2e3f4a5b", 317
	}
	return &builder{p: p}
}

func (b *builder) res(r *plan.Resource) *plan.Resource {
	b.p.Resources = append(b.p.Resources, r)
	return r
}

func (b *builder) add(r *plan.Resource, s *plan.Step) *plan.Step {
	s.Resource = r.Address
	s.ID = fmt.Sprintf("%s.%s.%d", r.Address, s.Kind, len(r.Steps)+1)
	r.Steps = append(r.Steps, len(b.p.Steps))
	b.p.Steps = append(b.p.Steps, s)
	return s
}

// done wraps the steps in the checks and numbers them, as the planner's
// finish does.
func (b *builder) done(pre, post []string) *plan.Plan {
	p := b.p
	p.PreChecks, p.PostChecks = pre, post
	if !p.Changed() {
		return p
	}
	if len(pre) > 0 {
		p.Steps = append([]*plan.Step{{ID: "checks.pre", Resource: "checks", Kind: plan.KindCheck, Provider: "slipway",
			Target: "pre", Phase: "pre", Checks: pre, Detail: fmt.Sprintf("%d pre-deploy checks", len(pre))}}, p.Steps...)
		for _, r := range p.Resources {
			for i := range r.Steps {
				r.Steps[i]++
			}
		}
	}
	if len(post) > 0 {
		p.Steps = append(p.Steps, &plan.Step{ID: "checks.post", Resource: "checks", Kind: plan.KindCheck, Provider: "slipway",
			Target: "post", Phase: "post", Checks: post, Detail: fmt.Sprintf("%d post-deploy checks", len(post))})
	}
	for i, s := range p.Steps {
		s.Index = i
	}
	return p
}

func specs(service string, release, n int, color, image string) []providers.ContainerSpec {
	out := make([]providers.ContainerSpec, n)
	for i := range out {
		out[i] = providers.ContainerSpec{
			Name: fmt.Sprintf("thebot-%s-r%d-%d", service, release, i+1), Project: "thebot", Service: service,
			Release: release, Color: color, Index: i + 1, ConfigHash: "c0ffee", Image: image, ImageID: "sha256:" + strings.Repeat("ab", 32),
			Vars: []providers.EnvVar{
				{Name: "SECRET_KEY", Value: secretValue, Sensitive: true},
				{Name: "DJANGO_SETTINGS_MODULE", Value: "thebot.settings"},
			},
			Port: 8000, HostIP: "127.0.0.1", StopTimeout: 10 * time.Second,
		}
	}
	return out
}

func names(ss []providers.ContainerSpec) []string {
	var out []string
	for _, s := range ss {
		out = append(out, s.Name)
	}
	return out
}

func route(release int) providers.RouteSpec {
	return providers.RouteSpec{Project: "thebot", Service: "backend", Release: release, Listen: 80, ServerName: "thebot.example.com", Location: "/"}
}

const routeTarget = "thebot.example.com:80/"

func (b *builder) start(r *plan.Resource, ss []providers.ContainerSpec, label string) {
	n := names(ss)
	b.add(r, &plan.Step{Kind: plan.KindStart, Action: plan.Create, Provider: "docker", Target: strings.Join(n, ", "),
		Detail: fmt.Sprintf("%d containers%s from %s", len(ss), label, ss[0].Image), Containers: ss,
		Compensation: &plan.Step{Kind: plan.KindRemove, Action: plan.Delete, Provider: "docker", Target: strings.Join(n, ", "),
			Detail: "remove the new containers", Names: n}})
	b.add(r, &plan.Step{Kind: plan.KindHealth, Provider: "docker", Target: strings.Join(n, ", "),
		Detail: "GET /api/health, 2 in a row, deadline 1m0s", Names: n,
		Health: &providers.HealthSpec{Path: "/api/health", Interval: 2 * time.Second, Timeout: time.Second, HealthyThreshold: 2, Deadline: time.Minute}})
}

// firstRelease is the first apply of a project: nothing in state.
func firstRelease() *plan.Plan {
	b := newBuilder(0, 1)
	r := b.res(&plan.Resource{Address: "service.backend", To: "thebot/backend:1.3.0", Strategy: "blue_green"})
	ss := specs("backend", 1, 2, "blue", "thebot/backend:1.3.0")
	b.start(r, ss, " (blue)")
	b.add(r, &plan.Step{Kind: plan.KindTraffic, Action: plan.Create, Provider: "nginx", Target: routeTarget,
		Detail: "route all requests to 1.3.0", Traffic: &plan.Traffic{Stable: names(ss), Route: route(1)},
		Compensation: &plan.Step{Kind: plan.KindTraffic, Action: plan.Delete, Provider: "nginx", Target: routeTarget,
			Detail: "remove the route", Traffic: &plan.Traffic{Route: route(1), Remove: true}}})
	b.p.Images["thebot/backend:1.3.0"] = "sha256:" + strings.Repeat("ab", 32)
	b.p.OnFailure = []string{"service.backend: the steps done so far are undone, newest first."}
	return b.done([]string{"secret_key_set"}, []string{"api"})
}

// blueGreen switches colors, with drift, keeping the old color running,
// and a database backed up and migrated first.
func blueGreen() *plan.Plan {
	b := newBuilder(42, 43)
	b.p.Drift = []plan.Drift{
		{Address: "service.backend", Detail: "container thebot-backend-r42-2 was removed outside slipway"},
		{Address: "postgres.main", Detail: "migration 0041_hotfix.sql was applied outside slipway"},
	}
	db := b.res(&plan.Resource{Address: "postgres.main"})
	b.add(db, &plan.Step{Kind: plan.KindBackup, Action: plan.Create, Provider: "postgres", Target: "main",
		Detail: "pg_dump -Fc -> backups/thebot-main-r43.dump"})
	b.add(db, &plan.Step{Kind: plan.KindMigrate, Action: plan.Update, Provider: "postgres", Target: "main",
		Detail: "2 pending: 0042_add_orders_index.sql, 0043_add_status.sql"})
	r := b.res(&plan.Resource{Address: "service.backend", From: "thebot/backend:1.2.3", To: "thebot/backend:1.3.0", Strategy: "blue_green"})
	ss := specs("backend", 43, 2, "green", "thebot/backend:1.3.0")
	b.start(r, ss, " (green)")
	b.add(r, &plan.Step{Kind: plan.KindTraffic, Action: plan.Update, Provider: "nginx", Target: routeTarget,
		Detail: "switch all requests 1.2.3 (blue) -> 1.3.0 (green) in one step", Traffic: &plan.Traffic{Stable: names(ss), Route: route(43)},
		Compensation: &plan.Step{Kind: plan.KindTraffic, Action: plan.Update, Provider: "nginx", Target: routeTarget,
			Detail: "all traffic back to 1.2.3", Traffic: &plan.Traffic{Stable: []string{"thebot-backend-r42-1", "thebot-backend-r42-2"}, Route: route(42)}}})
	b.add(r, &plan.Step{Kind: plan.KindRemove, Action: plan.Delete, Provider: "docker", Target: "thebot-backend-r41-1, thebot-backend-r41-2",
		Detail: "2 containers of release #41 (no longer kept)", Names: []string{"thebot-backend-r41-1", "thebot-backend-r41-2"}})
	b.res(&plan.Resource{Address: "service.frontend", From: "thebot/frontend:2.0.1", To: "thebot/frontend:2.0.1", Strategy: "blue_green", Unchanged: true})
	b.p.OnFailure = []string{
		"service.backend: traffic back to the previous containers (one switch), the new containers removed.",
		"postgres.main: the database keeps migrations 0042-0043 (restore with: slipway rollback -restore-db).",
	}
	b.p.Warnings = []string{"Migration 0043_add_status.sql drops a column; rolling the code back to release #42 after it is not safe."}
	return b.done([]string{"git_clean", "secret_key_set", "db_reachable", "tls_thebot_com"}, []string{"api", "frontend_loads", "websocket"})
}

// canary moves requests in steps with analysis and an approval gate.
func canary() *plan.Plan {
	b := newBuilder(42, 43)
	b.p.Env = "staging"
	r := b.res(&plan.Resource{Address: "service.backend", From: "thebot/backend:1.2.3", To: "thebot/backend:1.3.0", Strategy: "canary"})
	ss := specs("backend", 43, 2, "", "thebot/backend:1.3.0")
	old := []string{"thebot-backend-r42-1", "thebot-backend-r42-2"}
	b.start(r, ss, " (candidate)")
	for i, pct := range []int{5, 25, 50, 100} {
		t := &plan.Traffic{Stable: old, Candidate: names(ss), CandidateWeight: pct, Route: route(43)}
		detail := fmt.Sprintf("%d%% of requests to 1.3.0", pct)
		if pct == 100 {
			t = &plan.Traffic{Stable: names(ss), Route: route(43)}
			detail = "all requests to 1.3.0"
		}
		s := b.add(r, &plan.Step{Kind: plan.KindTraffic, Action: plan.Update, Provider: "nginx", Target: routeTarget, Detail: detail, Traffic: t})
		if i == 0 || pct == 100 {
			s.Compensation = &plan.Step{Kind: plan.KindTraffic, Action: plan.Update, Provider: "nginx", Target: routeTarget,
				Detail: "all traffic back to 1.2.3", Traffic: &plan.Traffic{Stable: old, Route: route(42)}}
		}
		if pct == 100 {
			break
		}
		b.add(r, &plan.Step{Kind: plan.KindAnalyse, Provider: "slipway", Target: "standard", Analysis: "standard", Pause: 5 * time.Minute,
			Detail: `analysis "standard" over 5m0s: 1.3.0 against 1.2.3; rolls back if error rate > 5%, or > 1% for 2m; p95 > 5s, or > 2s for 5m`})
		if pct == 50 {
			b.add(r, &plan.Step{Kind: plan.KindPause, Provider: "slipway", Target: "50%", Approve: true,
				Detail: "approval gate at 50%: continue with 'slipway promote'"})
		}
	}
	b.add(r, &plan.Step{Kind: plan.KindStop, Action: plan.Update, Provider: "docker", Target: strings.Join(old, ", "),
		Detail: "2 containers, kept stopped for rollback", Names: old, StopAfter: 10 * time.Second})
	b.p.OnFailure = []string{"service.backend: all traffic back to stable in one switch, the candidate removed."}
	return b.done([]string{"secret_key_set"}, []string{"api"})
}

// rolling replaces replicas in batches, draining each.
func rolling() *plan.Plan {
	b := newBuilder(7, 8)
	r := b.res(&plan.Resource{Address: "service.worker", From: "thebot/worker:3.1", To: "thebot/worker:3.2", Strategy: "rolling"})
	ss := specs("worker", 8, 4, "", "thebot/worker:3.2")
	for batch := 0; batch < 2; batch++ {
		group := ss[batch*2 : batch*2+2]
		b.start(r, group, fmt.Sprintf(" (batch %d)", batch+1))
		retiring := []string{fmt.Sprintf("thebot-worker-r7-%d", batch*2+1), fmt.Sprintf("thebot-worker-r7-%d", batch*2+2)}
		b.add(r, &plan.Step{Kind: plan.KindTraffic, Action: plan.Update, Provider: "nginx", Target: routeTarget,
			Detail:  fmt.Sprintf("add %s, drain %s", strings.Join(names(group), ", "), strings.Join(retiring, ", ")),
			Traffic: &plan.Traffic{Stable: names(group), Route: route(8)}})
		b.add(r, &plan.Step{Kind: plan.KindPause, Provider: "slipway", Target: "drain", Pause: 30 * time.Second,
			Detail: fmt.Sprintf("drain %s for 30s", strings.Join(retiring, ", "))})
		b.add(r, &plan.Step{Kind: plan.KindStop, Action: plan.Update, Provider: "docker", Target: strings.Join(retiring, ", "),
			Detail: "stop the drained replicas", Names: retiring,
			Compensation: &plan.Step{Kind: plan.KindStart, Action: plan.Update, Provider: "docker", Target: strings.Join(retiring, ", "),
				Detail: "start the drained replicas again", Names: retiring}})
		if batch == 0 {
			b.add(r, &plan.Step{Kind: plan.KindPause, Provider: "slipway", Target: "batch", Pause: time.Minute,
				Detail: "wait 1m0s before the next batch"})
		}
	}
	b.p.OnFailure = []string{"service.worker: replaced replicas restored batch by batch, the new ones removed."}
	return b.done(nil, []string{"api"})
}

// hotfix recreates in place, with a reason, and removes a service that
// is no longer configured.
func hotfix() *plan.Plan {
	b := newBuilder(43, 44)
	b.p.Reason = "CVE-2025-1234 in the session middleware"
	r := b.res(&plan.Resource{Address: "service.backend", From: "thebot/backend:1.3.0", To: "thebot/backend:1.3.1", Strategy: "hotfix"})
	old := []string{"thebot-backend-r43-1", "thebot-backend-r43-2"}
	b.add(r, &plan.Step{Kind: plan.KindStop, Action: plan.Update, Provider: "docker", Target: strings.Join(old, ", "),
		Detail: "stop 2 containers of 1.3.0 (downtime starts)", Names: old,
		Compensation: &plan.Step{Kind: plan.KindStart, Action: plan.Update, Provider: "docker", Target: strings.Join(old, ", "),
			Detail: "start the old containers again", Names: old}})
	ss := specs("backend", 44, 2, "", "thebot/backend:1.3.1")
	b.start(r, ss, "")
	b.add(r, &plan.Step{Kind: plan.KindTraffic, Action: plan.Update, Provider: "nginx", Target: routeTarget,
		Detail: "route all requests to 1.3.1", Traffic: &plan.Traffic{Stable: names(ss), Route: route(44)}})
	b.add(r, &plan.Step{Kind: plan.KindRemove, Action: plan.Delete, Provider: "docker", Target: strings.Join(old, ", "),
		Detail: "2 containers removed", Names: old})
	gone := b.res(&plan.Resource{Address: "service.legacy", From: "thebot/legacy:0.9", Strategy: "blue_green"})
	b.add(gone, &plan.Step{Kind: plan.KindRemove, Action: plan.Delete, Provider: "docker", Target: "thebot-legacy-r12-1",
		Detail: "the service is no longer configured", Names: []string{"thebot-legacy-r12-1"}})
	b.p.OnFailure = []string{"service.backend: the old containers started again and routed, the new ones removed (brief downtime)."}
	return b.done(nil, nil)
}

// interrupted is a plan made while an earlier apply had not finished.
func interrupted() *plan.Plan {
	p := blueGreen()
	p.Drift = []plan.Drift{{Address: "service.backend", Detail: "container thebot-backend-r43-1 is not in the state (left by an interrupted apply, or made by hand)"}}
	p.Interrupted = &plan.Interrupted{OperationID: "8f2c1d9e", Operation: "apply", Release: 43, Started: created.Add(-time.Hour),
		Finished: []string{"checks.pre (4 pre-deploy checks)", "postgres.main.backup.1 (pg_dump -Fc -> backups/thebot-main-r43.dump)"},
		Pending:  []string{"postgres.main.migrate.2 (2 pending: 0042_add_orders_index.sql, 0043_add_status.sql)"}}
	return p
}

// noChanges is a plan with nothing to do.
func noChanges() *plan.Plan {
	b := newBuilder(43, 44)
	b.res(&plan.Resource{Address: "service.backend", From: "thebot/backend:1.3.0", To: "thebot/backend:1.3.0", Strategy: "blue_green", Unchanged: true})
	b.res(&plan.Resource{Address: "service.frontend", From: "thebot/frontend:2.0.1", To: "thebot/frontend:2.0.1", Strategy: "blue_green", Unchanged: true})
	return b.done([]string{"secret_key_set"}, []string{"api"})
}

// rollback returns to a kept release.
func rollback() *plan.Plan {
	b := newBuilder(44, 45)
	b.p.Operation = "rollback"
	b.p.Reason = "rollback to release #43"
	r := b.res(&plan.Resource{Address: "service.backend", From: "thebot/backend:1.3.1", To: "thebot/backend:1.3.0", Strategy: "rollback"})
	kept := []string{"thebot-backend-r43-1", "thebot-backend-r43-2"}
	b.add(r, &plan.Step{Kind: plan.KindStart, Action: plan.Update, Provider: "docker", Target: strings.Join(kept, ", "),
		Detail: "start 2 kept containers of release #43", Names: kept})
	b.add(r, &plan.Step{Kind: plan.KindTraffic, Action: plan.Update, Provider: "nginx", Target: routeTarget,
		Detail: "all requests to 1.3.0", Traffic: &plan.Traffic{Stable: kept, Route: route(45)}})
	b.res(&plan.Resource{Address: "service.frontend", From: "thebot/frontend:2.0.1", To: "thebot/frontend:2.0.1", Strategy: "rollback", Unchanged: true})
	b.p.OnFailure = []string{"service.backend: the steps done so far are undone, newest first."}
	return b.done(nil, []string{"api"})
}

var fixtures = []struct {
	name string
	plan func() *plan.Plan
}{
	{"first_release", firstRelease},
	{"blue_green", blueGreen},
	{"canary", canary},
	{"rolling", rolling},
	{"hotfix", hotfix},
	{"interrupted", interrupted},
	{"no_changes", noChanges},
	{"rollback", rollback},
}
