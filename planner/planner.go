package planner

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/hashicorp/hcl/v2"
	"github.com/slipwayhq/slipway/config"
	"github.com/slipwayhq/slipway/planner/plan"
	"github.com/slipwayhq/slipway/providers"
	"github.com/slipwayhq/slipway/state"
	"github.com/zclconf/go-cty/cty"
	ctyjson "github.com/zclconf/go-cty/cty/json"
)

// Options are the inputs of a plan beyond configuration, state and
// observations.
type Options struct {
	Env       string
	Now       time.Time
	Reason    string         // -reason: required by hotfix, recorded
	SecretKey []byte         // keys the HMACs of sensitive values
	Journal   *state.Journal // an unfinished operation, if any
	// RestoreDB names, for a rollback with -restore-db, the backup each
	// database is restored from.
	RestoreDB map[string]*state.Backup
	// NoVerify leaves out the post-deploy checks (rollback -no-verify);
	// the plan's warnings say so.
	NoVerify bool
	// ForceBuild builds the image of every service with a build block,
	// even when an image built from the same context is in the engine
	// (apply -build).
	ForceBuild bool
	// ConfigDir is the configuration's absolute directory: relative paths
	// the plan keeps (an analysis' access log) resolve against it.
	ConfigDir string
}

// Plan returns the steps that bring the live world from prior and obs to
// cfg. Diagnostics with errors mean no plan.
func Plan(ctx context.Context, opts Options, cfg *config.Config, prior *state.State, obs *providers.Observations) (*plan.Plan, hcl.Diagnostics) {
	p := newPlan(opts, cfg, prior, obs, "apply")
	var diags hcl.Diagnostics
	for _, svc := range cfg.Services {
		if err := ctx.Err(); err != nil {
			return nil, diags.Append(&hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Planning Interrupted", Detail: err.Error() + "."})
		}
		diags = append(diags, planService(p, opts, cfg, prior, obs, svc)...)
	}
	for _, name := range sortedKeys(prior.Services) {
		if cfg.Service(name) == nil {
			planRemoval(p, cfg, prior.Services[name])
		}
	}
	// Backups and migrations run before the service changes (their
	// app-command tasks need the new images the services pinned), except
	// those configured to run after.
	n := len(p.Steps)
	diags = append(diags, planDatabases(p, cfg, opts, prior, obs, false)...)
	moveToFront(p, n)
	sort.SliceStable(p.Resources, func(i, j int) bool {
		return strings.HasPrefix(p.Resources[i].Address, "postgres.") && !strings.HasPrefix(p.Resources[j].Address, "postgres.")
	})
	diags = append(diags, planDatabases(p, cfg, opts, prior, obs, true)...)
	diags = append(diags, checkListen(cfg, obs)...)
	if diags.HasErrors() {
		return nil, diags
	}
	cleanOrphans(p, cfg, opts, prior, obs)
	exposedWarnings(p, cfg, obs)
	imagesFirst(p)
	finish(p, cfg, opts)
	switchModes(p, obs)
	return p, diags
}

func newPlan(opts Options, cfg *config.Config, prior *state.State, obs *providers.Observations, op string) *plan.Plan {
	p := &plan.Plan{
		Operation:    op,
		Project:      cfg.Project.Name,
		Env:          opts.Env,
		Lineage:      prior.Lineage,
		Serial:       prior.Serial,
		PriorRelease: prior.Release,
		Release:      prior.Release + 1,
		ConfigHash:   cfg.Hash(),
		Created:      opts.Now.UTC(),
		Reason:       opts.Reason,
		Images:       map[string]string{},
		Secrets:      secretHMACs(opts.SecretKey, cfg),
		Variables:    VariableHMACs(opts.SecretKey, cfg),
		Services:     map[string]*state.Service{},
		Observed:     Fingerprint(obs),
	}
	if j := opts.Journal; j != nil {
		p.Interrupted = interrupted(j)
	}
	p.Drift = drift(cfg, prior, obs)
	if obs != nil {
		p.Drift = append(p.Drift, databaseDrift(prior, obs)...)
	}
	return p
}

// finish adds the checks around the service steps and the summary lines.
// With opts.NoVerify the post-deploy checks are left out, and a warning
// says which.
func finish(p *plan.Plan, cfg *config.Config, opts Options) {
	for _, c := range cfg.Checks {
		switch c.Phase {
		case "pre":
			p.PreChecks = append(p.PreChecks, c.Name)
		case "post":
			p.PostChecks = append(p.PostChecks, c.Name)
		}
	}
	if opts.NoVerify && len(p.PostChecks) > 0 {
		p.Warnings = append(p.Warnings, fmt.Sprintf("post-deploy checks skipped (-no-verify): %s", strings.Join(p.PostChecks, ", ")))
		p.PostChecks = nil
	}
	if !p.Changed() {
		return
	}
	if len(p.PreChecks) > 0 {
		pre := &plan.Step{ID: "checks.pre", Resource: "checks", Kind: plan.KindCheck, Provider: "slipway",
			Target: "pre", Phase: "pre", Checks: p.PreChecks, CheckSpecs: checkSpecs(cfg, p.PreChecks), Detail: fmt.Sprintf("%d pre-deploy checks", len(p.PreChecks))}
		p.Steps = append([]*plan.Step{pre}, p.Steps...)
		for _, r := range p.Resources {
			for i := range r.Steps {
				r.Steps[i]++
			}
		}
	}
	if len(p.PostChecks) > 0 {
		p.Steps = append(p.Steps, &plan.Step{ID: "checks.post", Resource: "checks", Kind: plan.KindCheck, Provider: "slipway",
			Target: "post", Phase: "post", Checks: p.PostChecks, CheckSpecs: checkSpecs(cfg, p.PostChecks), Detail: fmt.Sprintf("%d post-deploy checks", len(p.PostChecks))})
	}
	for i, s := range p.Steps {
		s.Index = i
	}
	p.OnFailure = onFailure(p)
}

func onFailure(p *plan.Plan) []string {
	var out []string
	for _, r := range p.Resources {
		if r.Unchanged {
			continue
		}
		switch r.Strategy {
		case state.StrategyBlueGreen:
			out = append(out, fmt.Sprintf("%s: traffic back to the previous containers (one switch), the new containers removed.", r.Address))
		case state.StrategyCanary:
			out = append(out, fmt.Sprintf("%s: all traffic back to stable in one switch, the candidate removed.", r.Address))
		case state.StrategyRolling:
			out = append(out, fmt.Sprintf("%s: replaced replicas restored batch by batch, the new ones removed.", r.Address))
		case state.StrategyHotfix:
			out = append(out, fmt.Sprintf("%s: the old containers started again and routed, the new ones removed (brief downtime).", r.Address))
		case "restore":
			out = append(out, fmt.Sprintf("%s: the restore is one transaction: if it fails, the database stays as it was, and the fresh backup taken first is kept.", r.Address))
		default:
			out = append(out, fmt.Sprintf("%s: the steps done so far are undone, newest first.", r.Address))
		}
	}
	return out
}

// ContainerName is the name of replica index (1-based) of a service's
// release: <project>[-<env>]-<service>-r<release>-<index>.
func ContainerName(project, env, service string, release, index int) string {
	if env != "" {
		return fmt.Sprintf("%s-%s-%s-r%d-%d", project, env, service, release, index)
	}
	return fmt.Sprintf("%s-%s-r%d-%d", project, service, release, index)
}

// Version is the tag part of an image reference ("1.3.0" of
// "thebot/backend:1.3.0"), or the reference itself when it has none.
func Version(ref string) string {
	if i := strings.LastIndex(ref, ":"); i >= 0 && !strings.Contains(ref[i:], "/") {
		return ref[i+1:]
	}
	return ref
}

// Fingerprint summarises the observed world so that a saved plan can tell
// whether it changed since.
func Fingerprint(obs *providers.Observations) string {
	if obs == nil {
		return ""
	}
	var lines []string
	for _, c := range obs.Containers {
		lines = append(lines, fmt.Sprintf("c %s %s %s %s %s", c.Name, c.ID, c.State, c.ImageID, c.HostAddr))
	}
	for _, r := range obs.Routes {
		lines = append(lines, fmt.Sprintf("r %s %s", r.Path, r.Actual))
		// What nginx serves decides what leaves the routing first.
		if s := r.Serving; s != nil {
			lines = append(lines, fmt.Sprintf("s %s %v %s", r.Path, s.Known, strings.Join(s.Peers, ",")))
		}
	}
	for ref, id := range obs.Images {
		lines = append(lines, fmt.Sprintf("i %s %s", ref, id))
	}
	sort.Strings(lines)
	sum := sha256.Sum256([]byte(strings.Join(lines, "\n")))
	return hex.EncodeToString(sum[:])
}

// SecretHMACs keys an HMAC of every sensitive value of cfg by where it is
// used ("service.web.env.TOKEN"); a saved plan compares them.
func SecretHMACs(key []byte, cfg *config.Config) map[string]string { return secretHMACs(key, cfg) }

// secretHMACs keys an HMAC of every sensitive value by where it is used.
func secretHMACs(key []byte, cfg *config.Config) map[string]string {
	out := map[string]string{}
	add := func(id, v string) {
		m := hmac.New(sha256.New, key)
		m.Write([]byte(v))
		out[id] = hex.EncodeToString(m.Sum(nil))
	}
	for _, s := range cfg.Services {
		for _, e := range s.Env {
			if e.Sensitive {
				add("service."+s.Name+".env."+e.Name, e.Value)
			}
		}
	}
	for _, db := range cfg.Postgres {
		add("postgres."+db.Name+".url", db.URL.Value)
	}
	for _, n := range cfg.Notifies {
		add("notify."+n.Name+".webhook", n.Webhook.Value)
	}
	return out
}

// VariableHMACs keys an HMAC of every variable's final value by the
// variable's name, sensitive or not, so that a saved plan can name the
// variables that differ without holding any value.
func VariableHMACs(key []byte, cfg *config.Config) map[string]string {
	out := map[string]string{}
	for name, v := range cfg.Values {
		v, _ = v.UnmarkDeep()
		m := hmac.New(sha256.New, key)
		if b, err := ctyjson.Marshal(v, cty.DynamicPseudoType); err == nil {
			m.Write(b)
		} else {
			// An unknown value has no JSON encoding; its type and
			// unknown-ness still identify it.
			m.Write([]byte(v.GoString()))
		}
		out[name] = hex.EncodeToString(m.Sum(nil))
	}
	return out
}

// ChangedVariables returns, sorted, the names of the variables whose
// HMACs differ between saved and now (set in only one of them, or to
// another value).
func ChangedVariables(saved, now map[string]string) []string {
	var out []string
	for name, h := range saved {
		if now[name] != h {
			out = append(out, name)
		}
	}
	for name := range now {
		if _, ok := saved[name]; !ok {
			out = append(out, name)
		}
	}
	sort.Strings(out)
	return out
}

// serviceHash fingerprints everything of a service's config that its
// containers are created from, with sensitive values as HMACs, except its
// restart policy: a change of policy is applied to the live containers in
// place (planRestart), never by a new release. The fingerprint keeps the
// field, always "no" (its default while it counted), so that the hashes
// of services released before do not change.
func serviceHash(svc *config.Service, secrets map[string]string) string {
	return hashWithRestart(svc, secrets, "no")
}

// restartPolicies are the policies a service's restart attribute takes.
var restartPolicies = []string{"no", "always", "unless-stopped", "on-failure"}

// sameConfig reports whether hash, the config hash state recorded for a
// service, is the hash of svc: as serviceHash makes it, or as a slipway
// that still counted the restart policy made it, whatever the policy was
// then. A service released before restart left the hash (and before its
// default became "unless-stopped") is not released again for it.
func sameConfig(hash string, svc *config.Service, secrets map[string]string) bool {
	if hash == serviceHash(svc, secrets) {
		return true
	}
	for _, r := range restartPolicies {
		if hash == hashWithRestart(svc, secrets, r) {
			return true
		}
	}
	return false
}

// hashWithRestart is serviceHash with the restart field given.
func hashWithRestart(svc *config.Service, secrets map[string]string, restart string) string {
	env := map[string]string{}
	for _, e := range svc.Env {
		if e.Sensitive {
			env[e.Name] = "hmac:" + secrets["service."+svc.Name+".env."+e.Name]
		} else {
			env[e.Name] = e.Value
		}
	}
	b, _ := json.Marshal(struct {
		Env                          map[string]string
		Command, Volumes, Nets, Host []string
		Port, Replicas               int
		Memory, Restart, HostIP      string
		CPUs                         float64
		Stop                         time.Duration
		Health                       *config.Health
	}{env, svc.Command, svc.Volumes, svc.Networks, svc.ExtraHosts, svc.Port, svc.Replicas, svc.Memory, restart, svc.HostIP, svc.CPUs, svc.StopTimeout, healthNoRange(svc.Health)})
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:8])
}

func healthNoRange(h *config.Health) *config.Health {
	if h == nil {
		return nil
	}
	c := *h
	c.DeclRange = hcl.Range{}
	return &c
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func interrupted(j *state.Journal) *plan.Interrupted {
	in := &plan.Interrupted{OperationID: j.OperationID, Operation: j.Operation, Release: j.Release, Started: j.Started}
	done := map[int]bool{}
	for _, i := range j.Finished() {
		done[i] = true
	}
	seen := map[int]bool{}
	for _, e := range j.Entries {
		if seen[e.Step] {
			continue
		}
		seen[e.Step] = true
		desc := e.StepID
		if e.Detail != "" {
			desc += " (" + e.Detail + ")"
		}
		if done[e.Step] {
			in.Finished = append(in.Finished, desc)
		} else {
			in.Pending = append(in.Pending, desc)
		}
	}
	return in
}

// moveToFront moves the steps from index from on before the others,
// keeping each resource's step indexes right.
func moveToFront(p *plan.Plan, from int) {
	if from <= 0 || from >= len(p.Steps) {
		return
	}
	moved := len(p.Steps) - from
	p.Steps = append(append([]*plan.Step(nil), p.Steps[from:]...), p.Steps[:from]...)
	for _, r := range p.Resources {
		for i, idx := range r.Steps {
			if idx >= from {
				r.Steps[i] = idx - from
			} else {
				r.Steps[i] = idx + moved
			}
		}
	}
}
