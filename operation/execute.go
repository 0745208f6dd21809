package operation

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/slipwayhq/slipway/executor"
	"github.com/slipwayhq/slipway/executor/analysis"
	"github.com/slipwayhq/slipway/notify"
	"github.com/slipwayhq/slipway/planner/plan"
	"github.com/slipwayhq/slipway/providers"
	"github.com/slipwayhq/slipway/state"
	"github.com/slipwayhq/slipway/state/local"
	"github.com/slipwayhq/slipway/state/records"
)

// execution is one run of the executor: its record as last written, and
// what its notifications need.
type execution struct {
	p        *plan.Plan
	recDir   string
	recPaths [2]string // json, markdown
	notifier *notify.Notifier
	warnings []string // of the start notification
	started  time.Time
}

// execute runs the executor on p and stores what it returns: the new
// state, its snapshot and the record; it prunes old snapshots and
// backups, and notifies. The Error it returns carries the executor's
// outcome.
func (o *run) execute(ctx context.Context, p *plan.Plan) (Result, error) {
	progress := o.ui.Progress(p)
	defer progress.Close()
	stop, hard, done := o.ui.Interrupts(ctx)
	defer done()
	x := &execution{p: p, recDir: o.backend.RecordsDir(), started: time.Now()}
	opts := o.executorOptions(p, x, stop)
	if o.resumed == nil {
		if err := o.savePlanForResume(p); err != nil {
			return Result{Plan: p}, refuse(fmt.Errorf("keep the plan beside the journal: %w", err), "")
		}
	}
	if len(o.cfg.Notifies) > 0 {
		x.notifier = notify.New(o.cfg.Notifies, notify.Options{})
		x.warnings = x.notifier.Send(ctx, notify.Event{Type: notify.EventStarted, Project: p.Project, Env: p.Env, Release: p.Release,
			PriorRelease: p.PriorRelease, Operation: p.Operation, Who: opts.Who, Time: x.started,
			Summary: fmt.Sprintf("%s of release #%d started", p.Operation, p.Release)})
	}
	// From here a panic leaves the journal for the next plan (exit 3).
	if o.op.Crash != nil {
		o.op.Crash.Started()
	}
	next, rec, err := executor.Apply(hard, p, *o.set, opts, progress)
	if rec != nil && x.notifier != nil {
		// A failed notification never fails a release: it is a warning
		// in the record, which is written again to keep it.
		rec.Warnings = append(rec.Warnings, x.warnings...)
		x.notifier.SendRecord(context.WithoutCancel(ctx), rec, x.recPaths[1])
		x.write(rec)
	}
	res := Result{Plan: p, Record: rec, RecordPath: x.recPaths[1]}
	return res, o.settle(x, progress, next, rec, err)
}

// executorOptions are the executor's inputs for p besides the providers.
func (o *run) executorOptions(p *plan.Plan, x *execution, stop <-chan struct{}) executor.Options {
	opID := uuid.NewString()
	commit := gitCommit(o.cfg.Dir)
	planJSON := o.ui.PlanJSON(p)
	return executor.Options{
		Prior:       o.prior,
		Journal:     o.backend,
		OperationID: opID,
		Who:         who(),
		Stop:        stop,
		AutoApprove: o.op.AutoApprove,
		Approve:     o.ui.Gate(),
		Resume:      o.resumed,
		Abort:       o.op.Kind == KindAbort,
		Continues:   pausedRecord(x.recDir, o.resumed),
		Prober:      o.world.Prober(p),
		Analyzer:    analysis.Analyzer{},
		Checker:     checker{o: o},
		// A rollback (manual, or the undo of a failed release) archives
		// beside its record what the incident review needs.
		ArchiveDir: records.ArchiveDir(x.recDir, recordID(opID, o.resumed)),
		Mask:       o.mask,
		Record: func(r *records.Record) {
			r.GitCommit = commit
			r.Plan = planJSON
			x.write(r)
		},
	}
}

// write writes the record and remembers where, when it could.
func (x *execution) write(r *records.Record) {
	if j, m, err := records.Write(x.recDir, r); err == nil {
		x.recPaths = [2]string{j, m}
	}
}

// settle stores what the executor left and shows how the operation
// ended: the new state, its snapshot and a pruning after a success; the
// state the database keeps after a rollback; the journal kept when the
// world needs a person.
func (o *run) settle(x *execution, progress Progress, next *state.State, rec *records.Record, err error) error {
	p := x.p
	var ee *executor.Error
	if err != nil && !errors.As(err, &ee) {
		ee = &executor.Error{Outcome: executor.NeedsIntervention, Err: err}
	}
	summary := func() { summarize(progress, rec, p, time.Since(x.started), x.recPaths[1]) }
	switch {
	case ee == nil:
		if err := o.store(next); err != nil {
			return &Error{Outcome: executor.NeedsIntervention, Err: err, Hint: "the release is live but its state was not saved; run 'slipway plan' to see the difference"}
		}
		summary()
		return nil
	case ee.Outcome == executor.Paused:
		summary()
		return &Error{Outcome: executor.Paused, Err: fmt.Errorf("release #%d paused at an approval gate (%s)", p.Release, ee.Step),
			Hint: "continue with 'slipway promote', or roll back with 'slipway abort'"}
	}
	if next != nil && next != o.prior {
		// The services were rolled back but the database keeps what was
		// applied: the state records exactly that.
		if err := o.backend.Write(next); err != nil {
			o.ui.Warn(fmt.Errorf("write state: %w", err), "run 'slipway plan' to see the difference")
		}
	}
	if ee.Outcome != executor.NeedsIntervention {
		_ = o.backend.ClearJournal()
	}
	if o.op.Kind == KindAbort && ee.Outcome == executor.RolledBack {
		// An abort asked for exactly this: the paused release undone.
		summary()
		o.ui.Say(fmt.Sprintf("Release #%d was aborted; release #%d is serving.", p.Release, p.PriorRelease))
		return nil
	}
	hint := ""
	switch ee.Outcome {
	case executor.RolledBack:
		hint = fmt.Sprintf("release #%d is still serving; the record is %s", p.PriorRelease, x.recPaths[1])
	case executor.NeedsIntervention:
		hint = "the journal is kept: run 'slipway plan' to see what is left and what to do"
	}
	progress.Failed(ee, hint)
	summary()
	return &Error{Outcome: ee.Outcome, Err: ee, Hint: hint}
}

// summarize shows how the operation ended, when it made a record.
func summarize(progress Progress, rec *records.Record, p *plan.Plan, d time.Duration, recPath string) {
	if rec != nil {
		progress.Summary(rec, p, d, recPath)
	}
}

// store writes the new state and its snapshot, prunes old snapshots and
// backups, and clears the journal.
func (o *run) store(next *state.State) error {
	if err := o.backend.Write(next); err != nil {
		return fmt.Errorf("write state: %w", err)
	}
	executor.Faultpoint("after-state-write")
	if _, err := o.backend.WriteSnapshot(next); err != nil {
		return fmt.Errorf("write snapshot: %w", err)
	}
	executor.Faultpoint("after-snapshot-write")
	if k := o.cfg.Project.Keep; k > 0 {
		_ = o.backend.PruneSnapshots(k)
	}
	for _, db := range o.cfg.Postgres {
		pr, ok := o.set.Databases[db.Name].(providers.BackupPruner)
		if b := db.Backup; ok && b != nil && b.Keep > 0 {
			if _, err := pr.PruneBackups(b.Dir, o.cfg.Project.Name, b.Keep); err != nil {
				o.ui.Warn(fmt.Errorf("postgres.%s: prune backups: %w", db.Name, err), "")
			}
		}
	}
	return o.backend.ClearJournal()
}

// recordID is the id of the operation's record: a resumed operation
// (promote, abort) keeps the one it started with.
func recordID(opID string, resume *state.Journal) string {
	if resume != nil && resume.OperationID != "" {
		return resume.OperationID
	}
	return opID
}

// who names the person or job running slipway.
func who() string {
	name := "unknown"
	if u, err := user.Current(); err == nil {
		name = u.Username
	}
	host, _ := os.Hostname()
	return name + "@" + host
}

// gitCommit is the commit of the configuration directory, if it is in git.
func gitCommit(dir string) string {
	out, err := exec.Command("git", "-C", dir, "rev-parse", "HEAD").Output()
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(out))
}

var (
	_ executor.Analyzer = analysis.Analyzer{}
	_ executor.Journal  = (*local.Backend)(nil)
)
