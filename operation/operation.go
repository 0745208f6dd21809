package operation

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/hashicorp/hcl/v2"
	"github.com/slipwayhq/slipway/checks"
	"github.com/slipwayhq/slipway/config"
	"github.com/slipwayhq/slipway/executor"
	"github.com/slipwayhq/slipway/planner/plan"
	"github.com/slipwayhq/slipway/providers"
	"github.com/slipwayhq/slipway/state"
	"github.com/slipwayhq/slipway/state/local"
	"github.com/slipwayhq/slipway/state/records"
)

// Kind is what an operation does.
type Kind int

// The kinds of operation.
const (
	KindInvalid     Kind = iota
	KindPlan             // show what a release would do; save it with Out
	KindApply            // plan (or read PlanFile), confirm, execute, then watch
	KindRollback         // return to Target (default: the release before)
	KindPromote          // continue a release paused at an approval gate
	KindAbort            // undo a release paused at an approval gate
	KindWatch            // analyse the live release, roll it back on a fail verdict
	KindCheck            // run the check blocks of one phase now
	KindStatus           // what runs now, and whether a release is degraded
	KindHistory          // the records of every operation
	KindShow             // the record (or, with State, the snapshot) of Release
	KindForceUnlock      // clear lock info a dead slipway left
	KindResolve          // mark a dirty migration applied or pending
)

var kindNames = [...]string{"invalid", "plan", "apply", "rollback", "promote", "abort", "watch", "check", "status", "history", "show", "force-unlock", "db resolve"}

// String names the kind as the command does; the state lock records it.
func (k Kind) String() string {
	if k < 0 || int(k) >= len(kindNames) {
		return "invalid"
	}
	return kindNames[k]
}

// Operation is one operation to run: what the command's flags and
// arguments said, as plain data.
type Operation struct {
	Kind Kind
	// Dir is the configuration directory (-chdir); Env the state
	// namespace (-env), which also loads Env.vars.hcl.
	Dir string
	Env string
	// Vars and VarFiles are -var and -var-file, in command-line order.
	Vars     []string
	VarFiles []string
	// LockTimeout is how long to wait for the state lock.
	LockTimeout time.Duration

	// PlanFile is, for apply, the saved plan to apply ("" plans anew);
	// Out is, for plan, where to save the plan made.
	PlanFile string
	Out      string
	// Target is, for rollback, a release number or a version ("" is the
	// release before the current one).
	Target string
	// Reason is why (-reason, rollback -m); the record keeps it.
	Reason string
	// RestoreDB, NoVerify and DryRun are rollback's -restore-db,
	// -no-verify and -dry-run.
	RestoreDB bool
	NoVerify  bool
	DryRun    bool
	// Build builds the image of every service with a build block, even
	// when one built from the same context is in the engine (apply
	// -build).
	Build bool
	// AutoApprove skips the confirmation, and passes approval gates.
	AutoApprove bool
	// Watch runs the services' watch after a successful apply.
	Watch bool
	// Duration is, for watch, how long to watch instead of each watch
	// block's duration (0: the blocks' own).
	Duration time.Duration

	// Check says which checks a check operation runs.
	Check CheckOptions
	// Release and State are show's: the release whose record (or, with
	// State, snapshot) to read.
	Release int
	State   bool
	// LockID and Unreadable are force-unlock's: the lock id to clear, or
	// clear lock info that does not parse.
	LockID     string
	Unreadable bool
	// Database, Migration and Applied are db resolve's: the postgres
	// block ("" when there is one), the migration and what it is now.
	Database  string
	Migration string
	Applied   bool

	// UI shows what the operation does; Crash, when set, learns what a
	// report of a crash needs.
	UI    UI
	Crash Crash
}

// CheckOptions select and run the checks of a check operation.
type CheckOptions struct {
	Phase     string   // pre, preview, post or all
	Skip      []string // leave out checks with these tags
	Quick     bool     // leave out checks tagged checks.SlowTag
	Strict    bool     // any failure is critical
	Candidate string   // the URL {{candidate.url}} stands for
	Parallel  int      // at most this many at once (0: the default)
}

// World builds the providers a configuration declares: providers/factory
// the real ones, a test a fake world. Each builder touches nothing until
// its provider is used.
type World interface {
	Runtime(cfg *config.Config) (providers.Runtime, error)
	// Router returns nil, nil when the configuration declares none.
	Router(cfg *config.Config) (providers.Router, error)
	Database(cfg *config.Config, name string) (providers.Database, error)
	// Prober returns what counts failed requests through the router while
	// p moves traffic, or nil for none.
	Prober(p *plan.Plan) executor.Prober
}

// UI is how an operation talks to people. Implementations decide the
// format (text, JSON, markdown); methods are called from the operation's
// goroutine, except Say, which a watch calls from one goroutine at a time.
type UI interface {
	// Diagnostics shows problems of the configuration or of planning,
	// with source lines from files.
	Diagnostics(diags hcl.Diagnostics, files map[string]*hcl.File)
	// Plan shows a plan: the one made, before it is confirmed or
	// applied.
	Plan(p *plan.Plan) error
	// PlanJSON is the plan as its record keeps it: the documented JSON
	// schema, without sensitive values; nil for none.
	PlanJSON(p *plan.Plan) json.RawMessage
	// Confirm asks question and reports whether the answer was yes.
	Confirm(question string) bool
	// Gate returns what to ask at an approval gate, or nil to pause
	// there (exit 4) as without a terminal.
	Gate() func(s *plan.Step) bool
	// Progress starts showing p being performed.
	Progress(p *plan.Plan) Progress
	// Interrupts listens for interrupts while changes are made: stop is
	// closed at the first (finish the step, then roll back), hard ends at
	// the second (stop at once, journal kept); done stops listening.
	Interrupts(ctx context.Context) (stop <-chan struct{}, hard context.Context, done func())
	// Say shows a line of what happens: a watch's windows, what it
	// watches.
	Say(line string)
	// Notice shows a line apart from the results (stderr).
	Notice(line string)
	// Warn shows a problem that does not stop the operation.
	Warn(err error, hint string)
}

// Progress shows one execution: the executor's hook, then how it ended.
type Progress interface {
	executor.Hook
	// Failed tells why the operation failed, before the summary.
	Failed(err error, hint string)
	// Summary tells how the operation ended: its record (nil when none
	// was made), how long it took, and where the record is ("" when it
	// was not written).
	Summary(rec *records.Record, p *plan.Plan, d time.Duration, recordPath string)
	// Close ends the display.
	Close()
}

// Crash learns, as the operation goes, what a report of a crash (a panic
// anywhere in the process) needs: where the records are, how to mask
// sensitive values, and whether the world started changing.
type Crash interface {
	Opened(b *local.Backend)
	Masking(mask func(string) string)
	Started()
}

// Result is what an operation did, for the command to render.
type Result struct {
	// Plan is the plan made, applied or rolled back to.
	Plan *plan.Plan
	// Record and RecordPath are the record of an execution and its
	// markdown file.
	Record     *records.Record
	RecordPath string
	// Watched is the release a watch watched.
	Watched int
	// Status is what status saw.
	Status *Status
	// Checks are a check operation's results, one per check of the
	// phase in declaration order, and CheckCode its exit code (0 passed,
	// 1 only warnings failed, 2 a critical one, or any under Strict).
	Checks    []checks.Result
	CheckCode int
	// Records are history's (oldest first), and show's one.
	Records []*records.Record
	// Snapshot is show -state's.
	Snapshot *state.State
}

// Error is an operation that did not succeed: what failed, what to do
// next, and the outcome it left the world in. Err is nil when the UI
// already showed why (diagnostics).
type Error struct {
	Outcome executor.Outcome
	Err     error
	Hint    string
}

// Error is the message of Err, or the outcome's name when the UI showed
// why.
func (e *Error) Error() string {
	if e.Err == nil {
		return e.Outcome.String()
	}
	return e.Err.Error()
}

// Unwrap returns Err.
func (e *Error) Unwrap() error { return e.Err }

// refuse is an error before anything changed (exit 1).
func refuse(err error, hint string) error {
	return &Error{Outcome: executor.Refused, Err: err, Hint: hint}
}

// shown is an error the UI already showed (diagnostics).
var shown = &Error{Outcome: executor.Refused}

// Run performs op against the providers world builds, and returns what
// it did, or an *Error (any other error means an internal failure: exit
// 1).
func Run(ctx context.Context, op Operation, world World) (Result, error) {
	o := &run{op: op, world: world, ui: op.UI}
	switch op.Kind {
	case KindPlan:
		return o.plan(ctx)
	case KindApply:
		return o.apply(ctx)
	case KindRollback:
		return o.rollback(ctx)
	case KindPromote, KindAbort:
		return o.resume(ctx)
	case KindWatch:
		return o.watch(ctx, op.Duration)
	case KindCheck:
		return o.check(ctx)
	case KindStatus:
		return o.status(ctx)
	case KindHistory, KindShow:
		return o.records()
	case KindForceUnlock:
		return Result{}, o.forceUnlock()
	case KindResolve:
		return Result{}, o.resolve(ctx)
	}
	return Result{}, refuse(fmt.Errorf("unknown operation %v", op.Kind), "")
}
