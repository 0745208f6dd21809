package cli

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/google/uuid"
	"github.com/slipwayhq/slipway/cmd/slipway/views"
	"github.com/slipwayhq/slipway/config"
	"github.com/slipwayhq/slipway/executor"
	"github.com/slipwayhq/slipway/executor/prober"
	"github.com/slipwayhq/slipway/internal/panics"
	"github.com/slipwayhq/slipway/notify"
	"github.com/slipwayhq/slipway/planner"
	"github.com/slipwayhq/slipway/planner/plan"
	"github.com/slipwayhq/slipway/planner/planfile"
	"github.com/slipwayhq/slipway/providers"
	"github.com/slipwayhq/slipway/providers/nginx"
	"github.com/slipwayhq/slipway/state"
	"github.com/slipwayhq/slipway/state/records"
	"github.com/urfave/cli/v2"
	"golang.org/x/term"
)

func applyCommand(s *streams) *cli.Command {
	return &cli.Command{
		Name:      "apply",
		Usage:     "perform a release: plan it (or take a saved plan), ask, then do it",
		ArgsUsage: "[PLANFILE]",
		Description: `Example:
   slipway apply -var version=1.3.0
   slipway apply -auto-approve release.plan`,
		Flags: append(append(varFlags(), lockFlags()...),
			&cli.BoolFlag{Name: "auto-approve", Usage: "do not ask for 'yes', and pass approval gates"},
			&cli.BoolFlag{Name: "json", Usage: "stream one JSON event per line"},
			&cli.BoolFlag{Name: "no-color", Usage: "never colour the output"},
			&cli.StringFlag{Name: "reason", Usage: "why this release is made (required by the hotfix strategy)"},
			&cli.BoolFlag{Name: "no-watch", Usage: "do not run the services' watch after the release"},
		),
		Action: func(c *cli.Context) error {
			se := newSession(s, c)
			if c.Args().Len() > 1 {
				return fail(1, errors.New("apply takes at most one plan file"), "")
			}
			var p *plan.Plan
			var done func()
			var err error
			if c.Args().Len() == 1 {
				p, done, err = se.savedPlan(c.Context, c.Args().First())
			} else {
				p, done, err = se.makePlan(c.Context, "apply")
			}
			if err != nil {
				return err
			}
			var once sync.Once
			release := func() { once.Do(done) }
			defer release()
			if c.Args().Len() == 0 && !c.Bool("json") {
				if err := se.render(p); err != nil {
					return err
				}
			}
			if !p.Changed() {
				if p.Interrupted != nil {
					_ = se.backend.ClearJournal()
				}
				return nil
			}
			if c.Args().Len() == 0 && !c.Bool("auto-approve") {
				if !se.confirm("Do you want to perform this release? Only 'yes' will be accepted.") {
					return fail(1, errors.New("apply cancelled: nothing was changed"), "")
				}
			}
			if err := se.execute(c.Context, p); err != nil {
				return err
			}
			// A service with a watch block keeps being analysed after the
			// release, with the lock released.
			if c.Bool("json") || c.Bool("no-watch") || !hasWatch(se.cfg) {
				return nil
			}
			release()
			fmt.Fprintln(s.out, "\nWatching the release (stop with Ctrl-C; 'slipway watch' resumes it)...")
			return se.watch(c.Context, 0)
		},
	}
}

// confirm asks a yes/no question on stdin.
func (se *session) confirm(q string) bool {
	fmt.Fprintf(se.s.out, "\n%s\n  Enter a value: ", q)
	line, _ := bufio.NewReader(se.s.in).ReadString('\n')
	fmt.Fprintln(se.s.out)
	return strings.TrimSpace(line) == "yes"
}

// savedPlan loads a plan file and refuses it when the state or the live
// world moved since it was made, or when a sensitive value changed.
func (se *session) savedPlan(ctx context.Context, path string) (*plan.Plan, func(), error) {
	saved, err := planfile.Load(path)
	if err != nil {
		return nil, nil, fail(1, err, "")
	}
	fresh, done, err := se.makePlan(ctx, "apply")
	if err != nil {
		return nil, nil, err
	}
	remake := "make a new plan with 'slipway plan -out " + path + "'"
	stale := func(why, hint string) (*plan.Plan, func(), error) {
		done()
		return nil, nil, fail(1, fmt.Errorf("saved plan is stale: %s; nothing was changed", why), hint)
	}
	// A plan file made before plans kept variable HMACs has none: the
	// checks below still catch what changed, less precisely.
	changedVars := []string(nil)
	if saved.Variables != nil {
		changedVars = planner.ChangedVariables(saved.Variables, fresh.Variables)
	}
	switch {
	case saved.Project != fresh.Project || saved.Env != fresh.Env:
		return stale(fmt.Sprintf("it was made for %s/%s, not %s/%s", saved.Project, saved.Env, fresh.Project, fresh.Env), remake)
	case saved.Lineage != fresh.Lineage:
		return stale(fmt.Sprintf("it was made against state lineage %q, the state now has %q", saved.Lineage, fresh.Lineage), remake)
	case saved.Serial != fresh.Serial:
		return stale(fmt.Sprintf("the state changed since it was made (serial %d, now %d)", saved.Serial, fresh.Serial), remake)
	case len(changedVars) > 0:
		// Other values make other images and settings, which would
		// otherwise show only as a changed live world.
		what := "the value of variable " + changedVars[0] + " is not the one the plan was made with"
		if len(changedVars) > 1 {
			what = "the values of variables " + strings.Join(changedVars, ", ") + " are not the ones the plan was made with"
		}
		return stale(what,
			"apply it with the variable values it was made with (-var, -var-file, SLIPWAY_VAR_*), or "+remake)
	case saved.Observed != fresh.Observed:
		return stale("the live world (containers, nginx files or images) changed since it was made", remake)
	}
	for id, h := range saved.Secrets {
		if fresh.Secrets[id] != h {
			return stale(fmt.Sprintf("the sensitive value %s is not the one the plan was made with", id), remake)
		}
	}
	for id := range fresh.Secrets {
		if _, ok := saved.Secrets[id]; !ok {
			return stale(fmt.Sprintf("the sensitive value %s is new since the plan was made", id), remake)
		}
	}
	planfile.Fill(saved, se.cfg)
	return saved, done, nil
}

// execute runs the executor and stores what it returns: the new state, a
// snapshot and the record.
func (se *session) execute(ctx context.Context, p *plan.Plan) error {
	var hook executor.Hook
	var jsonHook *views.JSONHook
	var textHook *views.TextHook
	if se.c.Bool("json") {
		jsonHook = views.NewJSONHook(se.s.out, Version)
		hook = jsonHook
	} else {
		live, width := liveTerminal(se.s.out)
		textHook = views.NewTextHook(se.s.out, views.Options{Color: colorOK(se.s.out, se.c), Live: live, Width: width})
		textHook.Mask(p)
		defer textHook.Close()
		hook = textHook
	}
	if jsonHook != nil {
		jsonHook.Plan(p)
	}
	stop := make(chan struct{})
	hard, cancel := context.WithCancel(ctx)
	defer cancel()
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	defer signal.Stop(sigs)
	go func() {
		defer panics.Recover()
		n := 0
		for range sigs {
			n++
			if n == 1 {
				fmt.Fprintln(se.s.err, "slipway: interrupt: finishing the current step, then rolling back (interrupt again to stop at once)")
				close(stop)
			} else {
				cancel()
				return
			}
		}
	}()
	opID := uuid.NewString()
	recDir := se.backend.RecordsDir()
	var recPaths [2]string
	commit := gitCommit(se.dir)
	planJSON := planAsJSON(p)
	opts := executor.Options{
		Prior:       se.prior,
		Journal:     se.backend,
		OperationID: opID,
		Who:         who(),
		Stop:        stop,
		AutoApprove: se.c.Bool("auto-approve"),
		Approve:     se.askAtGate(),
		Resume:      se.resume,
		Abort:       se.abort,
		Continues:   pausedRecord(recDir, se.resume),
		Prober:      newProber(p),
		Analyzer:    analyzer{se: se},
		Checker:     checker{se: se},
		// A rollback (manual, or the undo of a failed release) archives
		// beside its record what the incident review needs.
		ArchiveDir: records.ArchiveDir(recDir, recordID(opID, se.resume)),
		Mask:       se.mask,
		Record: func(r *records.Record) {
			r.GitCommit = commit
			r.Plan = planJSON
			j, m, err := records.Write(recDir, r)
			if err == nil {
				recPaths = [2]string{j, m}
			}
		},
	}
	if se.resume == nil {
		if err := se.savePlanForResume(p); err != nil {
			return fail(1, fmt.Errorf("keep the plan beside the journal: %w", err), "")
		}
	}
	started := time.Now()
	var startWarnings []string
	var notifier *notify.Notifier
	if len(se.cfg.Notifies) > 0 {
		notifier = notify.New(se.cfg.Notifies, notify.Options{})
		ev := notify.Event{Type: notify.EventStarted, Project: p.Project, Env: p.Env, Release: p.Release, PriorRelease: p.PriorRelease,
			Operation: p.Operation, Who: opts.Who, Time: started, Summary: fmt.Sprintf("%s of release #%d started", p.Operation, p.Release)}
		startWarnings = notifier.Send(ctx, ev)
	}
	// From here a panic leaves the journal for the next plan (exit 3).
	se.s.crash.started()
	next, rec, err := executor.Apply(hard, p, se.prov, opts, hook)
	if rec != nil && notifier != nil {
		// A failed notification never fails a release: it is a warning
		// in the record, which is written again to keep it.
		rec.Warnings = append(rec.Warnings, startWarnings...)
		notifier.SendRecord(context.WithoutCancel(ctx), rec, recPaths[1])
		if j, m, err := records.Write(recDir, rec); err == nil {
			recPaths = [2]string{j, m}
		}
	}
	var ee *executor.Error
	if err != nil && !errors.As(err, &ee) {
		ee = &executor.Error{Outcome: executor.NeedsIntervention, Err: err}
	}
	if ee != nil && ee.Outcome == executor.Paused {
		se.summary(textHook, jsonHook, rec, p, started, recPaths[1])
		return fail(4, fmt.Errorf("release #%d paused at an approval gate (%s)", p.Release, ee.Step), "continue with 'slipway promote', or roll back with 'slipway abort'")
	}
	if ee == nil {
		if err := se.store(next); err != nil {
			return fail(3, err, "the release is live but its state was not saved; run 'slipway plan' to see the difference")
		}
	} else {
		if next != nil && next != se.prior {
			// The services were rolled back but the database keeps what
			// was applied: the state records exactly that.
			if err := se.backend.Write(next); err != nil {
				printError(se.s.err, fmt.Errorf("write state: %w", err), "run 'slipway plan' to see the difference")
			}
		}
		if ee.Outcome != executor.NeedsIntervention {
			_ = se.backend.ClearJournal()
		}
	}
	if ee == nil {
		se.summary(textHook, jsonHook, rec, p, started, recPaths[1])
		return nil
	}
	if se.abort && ee.Outcome == executor.RolledBack {
		// An abort asked for exactly this: the paused release undone.
		se.summary(textHook, jsonHook, rec, p, started, recPaths[1])
		fmt.Fprintf(se.s.out, "Release #%d was aborted; release #%d is serving.\n", p.Release, p.PriorRelease)
		return nil
	}
	hint := ""
	switch ee.Outcome {
	case executor.RolledBack:
		hint = fmt.Sprintf("release #%d is still serving; the record is %s", p.PriorRelease, recPaths[1])
	case executor.NeedsIntervention:
		hint = "the journal is kept: run 'slipway plan' to see what is left and what to do"
	}
	if jsonHook != nil {
		jsonHook.Diagnostic("error", ee.Error(), hint)
	}
	se.summary(textHook, jsonHook, rec, p, started, recPaths[1])
	return fail(ee.Outcome.ExitCode(), ee, hint)
}

// liveTerminal reports whether apply's progress is redrawn in place: only
// on a terminal that can move its cursor (not TERM=dumb), and its width,
// so that the live line never wraps.
func liveTerminal(w io.Writer) (bool, int) {
	f, ok := w.(*os.File)
	if !ok || !term.IsTerminal(int(f.Fd())) || os.Getenv("TERM") == "dumb" {
		return false, 0
	}
	width, _, err := term.GetSize(int(f.Fd()))
	if err != nil {
		width = 0
	}
	return true, width
}

func (se *session) summary(th *views.TextHook, jh *views.JSONHook, rec *records.Record, p *plan.Plan, started time.Time, recPath string) {
	if rec == nil {
		return
	}
	d := time.Since(started)
	if jh != nil {
		jh.Summary(rec.Result, p.Release, d, rec.Prober)
		return
	}
	th.Summary(rec.Result, p.Release, d, rec.Prober)
	for _, w := range rec.Warnings {
		fmt.Fprintf(se.s.out, "Warning: %s\n", w)
	}
	if recPath != "" {
		fmt.Fprintf(se.s.out, "Record: %s\n", recPath)
	}
}

// store writes the new state, its snapshot, and clears the journal.
func (se *session) store(next *state.State) error {
	if err := se.backend.Write(next); err != nil {
		return fmt.Errorf("write state: %w", err)
	}
	executor.Faultpoint("after-state-write")
	if _, err := se.backend.WriteSnapshot(next); err != nil {
		return fmt.Errorf("write snapshot: %w", err)
	}
	executor.Faultpoint("after-snapshot-write")
	if k := se.cfg.Project.Keep; k > 0 {
		_ = se.backend.PruneSnapshots(k)
	}
	for _, db := range se.cfg.Postgres {
		pr, ok := se.prov.Databases[db.Name].(providers.BackupPruner)
		if b := db.Backup; ok && b != nil && b.Keep > 0 {
			if _, err := pr.PruneBackups(b.Dir, se.cfg.Project.Name, b.Keep); err != nil {
				printError(se.s.err, fmt.Errorf("postgres.%s: prune backups: %w", db.Name, err), "")
			}
		}
	}
	return se.backend.ClearJournal()
}

// recordID is the id of the operation's record: a resumed operation
// (promote, abort) keeps the one it started with.
func recordID(opID string, resume *state.Journal) string {
	if resume != nil && resume.OperationID != "" {
		return resume.OperationID
	}
	return opID
}

// planAsJSON is the plan as the record keeps it (no sensitive values).
func planAsJSON(p *plan.Plan) json.RawMessage {
	var buf bytes.Buffer
	if err := views.PlanJSON(&buf, p); err != nil {
		return nil
	}
	return json.RawMessage(bytes.TrimSpace(buf.Bytes()))
}

// newProber returns the prober that counts failed requests through nginx
// while traffic moves, or nil when no step moves traffic. It probes the
// first routed service, as a browser would: keep-alive GETs, an idempotent
// request retried once when a reused connection was closed under it.
func newProber(p *plan.Plan) executor.Prober {
	for _, s := range p.Steps {
		t := s.Traffic
		// The prober speaks plain HTTP; TLS routes are not probed.
		if s.Kind != plan.KindTraffic || t == nil || t.Remove || t.Route.Listen == 0 || t.Route.TLSCert != "" {
			continue
		}
		host := ""
		if t.Route.ServerName != "_" {
			host = t.Route.ServerName
		}
		return prober.New(prober.Options{
			URL:     fmt.Sprintf("http://127.0.0.1:%d%s", t.Route.Listen, t.Route.Location),
			Host:    host,
			Rate:    50,
			Workers: 2,
			Mode:    prober.Retrying,
			// Marked, so nginx analysis does not count it as traffic.
			Headers: map[string]string{nginx.HeaderProbe: nginx.ProbeValue},
		})
	}
	return nil
}

// askAtGate returns the question slipway asks at an approval gate when it
// runs on a terminal; without one, a gate pauses the release (exit 4).
func (se *session) askAtGate() func(s *plan.Step) bool {
	f, ok := se.s.in.(*os.File)
	if !ok || !term.IsTerminal(int(f.Fd())) || se.c.Bool("json") {
		return nil
	}
	return func(s *plan.Step) bool {
		return se.confirm(fmt.Sprintf("%s. Continue? Only 'yes' continues; anything else pauses here (then 'slipway promote' or 'slipway abort').", s.Detail))
	}
}

// hasWatch reports whether a service of cfg has a watch block.
func hasWatch(cfg *config.Config) bool {
	for _, svc := range cfg.Services {
		if svc.Watch != nil {
			return true
		}
	}
	return false
}
