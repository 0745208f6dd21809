package executor

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/slipwayhq/slipway/internal/panics"
	"github.com/slipwayhq/slipway/planner/plan"
	"github.com/slipwayhq/slipway/providers"
	"github.com/slipwayhq/slipway/state"
	"github.com/slipwayhq/slipway/state/records"
)

// Journal persists the journal of the operation in progress. Each write
// must be durable before it returns.
type Journal interface {
	WriteJournal(j *state.Journal) error
	ClearJournal() error
}

// Checker runs the checks of one phase, as the plan resolved them.
// candidate is the address ("127.0.0.1:49153") of one of the new
// containers for a preview phase, "" otherwise. It returns the evidence of
// each check and an error when a critical one failed.
type Checker interface {
	Run(ctx context.Context, phase string, checks []plan.Check, candidate string) ([]records.CheckEvidence, error)
}

// Analyzer runs the analysis of one canary step (its AnalysisSpec):
// windows of readings of the candidate against stable, over the step's
// pause. It reports each window's readings and returns an error when a
// window fails, or when the step ends without data (fewer requests than
// needed is never a pass).
type Analyzer interface {
	Analyse(ctx context.Context, s *plan.Step, report func(readings []records.AnalysisReading, verdict, reason string)) error
}

// Prober sends requests through the router while traffic moves and counts
// the failures.
type Prober interface {
	Start(ctx context.Context)
	Stop() records.ProberCounts
}

// Options are the executor's inputs besides the plan and the providers.
type Options struct {
	Prior       *state.State
	Journal     Journal
	OperationID string
	Who         string
	Now         func() time.Time // default time.Now
	Checker     Checker          // nil: a plan with check steps fails
	Prober      Prober           // nil: no prober
	Analyzer    Analyzer         // nil: a plan with analyse steps fails
	// Record is called with the operation record whenever it changes, from
	// the start of the operation to its end.
	Record func(r *records.Record)
	// Stop asks for a graceful stop: the current step finishes, then the
	// finished steps are undone. Cancelling ctx stops at once.
	Stop <-chan struct{}
	// AutoApprove passes approval gates.
	AutoApprove bool
	// Approve, when set, is asked at an approval gate (on a terminal);
	// true passes it, false pauses there as without it.
	Approve func(s *plan.Step) bool
	// Resume continues an operation paused at an approval gate: the steps
	// its journal finished are not run again (but are undone if a later
	// step fails), and the gate it stopped at passes.
	Resume *state.Journal
	// Abort undoes the finished steps of the resumed operation instead of
	// continuing it.
	Abort bool
	// Continues is the record the operation Resume continues wrote when it
	// paused. The new record starts with its finished steps, check evidence
	// and analysis readings, so that a promoted release's record tells the
	// whole release; nil (or another operation's record) starts empty.
	Continues *records.Record
	// ArchiveDir, when set, is where a rollback (manual, or the undo of a
	// failed operation) archives the route files its traffic steps replace
	// and the last ArchiveLogLines log lines of each container the requests
	// left; the record's incident lists the files. "" archives nothing.
	ArchiveDir string
	// Mask hides sensitive values in what is archived; nil leaves it as
	// the runtime returned it (which masks what it knows).
	Mask func(string) string
}

// ErrInterrupted is the cause of a graceful stop.
var ErrInterrupted = errors.New("interrupted")

// ErrAborted is the cause of an operation undone by `slipway abort`.
var ErrAborted = errors.New("aborted")

type run struct {
	p       *plan.Plan
	provs   providers.Set
	opts    Options
	hook    Hook
	journal *state.Journal
	rec     *records.Record
	live    map[string]providers.Container
	routes  map[string]providers.RouteFile
	next    *state.State
	// mu guards live, next and the step record while each runs a step's
	// containers at once.
	mu sync.Mutex

	proberStarted bool
	// backups are the files this run dumped, by database; dbChanged says
	// the database changed in a way that outlives a rollback of the
	// services (applied migrations, backups).
	backups   map[string]string
	dbChanged bool
	// undoing is set while the steps done are undone.
	undoing bool
	arch    archiver
	// journalWrites counts the journal writes, naming the fault points
	// of a test build (see Faultpoint).
	journalWrites int
	// images holds the ids the build and pull steps got, by image
	// reference.
	images map[string]string
}

// Apply performs p and returns the state after it. On failure it returns
// the state as it now is (the prior state when the rollback worked) and an
// *Error whose Outcome says which.
func Apply(ctx context.Context, p *plan.Plan, provs providers.Set, opts Options, hook Hook) (*state.State, *records.Record, error) {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if hook == nil {
		hook = NoopHook{}
	}
	r := &run{p: p, provs: provs, opts: opts, hook: hook, live: map[string]providers.Container{}, routes: map[string]providers.RouteFile{}, backups: map[string]string{}, images: map[string]string{}}
	r.journal = &state.Journal{OperationID: opts.OperationID, Operation: p.Operation, Release: p.Release, PriorRelease: p.PriorRelease, Started: opts.Now().UTC()}
	done, gate := r.resumed()
	r.rec = r.newRecord(done)
	r.next = r.nextState()
	if err := r.persist(); err != nil {
		return opts.Prior, r.rec, &Error{Outcome: Refused, Err: fmt.Errorf("write journal: %w", err)}
	}
	r.record()
	if err := r.observe(ctx); err != nil {
		return r.fail(ctx, nil, -1, err)
	}
	if opts.Resume != nil {
		r.adopt()
		if opts.Abort {
			last := -1
			for i := range p.Steps {
				if done[i] {
					last = i
				}
			}
			return r.fail(ctx, nil, last, ErrAborted)
		}
	}
	return r.steps(ctx, done, gate)
}

// resumed continues the operation Options.Resume paused: its journal, its
// id. It returns the steps its journal finished, and the index of the
// approval gate it stopped at (-1 when none, or nothing is resumed).
func (r *run) resumed() (done map[int]bool, gate int) {
	done, gate = map[int]bool{}, -1
	j := r.opts.Resume
	if j == nil {
		return done, gate
	}
	r.journal = j
	r.opts.OperationID = j.OperationID
	for _, i := range j.Finished() {
		done[i] = true
	}
	for i := range r.p.Steps {
		if !done[i] && j.LastPhase(i) != "" {
			gate = i
		}
	}
	return done, gate
}

// newRecord starts the operation's record; a resumed operation's starts
// with what the record it continues holds of the steps done.
func (r *run) newRecord(done map[int]bool) *records.Record {
	p, opts := r.p, r.opts
	rec := &records.Record{ID: opts.OperationID, Operation: p.Operation, Project: p.Project, Env: p.Env, Release: p.Release,
		PriorRelease: p.PriorRelease, Who: opts.Who, Started: r.journal.Started, ConfigHash: p.ConfigHash, Reason: p.Reason, Result: "running",
		TargetRelease: p.TargetRelease, Changes: changes(p), Warnings: append([]string(nil), p.Warnings...)}
	if c := opts.Continues; opts.Resume != nil && c != nil && c.ID == opts.OperationID {
		for _, sr := range c.Steps {
			if done[sr.Index] {
				rec.Steps = append(rec.Steps, sr)
			}
		}
		rec.Checks = append(rec.Checks, c.Checks...)
		rec.Analysis = append(rec.Analysis, c.Analysis...)
	}
	return rec
}

// nextState is the state after a successful run as far as the plan knows
// it: the prior one with the plan's services, copied, so that neither is
// written into.
func (r *run) nextState() *state.State {
	next := r.opts.Prior.DeepCopy()
	for name, s := range r.p.Services {
		if s == nil {
			delete(next.Services, name)
			continue
		}
		c := *s
		c.Containers = append([]state.Container(nil), s.Containers...)
		next.Services[name] = &c
	}
	return next
}

// steps runs the steps not done yet, in order: the approval gate a
// resumed operation stopped at passes, a graceful stop or a cancelled ctx
// between steps fails the run, as does a failing step.
func (r *run) steps(ctx context.Context, done map[int]bool, gate int) (*state.State, *records.Record, error) {
	for i, s := range r.p.Steps {
		if done[i] {
			continue
		}
		if i == gate && s.Kind == plan.KindPause && s.Approve {
			if err := r.approved(i, s); err != nil {
				return r.fail(ctx, s, i, err)
			}
			continue
		}
		select {
		case <-r.opts.Stop:
			return r.fail(ctx, nil, i-1, ErrInterrupted)
		default:
		}
		if err := ctx.Err(); err != nil {
			return r.fail(ctx, nil, i-1, err)
		}
		err := r.step(ctx, i, s)
		if errors.Is(err, errPaused) {
			return r.pause(s)
		}
		if err != nil {
			return r.fail(ctx, s, i, err)
		}
	}
	return r.succeed()
}

// approved records the approval gate i, which promote passed.
func (r *run) approved(i int, s *plan.Step) error {
	sr := records.StepRecord{Index: i, ID: s.ID, Kind: s.Kind.String(), Target: s.Target, Detail: s.Detail + " (approved)", Started: r.opts.Now().UTC(), Outcome: "ok"}
	sr.Ended = sr.Started
	r.rec.Steps = append(r.rec.Steps, sr)
	return r.mark(i, s, state.PhaseDone, "approved by "+r.opts.Who)
}

// succeed ends a run whose every step is done: the new state, and the
// record's result.
func (r *run) succeed() (*state.State, *records.Record, error) {
	p := r.p
	r.finishProber()
	r.waitArchive()
	if p.Operation == records.OpRollback {
		if rs := restored(p); len(rs) > 0 {
			r.incident().Restored = append(r.incident().Restored, rs...)
		}
	}
	r.next.Release = p.Release
	r.next.ConfigHash = p.ConfigHash
	r.next.Secrets = p.Secrets
	r.next.UpdatedAt = r.opts.Now().UTC()
	r.rec.Result = "succeeded"
	r.rec.Ended = r.opts.Now().UTC()
	r.record()
	return r.next, r.rec, nil
}

var errPaused = errors.New("paused at an approval gate")

func (r *run) pause(s *plan.Step) (*state.State, *records.Record, error) {
	r.finishProber()
	r.waitArchive()
	r.rec.Result = "paused"
	r.rec.Ended = r.opts.Now().UTC()
	r.record()
	return r.opts.Prior, r.rec, &Error{Outcome: Paused, Step: s.ID, Err: errPaused}
}

func (r *run) persist() error {
	if r.opts.Journal == nil {
		return nil
	}
	if err := r.opts.Journal.WriteJournal(r.journal); err != nil {
		return err
	}
	r.journalWrites++
	Faultpoint(fmt.Sprintf("after-journal:%d", r.journalWrites))
	return nil
}

func (r *run) record() {
	if r.opts.Record != nil {
		r.opts.Record(r.rec)
	}
}

func (r *run) mark(i int, s *plan.Step, phase, detail string) error {
	r.journal.Entries = append(r.journal.Entries, state.JournalEntry{Step: i, StepID: s.ID, Phase: phase, Time: r.opts.Now().UTC(), Detail: detail})
	if err := r.persist(); err != nil {
		return fmt.Errorf("write journal: %w", err)
	}
	return nil
}

// step runs one step between its journal entries.
func (r *run) step(ctx context.Context, i int, s *plan.Step) error {
	if err := r.mark(i, s, state.PhaseIntent, s.Detail); err != nil {
		return err
	}
	r.hook.StepStarted(s)
	sr := records.StepRecord{Index: i, ID: s.ID, Kind: s.Kind.String(), Target: s.Target, Detail: s.Detail, Started: r.opts.Now().UTC()}
	err := r.do(ctx, s, &sr)
	if err == nil {
		Faultpoint("after-action:" + s.ID)
	}
	sr.Ended = r.opts.Now().UTC()
	d := sr.Ended.Sub(sr.Started)
	if err != nil && !errors.Is(err, errPaused) {
		sr.Outcome, sr.Error = "failed", err.Error()
		r.rec.Steps = append(r.rec.Steps, sr)
		r.hook.StepFinished(s, d, err)
		r.record()
		if jerr := r.mark(i, s, state.PhaseFailed, err.Error()); jerr != nil {
			return errors.Join(err, jerr)
		}
		return err
	}
	sr.Outcome = "ok"
	if errors.Is(err, errPaused) {
		sr.Outcome = "paused"
	}
	r.rec.Steps = append(r.rec.Steps, sr)
	r.hook.StepFinished(s, d, nil)
	r.record()
	if err != nil {
		return err
	}
	return r.mark(i, s, state.PhaseDone, "")
}

// fail undoes the steps done so far, newest first. failed is the step that
// failed (its own compensation runs too: a half-done start leaves
// containers), and last the index of the newest finished step.
func (r *run) fail(ctx context.Context, failed *plan.Step, last int, cause error) (*state.State, *records.Record, error) {
	undo, changed := r.toUndo(failed, last)
	e := &Error{Outcome: RolledBack, Err: cause}
	if failed != nil {
		e.Step = failed.ID
	}
	if !changed {
		e.Outcome = Refused
	} else if ctx.Err() != nil {
		// A hard stop (a second interrupt) undoes nothing: the journal
		// is kept for the next plan to resume or roll back.
		undo = nil
		e.Outcome = NeedsIntervention
		e.Err = fmt.Errorf("stopped at once: %w; the journal is kept, run 'slipway plan' to see what to do", cause)
	}
	r.undoing = true
	// drain is owed once a compensating traffic step took containers out
	// of the routing: the next compensation that stops or removes any
	// waits it first (plan.Step.Drain). A failed switch was restored by
	// the router, but may have sent requests meanwhile.
	var drain time.Duration
	if failed != nil && failed.Kind == plan.KindTraffic && failed.Compensation != nil {
		drain = failed.Compensation.Drain
	}
	for _, s := range undo {
		drain = r.compensate(ctx, s, drain, e)
	}
	r.finishProber()
	r.waitArchive()
	if len(e.Undo) > 0 {
		e.Outcome = NeedsIntervention
	}
	r.rec.Result = map[Outcome]string{Refused: "failed", RolledBack: "rolled_back", NeedsIntervention: "needs_intervention"}[e.Outcome]
	r.rec.Error = e.Error()
	r.rec.Ended = r.opts.Now().UTC()
	r.record()
	return r.failedState(e.Outcome == RolledBack), r.rec, e
}

// toUndo returns the steps whose compensations run, newest first: the
// finished ones up to last and the one that failed, and whether any of
// them changed the world.
func (r *run) toUndo(failed *plan.Step, last int) (undo []*plan.Step, changed bool) {
	if failed != nil {
		// A failed traffic step changed nothing: the router restores the
		// previous routing itself. Other steps may be half done (some
		// containers started), so their own compensation runs too.
		if failed.Compensation != nil && failed.Kind != plan.KindTraffic {
			undo = append(undo, failed)
		}
		changed = failed.Action != plan.NoOp && !failed.Kind.Prepares()
		last--
	}
	for i := last; i >= 0; i-- {
		s := r.p.Steps[i]
		if s.Action != plan.NoOp && !s.Kind.Prepares() {
			changed = true
		}
		if s.Compensation != nil {
			undo = append(undo, s)
		}
	}
	return undo, changed
}

// compensate runs the compensation of s between its journal entries,
// first waiting the drain owed when it stops or removes containers, and
// adds its failure to e. It returns the drain owed after it.
func (r *run) compensate(ctx context.Context, s *plan.Step, drain time.Duration, e *Error) time.Duration {
	c := s.Compensation
	if c.ID == "" {
		c.ID = s.ID + ".undo"
	}
	if drain > 0 && (c.Kind == plan.KindStop || c.Kind == plan.KindRemove) && ctx.Err() == nil {
		r.hook.Progress(c, fmt.Sprintf("draining for %s: traffic left these containers", drain))
		sleepCtx(ctx, drain)
		drain = 0
	}
	if err := ctx.Err(); err != nil {
		// A hard stop during the undo: the rest is left to the next plan.
		e.Undo = append(e.Undo, fmt.Errorf("%s: not undone, stopped at once: %w", c.ID, err))
		return drain
	}
	_ = r.mark(s.Index, s, state.PhaseCompensateIntent, c.Detail)
	r.hook.CompensationStarted(c)
	sr := records.StepRecord{Index: s.Index, ID: c.ID, Kind: c.Kind.String(), Target: c.Target, Detail: c.Detail, Started: r.opts.Now().UTC()}
	// A hard stop during the undo lets the compensation under way
	// finish.
	err := r.do(context.WithoutCancel(ctx), c, &sr)
	if err == nil {
		Faultpoint("after-action:" + c.ID)
	}
	sr.Ended = r.opts.Now().UTC()
	r.hook.CompensationFinished(c, sr.Ended.Sub(sr.Started), err)
	if err != nil {
		sr.Outcome, sr.Error = "failed", err.Error()
		e.Undo = append(e.Undo, fmt.Errorf("%s: %w", c.ID, err))
	} else {
		sr.Outcome = "compensated"
		_ = r.mark(s.Index, s, state.PhaseCompensated, "")
		if c.Kind == plan.KindTraffic {
			drain = max(drain, c.Drain)
		}
	}
	r.rec.Steps = append(r.rec.Steps, sr)
	r.record()
	return drain
}

// failedState is the state after a failed operation: the prior one, with
// what the database keeps (applied migrations, backups) when it changed,
// and, when the undo finished (undone), the new addresses of the prior
// containers it started again and the route file it rendered to them (a
// container kept stopped gets another port when it starts). A caller
// writes it when it is not the prior state itself.
func (r *run) failedState(undone bool) *state.State {
	st := r.opts.Prior
	own := func() {
		if st == r.opts.Prior {
			st = r.opts.Prior.DeepCopy()
			st.UpdatedAt = r.opts.Now().UTC()
		}
	}
	if r.dbChanged {
		own()
		st.Databases = r.next.Databases
	}
	if !undone {
		return st
	}
	for _, name := range sortedServices(r.opts.Prior) {
		ps := r.opts.Prior.Services[name]
		moved := false
		for _, c := range ps.Containers {
			if lc, ok := r.liveContainer(c.Name); ok && lc.HostAddr != "" && c.HostAddr != "" && lc.HostAddr != c.HostAddr {
				moved = true
			}
		}
		rf, routed := r.routes[name]
		if !moved || !routed {
			continue
		}
		own()
		svc := st.Services[name]
		for i := range svc.Containers {
			if lc, ok := r.liveContainer(svc.Containers[i].Name); ok && lc.HostAddr != "" {
				svc.Containers[i].ID, svc.Containers[i].HostAddr = lc.ID, lc.HostAddr
			}
		}
		svc.RouteFile, svc.RouteChecksum = rf.Path, rf.Actual
	}
	return st
}

func sortedServices(st *state.State) []string {
	names := make([]string, 0, len(st.Services))
	for n := range st.Services {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

func (r *run) finishProber() {
	if r.opts.Prober != nil && r.rec.Prober == nil && r.proberStarted {
		c := r.opts.Prober.Stop()
		r.rec.Prober = &c
	}
}

// observe learns the live containers, for the addresses of the old ones.
func (r *run) observe(ctx context.Context) error {
	if r.provs.Runtime == nil {
		return nil
	}
	cs, err := r.provs.Runtime.Observe(ctx, r.p.Project, r.p.Env)
	if err != nil {
		return fmt.Errorf("observe containers: %w", err)
	}
	for _, c := range cs {
		r.live[c.Name] = c
	}
	return nil
}

func (r *run) do(ctx context.Context, s *plan.Step, sr *records.StepRecord) error {
	switch s.Kind {
	case plan.KindStart:
		return r.start(ctx, s)
	case plan.KindHealth:
		return r.health(ctx, s, sr)
	case plan.KindTraffic:
		return r.traffic(ctx, s)
	case plan.KindStop:
		return r.each(ctx, s.Names, func(ctx context.Context, n string) error {
			return r.provs.Runtime.Stop(ctx, n, s.StopAfter)
		})
	case plan.KindRemove:
		// The logs of the containers a rollback left are archived
		// before they go.
		r.waitArchive()
		return r.each(ctx, s.Names, func(ctx context.Context, n string) error {
			return r.provs.Runtime.Remove(ctx, n)
		})
	case plan.KindUpdate:
		return r.update(ctx, s)
	case plan.KindPause:
		if s.Approve {
			if r.opts.AutoApprove || (r.opts.Approve != nil && r.opts.Approve(s)) {
				return nil
			}
			return errPaused
		}
		return r.wait(ctx, s, s.Pause)
	case plan.KindCheck:
		return r.check(ctx, s)
	case plan.KindBackup:
		path, err := r.backup(ctx, s, "")
		if err == nil {
			r.backups[s.Database] = path
			sr.Output = append(sr.Output, "backup "+path)
		}
		return err
	case plan.KindMigrate:
		return r.migrate(ctx, s, sr)
	case plan.KindAnalyse:
		return r.analyse(ctx, s)
	case plan.KindBuild:
		return r.build(ctx, s, sr)
	case plan.KindPull:
		return r.pull(ctx, s, sr)
	case plan.KindTag:
		return r.tag(ctx, s)
	}
	return fmt.Errorf("step kind %s is not supported", s.Kind)
}

// update changes the restart policy of live containers in place.
func (r *run) update(ctx context.Context, s *plan.Step) error {
	u, ok := r.provs.Runtime.(providers.RestartUpdater)
	if !ok {
		return fmt.Errorf("the container runtime cannot change the restart policy of %s in place", strings.Join(s.Names, ", "))
	}
	return r.each(ctx, s.Names, func(ctx context.Context, n string) error {
		return u.UpdateRestart(ctx, n, s.Restart)
	})
}

// check runs a check step's checks, against the address of its first
// container in the preview phase, and keeps their evidence.
func (r *run) check(ctx context.Context, s *plan.Step) error {
	if r.opts.Checker == nil {
		return fmt.Errorf("no checker is configured to run %s checks %s", s.Phase, strings.Join(s.Checks, ", "))
	}
	candidate := ""
	if len(s.Names) > 0 {
		if c, ok := r.liveContainer(s.Names[0]); ok {
			candidate = c.HostAddr
		}
	}
	ev, err := r.opts.Checker.Run(ctx, s.Phase, s.CheckSpecs, candidate)
	r.rec.Checks = append(r.rec.Checks, ev...)
	return err
}

// analyse runs an analyse step, keeping each window's readings and
// telling them as progress.
func (r *run) analyse(ctx context.Context, s *plan.Step) error {
	if r.opts.Analyzer == nil {
		return fmt.Errorf("analysis %q: no metric source is configured", s.Analysis)
	}
	return r.opts.Analyzer.Analyse(ctx, s, func(rs []records.AnalysisReading, verdict, reason string) {
		r.mu.Lock()
		r.rec.Analysis = append(r.rec.Analysis, rs...)
		if verdict == "fail" && reason != "" && (r.rec.Incident == nil || r.rec.Incident.Threshold == "") {
			// The limit crossed, for the incident report's trigger.
			r.incident().Threshold = reason
		}
		r.mu.Unlock()
		msg := verdict
		for _, x := range rs {
			msg += fmt.Sprintf("; %s %d requests, %.1f%% errors, p95 %s", x.Version, x.Requests, 100*x.ErrorRate, seconds(x.P95))
		}
		if reason != "" {
			msg += " (" + reason + ")"
		}
		r.hook.Progress(s, msg)
		r.record()
	})
}

// sleepCtx waits d, or until ctx ends.
func sleepCtx(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
	}
}

func (r *run) wait(ctx context.Context, s *plan.Step, d time.Duration) error {
	if d <= 0 {
		return nil
	}
	r.hook.Progress(s, fmt.Sprintf("waiting %s", d))
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-r.opts.Stop:
		return ErrInterrupted
	case <-ctx.Done():
		return ctx.Err()
	}
}

// each runs fn for every name at once and joins the errors.
func (r *run) each(ctx context.Context, names []string, fn func(ctx context.Context, name string) error) error {
	if r.provs.Runtime == nil {
		return errors.New("no container runtime is configured")
	}
	errs := make([]error, len(names))
	var wg sync.WaitGroup
	for i, n := range names {
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer panics.Recover()
			errs[i] = fn(ctx, n)
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}

func (r *run) start(ctx context.Context, s *plan.Step) error {
	if len(s.Containers) == 0 {
		// The compensation of a stop: start the old containers again,
		// and wait for their health gate when it has one: traffic goes
		// back to them next.
		return r.each(ctx, s.Names, func(ctx context.Context, n string) error {
			c, ok := r.liveContainer(n)
			if !ok {
				return fmt.Errorf("container %s is gone; it cannot be started again", n)
			}
			spec := providers.ContainerSpec{Name: n, Project: c.Project, Env: c.Env, Service: c.Service, Release: c.Release,
				Color: c.Color, Index: c.Index, ConfigHash: c.ConfigHash, Image: c.Image, ImageID: c.ImageID}
			got, err := r.provs.Runtime.Start(ctx, spec)
			if err != nil {
				return err
			}
			r.setLive(got)
			if s.Health != nil {
				return r.provs.Runtime.WaitHealthy(ctx, got, *s.Health)
			}
			return nil
		})
	}
	var mu sync.Mutex
	specs := map[string]providers.ContainerSpec{}
	for _, c := range s.Containers {
		specs[c.Name] = r.pinned(c)
	}
	return r.each(ctx, names(s.Containers), func(ctx context.Context, n string) error {
		got, err := r.provs.Runtime.Start(ctx, specs[n])
		if err != nil {
			return err
		}
		mu.Lock()
		defer mu.Unlock()
		r.setLive(got)
		return nil
	})
}

func names(specs []providers.ContainerSpec) []string {
	out := make([]string, len(specs))
	for i, s := range specs {
		out[i] = s.Name
	}
	return out
}

// setLive remembers a started container and fills its id and address into
// the next state.
func (r *run) setLive(c providers.Container) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.live[c.Name] = c
	for _, svc := range r.next.Services {
		for i := range svc.Containers {
			if svc.Containers[i].Name == c.Name {
				svc.Containers[i].ID = c.ID
				svc.Containers[i].HostAddr = c.HostAddr
				svc.Containers[i].ImageID = c.ImageID
				if svc.ImageID == "" {
					// Built or pulled before a pause that this run resumes.
					svc.ImageID = c.ImageID
				}
			}
		}
	}
}

// liveContainer returns the live container named n; each's goroutines
// call it while others add containers.
func (r *run) liveContainer(n string) (providers.Container, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	c, ok := r.live[n]
	return c, ok
}

func (r *run) health(ctx context.Context, s *plan.Step, sr *records.StepRecord) error {
	return r.each(ctx, s.Names, func(ctx context.Context, n string) error {
		c, ok := r.liveContainer(n)
		if !ok {
			return fmt.Errorf("container %s is not running", n)
		}
		err := r.provs.Runtime.WaitHealthy(ctx, c, *s.Health)
		var he *providers.HealthError
		if errors.As(err, &he) {
			r.mu.Lock()
			sr.Output = append(sr.Output, he.Logs...)
			r.mu.Unlock()
			return fmt.Errorf("%w; its last log lines:\n    %s", err, strings.Join(tail(he.Logs, 20), "\n    "))
		}
		return err
	})
}

func tail(lines []string, n int) []string {
	if len(lines) > n {
		return lines[len(lines)-n:]
	}
	return lines
}

func (r *run) traffic(ctx context.Context, s *plan.Step) error {
	if r.provs.Router == nil {
		return errors.New("no router is configured: add an nginx block")
	}
	t := s.Traffic
	archive := r.archiving()
	var before []string
	var oldRoute []byte
	if archive {
		var path string
		before, path = r.routedBefore(t.Route.Service)
		oldRoute = readRoute(path)
	}
	if t.Remove {
		return r.unroute(ctx, s, archive, oldRoute, before)
	}
	// The prober starts before a switch of a route that already serves,
	// and after the first routing of a new one (before it nothing answers).
	routed := false
	if ps := r.opts.Prior.Services[t.Route.Service]; ps != nil && ps.RouteFile != "" {
		routed = true
		r.startProber(ctx)
	}
	rf, err := r.route(ctx, t)
	if err != nil {
		return err
	}
	if !routed {
		r.startProber(ctx)
	}
	now := append(append([]string(nil), t.Stable...), t.Candidate...)
	if t.CandidateWeight == 0 {
		now = append([]string(nil), t.Stable...)
	} else if t.CandidateWeight >= 100 {
		now = append([]string(nil), t.Candidate...)
	}
	r.routedNow(t.Route.Service, now)
	if archive {
		r.archiveLeft(ctx, s, t.Route.Service, oldRoute, before, now)
	}
	r.routes[t.Route.Service] = rf
	if svc := r.next.Services[t.Route.Service]; svc != nil {
		svc.RouteFile, svc.RouteChecksum = rf.Path, rf.Actual
		if len(t.Candidate) > 0 && t.CandidateWeight > 0 && t.CandidateWeight < 100 {
			svc.Weights = map[string]int{"stable": 100 - t.CandidateWeight, "candidate": t.CandidateWeight}
		} else {
			svc.Weights = nil
		}
	}
	return nil
}

// unroute removes a service's route (the compensation of its first
// release).
func (r *run) unroute(ctx context.Context, s *plan.Step, archive bool, oldRoute []byte, before []string) error {
	t := s.Traffic
	if err := r.provs.Router.Remove(ctx, t.Route.Project, t.Route.Env, t.Route.Service); err != nil {
		return err
	}
	r.routedNow(t.Route.Service, nil)
	if archive {
		r.archiveLeft(ctx, s, t.Route.Service, oldRoute, before, nil)
	}
	if svc := r.next.Services[t.Route.Service]; svc != nil {
		svc.RouteFile, svc.RouteChecksum = "", ""
	}
	return nil
}

// route makes t's routing live, with the addresses its containers answer
// on. Requests never go to a stopped container: one kept stopped (a
// hotfix's old release, undone) is started again first.
func (r *run) route(ctx context.Context, t *plan.Traffic) (providers.RouteFile, error) {
	var stopped []string
	for _, n := range append(append([]string(nil), t.Stable...), t.Candidate...) {
		if c, ok := r.liveContainer(n); ok && !c.Running() {
			stopped = append(stopped, n)
		}
	}
	if len(stopped) > 0 {
		if err := r.start(ctx, &plan.Step{Kind: plan.KindStart, Names: stopped}); err != nil {
			return providers.RouteFile{}, fmt.Errorf("start the stopped containers it routes to: %w", err)
		}
	}
	spec := t.Route
	var err error
	if spec.Stable, err = r.addrs(ctx, t.Stable); err != nil {
		return providers.RouteFile{}, err
	}
	if spec.Candidate, err = r.addrs(ctx, t.Candidate); err != nil {
		return providers.RouteFile{}, err
	}
	spec.CandidateWeight = t.CandidateWeight
	return r.provs.Router.Apply(ctx, spec)
}

// addrs resolves container names to published addresses.
func (r *run) addrs(ctx context.Context, names []string) ([]string, error) {
	var out []string
	for _, n := range names {
		c, ok := r.live[n]
		if !ok || c.HostAddr == "" {
			if err := r.observe(ctx); err != nil {
				return nil, err
			}
			c, ok = r.live[n]
		}
		if !ok || c.HostAddr == "" {
			return nil, fmt.Errorf("container %s has no published address (is it running?)", n)
		}
		// The state keeps the address requests go to, which a container
		// restarted on another port changed.
		r.setLive(c)
		out = append(out, c.HostAddr)
	}
	sort.Strings(out)
	return out, nil
}

func (r *run) startProber(ctx context.Context) {
	if r.opts.Prober != nil && !r.proberStarted {
		r.proberStarted = true
		r.opts.Prober.Start(ctx)
	}
}

// adopt fills in the ids and addresses of the containers a resumed
// operation started before it paused.
func (r *run) adopt() {
	r.mu.Lock()
	cs := make([]providers.Container, 0, len(r.live))
	for _, c := range r.live {
		cs = append(cs, c)
	}
	r.mu.Unlock()
	for _, c := range cs {
		r.setLive(c)
	}
}

// seconds shows a latency in seconds for people.
func seconds(v float64) string {
	if v != v { // NaN: unknown
		return "-"
	}
	return time.Duration(v * float64(time.Second)).Round(time.Millisecond).String()
}
