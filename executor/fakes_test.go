package executor_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/slipwayhq/slipway/executor"
	"github.com/slipwayhq/slipway/planner/plan"
	"github.com/slipwayhq/slipway/providers"
	"github.com/slipwayhq/slipway/state"
	"github.com/slipwayhq/slipway/state/records"
)

// fakeWorld is a runtime, a router and a journal sharing one event log,
// so that tests can read the order of journal writes and provider calls.
// Every mutating provider call asserts that an intent was persisted before
// it.
type fakeWorld struct {
	t *testing.T

	mu         sync.Mutex
	log        []string
	containers map[string]providers.Container
	nextPort   int
	// fail makes a call fail: keys are "start NAME", "health NAME", "stop
	// NAME", "remove NAME", "route SERVICE", "unroute SERVICE", "journal
	// PHASE" and "observe".
	fail map[string]error
	// writes are the journals as persisted, copied.
	writes []state.Journal
	routes int
	// newPorts gives a stopped container another address when it starts
	// again, as Docker publishes it on a new ephemeral port.
	newPorts bool
}

func newWorld(t *testing.T) *fakeWorld {
	return &fakeWorld{t: t, containers: map[string]providers.Container{}, nextPort: 40001, fail: map[string]error{}}
}

func (w *fakeWorld) add(c providers.Container) { w.containers[c.Name] = c }

func (w *fakeWorld) record(format string, args ...any) {
	w.log = append(w.log, fmt.Sprintf(format, args...))
}

// events returns the log without the lines of the named prefixes.
func (w *fakeWorld) events(skip ...string) []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	var out []string
	for _, l := range w.log {
		if !slices.ContainsFunc(skip, func(p string) bool { return strings.HasPrefix(l, p) }) {
			out = append(out, l)
		}
	}
	return out
}

// mutating checks, under w.mu, that the last persisted journal entry is an
// intent: the journal was written before the provider is called.
func (w *fakeWorld) mutating(call string) error {
	var phase string
	if n := len(w.writes); n > 0 {
		if e := w.writes[n-1].Entries; len(e) > 0 {
			phase = e[len(e)-1].Phase
		}
	}
	if phase != state.PhaseIntent && phase != state.PhaseCompensateIntent {
		w.t.Errorf("%s called with no intent persisted before it (last phase %q)", call, phase)
	}
	w.record("%s", call)
	return w.fail[call]
}

func (w *fakeWorld) runtime() *fakeRuntime { return &fakeRuntime{w} }
func (w *fakeWorld) router() *fakeRouter   { return &fakeRouter{w} }
func (w *fakeWorld) journal() *fakeJournal { return &fakeJournal{w} }

type fakeJournal struct{ w *fakeWorld }

func (j *fakeJournal) WriteJournal(jn *state.Journal) error {
	w := j.w
	w.mu.Lock()
	defer w.mu.Unlock()
	c := *jn
	c.Entries = slices.Clone(jn.Entries)
	line := "journal open"
	if n := len(c.Entries); n > 0 {
		e := c.Entries[n-1]
		line = fmt.Sprintf("journal %s %s", e.Phase, e.StepID)
		if err := w.fail["journal "+e.Phase]; err != nil {
			return err
		}
	} else if err := w.fail["journal open"]; err != nil {
		return err
	}
	w.writes = append(w.writes, c)
	w.record("%s", line)
	return nil
}

func (j *fakeJournal) ClearJournal() error {
	j.w.mu.Lock()
	defer j.w.mu.Unlock()
	j.w.record("journal clear")
	return nil
}

type fakeRuntime struct{ w *fakeWorld }

func (r *fakeRuntime) ResolveImage(ctx context.Context, ref string) (string, error) {
	return "", providers.ErrImageNotFound
}

func (r *fakeRuntime) ImageExists(ctx context.Context, id string) (bool, error) { return true, nil }

func (r *fakeRuntime) Observe(ctx context.Context, project, env string) ([]providers.Container, error) {
	w := r.w
	w.mu.Lock()
	defer w.mu.Unlock()
	w.record("observe")
	if err := w.fail["observe"]; err != nil {
		return nil, err
	}
	var out []providers.Container
	for _, c := range w.containers {
		out = append(out, c)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

func (r *fakeRuntime) Start(ctx context.Context, spec providers.ContainerSpec) (providers.Container, error) {
	w := r.w
	w.mu.Lock()
	defer w.mu.Unlock()
	if err := w.mutating("start " + spec.Name); err != nil {
		return providers.Container{}, err
	}
	c, ok := w.containers[spec.Name]
	if ok && w.newPorts && !c.Running() {
		c.HostAddr = fmt.Sprintf("127.0.0.1:%d", w.nextPort)
		w.nextPort++
	}
	if !ok {
		c = providers.Container{ID: "id-" + spec.Name, Name: spec.Name, Project: spec.Project, Service: spec.Service,
			Release: spec.Release, Index: spec.Index, ImageID: spec.ImageID, ConfigHash: spec.ConfigHash,
			HostAddr: fmt.Sprintf("127.0.0.1:%d", w.nextPort)}
		w.nextPort++
	}
	c.State = "running"
	w.containers[spec.Name] = c
	return c, nil
}

func (r *fakeRuntime) WaitHealthy(ctx context.Context, c providers.Container, h providers.HealthSpec) error {
	w := r.w
	w.mu.Lock()
	defer w.mu.Unlock()
	w.record("health %s", c.Name)
	if err := w.fail["health "+c.Name]; err != nil {
		return err
	}
	return nil
}

func (r *fakeRuntime) Stop(ctx context.Context, name string, timeout time.Duration) error {
	w := r.w
	w.mu.Lock()
	defer w.mu.Unlock()
	if err := w.mutating("stop " + name); err != nil {
		return err
	}
	if c, ok := w.containers[name]; ok {
		c.State = "exited"
		w.containers[name] = c
	}
	return nil
}

func (r *fakeRuntime) Remove(ctx context.Context, name string) error {
	w := r.w
	w.mu.Lock()
	defer w.mu.Unlock()
	if err := w.mutating("remove " + name); err != nil {
		return err
	}
	delete(w.containers, name)
	return nil
}

func (r *fakeRuntime) Logs(ctx context.Context, name string, n int) ([]string, error) {
	return nil, nil
}

func (r *fakeRuntime) UpdateRestart(ctx context.Context, name, policy string) error {
	w := r.w
	w.mu.Lock()
	defer w.mu.Unlock()
	if err := w.mutating("restart-policy " + name + " " + policy); err != nil {
		return err
	}
	if c, ok := w.containers[name]; ok {
		c.Restart = policy
		w.containers[name] = c
	}
	return nil
}

type fakeRouter struct{ w *fakeWorld }

func (r *fakeRouter) Render(spec providers.RouteSpec) ([]byte, error) { return nil, nil }

func (r *fakeRouter) Observe(ctx context.Context, project, env string) ([]providers.RouteFile, error) {
	return nil, nil
}

func (r *fakeRouter) Apply(ctx context.Context, spec providers.RouteSpec) (providers.RouteFile, error) {
	w := r.w
	w.mu.Lock()
	defer w.mu.Unlock()
	call := "route " + spec.Service
	line := fmt.Sprintf("%s [%s]", call, strings.Join(spec.Stable, " "))
	if len(spec.Candidate) > 0 {
		line += fmt.Sprintf(" %d%%[%s]", spec.CandidateWeight, strings.Join(spec.Candidate, " "))
	}
	if err := w.mutating(line); err != nil {
		return providers.RouteFile{}, err
	}
	if err := w.fail[call]; err != nil {
		return providers.RouteFile{}, err
	}
	w.routes++
	sum := fmt.Sprintf("sum-%d", w.routes)
	return providers.RouteFile{Project: spec.Project, Service: spec.Service, Path: "conf.d/shop-" + spec.Service + ".conf",
		Release: spec.Release, Checksum: sum, Actual: sum}, nil
}

func (r *fakeRouter) Remove(ctx context.Context, project, env, service string) error {
	w := r.w
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.mutating("unroute " + service)
}

func (r *fakeRouter) Mode() string { return "reload" }

var (
	_ providers.Runtime        = (*fakeRuntime)(nil)
	_ providers.RestartUpdater = (*fakeRuntime)(nil)
	_ providers.Router         = (*fakeRouter)(nil)
	_ executor.Journal         = (*fakeJournal)(nil)
)

// fakeChecker fails the phases listed in fail.
type fakeChecker struct {
	w    *fakeWorld
	fail map[string]error
}

func (c *fakeChecker) Run(ctx context.Context, phase string, names []string, candidate string) ([]records.CheckEvidence, error) {
	c.w.mu.Lock()
	c.w.record("checks %s", phase)
	c.w.mu.Unlock()
	var ev []records.CheckEvidence
	status := "passed"
	if c.fail[phase] != nil {
		status = "failed"
	}
	for _, n := range names {
		ev = append(ev, records.CheckEvidence{Name: n, Phase: phase, Severity: "critical", Status: status})
	}
	return ev, c.fail[phase]
}

// fakeProber counts its starts and stops.
type fakeProber struct{ starts, stops int }

func (p *fakeProber) Start(ctx context.Context) { p.starts++ }

func (p *fakeProber) Stop() records.ProberCounts {
	p.stops++
	return records.ProberCounts{Requests: 10}
}

// hookLog records hook calls in order.
type hookLog struct {
	executor.NoopHook
	calls       []string
	progress    func(s *plan.Step, msg string)
	finished    func(s *plan.Step)
	compensated func(s *plan.Step)
}

func (h *hookLog) StepStarted(s *plan.Step) { h.calls = append(h.calls, "started "+s.ID) }

func (h *hookLog) StepFinished(s *plan.Step, d time.Duration, err error) {
	h.calls = append(h.calls, "finished "+s.ID+outcome(err))
	if h.finished != nil {
		h.finished(s)
	}
}

func (h *hookLog) CompensationStarted(s *plan.Step) {
	h.calls = append(h.calls, "compensating "+s.ID)
}

func (h *hookLog) CompensationFinished(s *plan.Step, d time.Duration, err error) {
	h.calls = append(h.calls, "compensated "+s.ID+outcome(err))
	if h.compensated != nil {
		h.compensated(s)
	}
}

func (h *hookLog) Progress(s *plan.Step, msg string) {
	if h.progress != nil {
		h.progress(s, msg)
	}
}

func outcome(err error) string {
	if err != nil {
		return " (failed)"
	}
	return ""
}

// The release the tests apply: service web from release 1 (container
// shop-web-r1-1) to release 2 (shop-web-r2-1).
const (
	old    = "shop-web-r1-1"
	cand   = "shop-web-r2-1"
	oldIP  = "127.0.0.1:30001"
	idV1   = "sha256:1111"
	idV2   = "sha256:2222"
	nextIP = "127.0.0.1:40001" // the first address fakeRuntime.Start gives
)

var errBoom = errors.New("boom")

// priorState is the state with release 1 live.
func priorState() *state.State {
	s := state.New("shop", "")
	s.Lineage, s.Serial, s.Release = "5f1c0000-0000-4000-8000-000000000000", 4, 1
	s.Services["web"] = &state.Service{Name: "web", Strategy: state.StrategyBlueGreen, Image: "demo:v1", ImageID: idV1,
		Release: 1, Version: "v1", Color: state.ColorBlue, ConfigHash: "h1",
		Containers: []state.Container{{ID: "id-" + old, Name: old, Color: state.ColorBlue, Release: 1, Index: 1, HostAddr: oldIP, ImageID: idV1}},
		RouteFile:  "conf.d/shop-web.conf", RouteChecksum: "sum-0"}
	return s
}

// liveWorld is the fake world with release 1 running.
func liveWorld(t *testing.T) *fakeWorld {
	w := newWorld(t)
	w.add(providers.Container{ID: "id-" + old, Name: old, Project: "shop", Service: "web", Release: 1, Index: 1,
		ImageID: idV1, State: "running", HostAddr: oldIP})
	return w
}

func route(release int, version string) providers.RouteSpec {
	return providers.RouteSpec{Project: "shop", Service: "web", Release: release, Listen: 8081, ServerName: "_", Location: "/", StableVersion: version}
}

func startStep() *plan.Step {
	return &plan.Step{ID: "service.web.start.1", Resource: "service.web", Kind: plan.KindStart, Action: plan.Create, Target: cand,
		Detail: "1 container from demo:v2",
		Containers: []providers.ContainerSpec{{Name: cand, Project: "shop", Service: "web", Release: 2, Index: 1, Color: state.ColorGreen,
			Image: "demo:v2", ImageID: idV2, ConfigHash: "h2", Port: 8080}},
		Compensation: &plan.Step{Kind: plan.KindRemove, Action: plan.Delete, Target: cand, Detail: "remove the new containers", Names: []string{cand}}}
}

func healthStep() *plan.Step {
	return &plan.Step{ID: "service.web.health.2", Resource: "service.web", Kind: plan.KindHealth, Target: cand, Names: []string{cand},
		Health: &providers.HealthSpec{Path: "/health", HealthyThreshold: 2, Deadline: time.Minute}}
}

func switchStep() *plan.Step {
	return &plan.Step{ID: "service.web.traffic.3", Resource: "service.web", Kind: plan.KindTraffic, Action: plan.Update,
		Detail:  "switch all requests v1 -> v2",
		Traffic: &plan.Traffic{Stable: []string{cand}, Route: route(2, "v2")},
		Compensation: &plan.Step{Kind: plan.KindTraffic, Action: plan.Update, Detail: "all traffic back to v1",
			Traffic: &plan.Traffic{Stable: []string{old}, Route: route(1, "v1")}}}
}

func canaryStep(weight int) *plan.Step {
	r := route(2, "v1")
	r.CandidateVersion = "v2"
	return &plan.Step{ID: fmt.Sprintf("service.web.traffic.%d", weight), Resource: "service.web", Kind: plan.KindTraffic, Action: plan.Update,
		Traffic: &plan.Traffic{Stable: []string{old}, Candidate: []string{cand}, CandidateWeight: weight, Route: r}}
}

func stopOldStep() *plan.Step {
	return &plan.Step{ID: "service.web.stop.4", Resource: "service.web", Kind: plan.KindStop, Action: plan.Update, Target: old,
		Names: []string{old}, StopAfter: time.Second,
		Compensation: &plan.Step{Kind: plan.KindStart, Action: plan.Update, Target: old, Names: []string{old}}}
}

func checkStep(phase string) *plan.Step {
	return &plan.Step{ID: "checks." + phase, Resource: "checks", Kind: plan.KindCheck, Provider: "slipway", Target: phase,
		Phase: phase, Checks: []string{phase + "_check"}}
}

func gateStep() *plan.Step {
	return &plan.Step{ID: "service.web.pause.gate", Resource: "service.web", Kind: plan.KindPause, Approve: true, Target: "50%"}
}

func pauseStep(d time.Duration) *plan.Step {
	return &plan.Step{ID: "service.web.pause.wait", Resource: "service.web", Kind: plan.KindPause, Pause: d, Target: "batch"}
}

// newPlan is the release 2 plan of steps, numbered.
func newPlan(steps ...*plan.Step) *plan.Plan {
	for i, s := range steps {
		s.Index = i
	}
	return &plan.Plan{Operation: "apply", Project: "shop", Lineage: "5f1c0000-0000-4000-8000-000000000000", Serial: 4,
		PriorRelease: 1, Release: 2, ConfigHash: "cfg2", Secrets: map[string]string{"service.web.env.SECRET": "hmac"},
		Steps: steps,
		Services: map[string]*state.Service{"web": {Name: "web", Strategy: state.StrategyBlueGreen, Image: "demo:v2", ImageID: idV2,
			Release: 2, Version: "v2", Color: state.ColorGreen, ConfigHash: "h2",
			Containers: []state.Container{{Name: cand, Color: state.ColorGreen, Release: 2, Index: 1, ImageID: idV2}},
			Previous:   &state.Previous{Release: 1, Image: "demo:v1", ImageID: idV1, Version: "v1", Color: state.ColorBlue, Kept: state.KeptRunning}}},
	}
}

// harness runs Apply against w with the options tests usually need and
// keeps every record the executor reports.
type harness struct {
	w       *fakeWorld
	prior   *state.State
	opts    executor.Options
	hook    *hookLog
	results []string // rec.Result at each Record call
	// firstRecord are the events before the first Record call.
	firstRecord []string
	checker     *fakeChecker
	prober      *fakeProber
}

func newHarness(t *testing.T) *harness {
	w := liveWorld(t)
	h := &harness{w: w, prior: priorState(), hook: &hookLog{}, checker: &fakeChecker{w: w, fail: map[string]error{}}, prober: &fakeProber{}}
	h.opts = executor.Options{
		Prior: h.prior, Journal: w.journal(), OperationID: "op-1", Who: "tester@host",
		Now:     func() time.Time { return time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC) },
		Checker: h.checker, Prober: h.prober,
		Record: func(r *records.Record) {
			if h.results == nil {
				h.firstRecord = w.events()
			}
			h.results = append(h.results, r.Result)
		},
	}
	return h
}

func (h *harness) apply(ctx context.Context, p *plan.Plan) (*state.State, *records.Record, *executor.Error) {
	h.w.t.Helper()
	st, rec, err := executor.Apply(ctx, p, providers.Set{Runtime: h.w.runtime(), Router: h.w.router()}, h.opts, h.hook)
	if err == nil {
		return st, rec, nil
	}
	var e *executor.Error
	if !errors.As(err, &e) {
		h.w.t.Fatalf("Apply returned %T %v, want an *executor.Error", err, err)
	}
	return st, rec, e
}

func diffLines(t *testing.T, what string, got, want []string) {
	t.Helper()
	if !slices.Equal(got, want) {
		t.Errorf("%s:\ngot:\n  %s\nwant:\n  %s", what, strings.Join(got, "\n  "), strings.Join(want, "\n  "))
	}
}
