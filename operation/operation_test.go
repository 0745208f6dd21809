package operation_test

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/hcl/v2"
	"github.com/slipwayhq/slipway/executor"
	"github.com/slipwayhq/slipway/operation"
	"github.com/slipwayhq/slipway/planner/plan"
	"github.com/slipwayhq/slipway/providers/fake"
	"github.com/slipwayhq/slipway/state/records"
)

// ui is an operation.UI that keeps what it is told and answers yes.
type ui struct {
	plans   []*plan.Plan
	asked   []string
	lines   []string
	diags   hcl.Diagnostics
	summary *records.Record
}

func (u *ui) Diagnostics(d hcl.Diagnostics, _ map[string]*hcl.File) { u.diags = append(u.diags, d...) }
func (u *ui) Plan(p *plan.Plan) error                               { u.plans = append(u.plans, p); return nil }
func (u *ui) PlanJSON(*plan.Plan) json.RawMessage                   { return json.RawMessage(`{}`) }
func (u *ui) Confirm(q string) bool                                 { u.asked = append(u.asked, q); return true }
func (u *ui) Gate() func(*plan.Step) bool                           { return nil }
func (u *ui) Progress(*plan.Plan) operation.Progress                { return progress{u} }
func (u *ui) Say(line string)                                       { u.lines = append(u.lines, line) }
func (u *ui) Notice(line string)                                    { u.lines = append(u.lines, line) }
func (u *ui) Warn(err error, _ string)                              { u.lines = append(u.lines, err.Error()) }
func (u *ui) Interrupts(ctx context.Context) (<-chan struct{}, context.Context, func()) {
	return make(chan struct{}), ctx, func() {}
}

type progress struct{ u *ui }

func (progress) StepStarted(*plan.Step)                                {}
func (progress) StepFinished(*plan.Step, time.Duration, error)         {}
func (progress) CompensationStarted(*plan.Step)                        {}
func (progress) CompensationFinished(*plan.Step, time.Duration, error) {}
func (progress) Progress(*plan.Step, string)                           {}
func (progress) Failed(error, string)                                  {}
func (p progress) Summary(r *records.Record, _ *plan.Plan, _ time.Duration, _ string) {
	p.u.summary = r
}
func (progress) Close() {}

// world is a configuration directory of one service and a fake world that
// holds its images.
func world(t *testing.T) (string, *fake.World) {
	t.Helper()
	dir := t.TempDir()
	src := `project "shop" {}

variable "version" {
  type    = string
  default = "v1"
}

service "web" {
  image = "demo:${var.version}"
  port  = 8080
}
`
	if err := os.WriteFile(filepath.Join(dir, "main.hcl"), []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	w := fake.New()
	for _, ref := range []string{"demo:v1", "demo:v2"} {
		if _, err := w.AddImage(ref); err != nil {
			t.Fatal(err)
		}
	}
	return dir, w
}

func run(t *testing.T, w *fake.World, op operation.Operation) (operation.Result, *ui, error) {
	t.Helper()
	u := &ui{}
	op.UI = u
	res, err := operation.Run(t.Context(), op, w.Builder())
	return res, u, err
}

// TestRunApplyThenRead drives whole operations on a fake world: an apply
// confirms, executes and stores the state, a snapshot and a record, which
// history and show then read.
func TestRunApplyThenRead(t *testing.T) {
	dir, w := world(t)
	res, u, err := run(t, w, operation.Operation{Kind: operation.KindApply, Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	if len(u.plans) != 1 || len(u.asked) != 1 || u.summary == nil || u.summary.Result != "succeeded" || res.Record.Release != 1 {
		t.Fatalf("apply: plans %d, asked %q, summary %+v, record %+v", len(u.plans), u.asked, u.summary, res.Record)
	}
	if cs := w.Containers("shop"); len(cs) != 1 || cs[0].Name != "shop-web-r1-1" || !cs[0].Running() {
		t.Fatalf("containers after apply: %+v", cs)
	}
	for _, f := range []string{"state.json", "snapshots/1.json"} {
		if _, err := os.Stat(filepath.Join(dir, ".slipway", f)); err != nil {
			t.Errorf("apply wrote no %s: %v", f, err)
		}
	}

	res, _, err = run(t, w, operation.Operation{Kind: operation.KindHistory, Dir: dir})
	if err != nil || len(res.Records) != 1 || res.Records[0].Operation != "apply" {
		t.Fatalf("history = %+v, %v", res.Records, err)
	}
	res, _, err = run(t, w, operation.Operation{Kind: operation.KindShow, Dir: dir, Release: 1, State: true})
	if err != nil || res.Snapshot == nil || res.Snapshot.Release != 1 {
		t.Fatalf("show -state 1 = %+v, %v", res.Snapshot, err)
	}
	_, _, err = run(t, w, operation.Operation{Kind: operation.KindShow, Dir: dir, Release: 9})
	var oe *operation.Error
	if !errors.As(err, &oe) || oe.Outcome != executor.Refused || oe.Err.Error() != "no record of release #9" || !strings.Contains(oe.Hint, "slipway history") {
		t.Fatalf("show 9 = %v", err)
	}
}

// TestRunStaleSavedPlan: a saved plan applied after the state moved on is
// refused before anything changes, with the hint to plan again.
func TestRunStaleSavedPlan(t *testing.T) {
	dir, w := world(t)
	out := filepath.Join(dir, "first.plan")
	if _, _, err := run(t, w, operation.Operation{Kind: operation.KindPlan, Dir: dir, Out: out}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := run(t, w, operation.Operation{Kind: operation.KindApply, Dir: dir, AutoApprove: true, Vars: []string{"version=v2"}}); err != nil {
		t.Fatal(err)
	}
	_, u, err := run(t, w, operation.Operation{Kind: operation.KindApply, Dir: dir, PlanFile: out})
	var oe *operation.Error
	if !errors.As(err, &oe) || oe.Outcome != executor.Refused || !strings.Contains(oe.Err.Error(), "saved plan is stale: it was made against state lineage \"\", the state now has") ||
		!strings.Contains(oe.Hint, "slipway plan -out "+out) {
		t.Fatalf("apply of a stale plan = %v", err)
	}
	if len(u.plans) != 0 || u.summary != nil {
		t.Errorf("a refused saved plan was shown (%d) or run (%+v)", len(u.plans), u.summary)
	}
	if cs := w.Containers("shop"); len(cs) != 1 || cs[0].Image != "demo:v2" {
		t.Errorf("containers after the refusal: %+v", cs)
	}
}

// TestRunRollbackRecordsTarget: a rollback plans the return to the
// release before, and the record names it.
func TestRunRollbackRecordsTarget(t *testing.T) {
	dir, w := world(t)
	for _, v := range []string{"version=v1", "version=v2"} {
		if _, _, err := run(t, w, operation.Operation{Kind: operation.KindApply, Dir: dir, AutoApprove: true, Vars: []string{v}}); err != nil {
			t.Fatal(err)
		}
	}
	res, _, err := run(t, w, operation.Operation{Kind: operation.KindRollback, Dir: dir, AutoApprove: true, Reason: "p95 over 5s"})
	if err != nil {
		t.Fatal(err)
	}
	if res.Plan.TargetRelease != 1 || res.Record.TargetRelease != 1 || res.Record.Reason != "p95 over 5s" || res.Record.Release != 3 {
		t.Fatalf("rollback plan target %d, record %+v", res.Plan.TargetRelease, res.Record)
	}
}

// TestRunDiagnosticsShown: a configuration with errors is shown through
// the UI and refused with nothing more to say.
func TestRunDiagnosticsShown(t *testing.T) {
	dir, w := world(t)
	if err := os.WriteFile(filepath.Join(dir, "bad.hcl"), []byte("service \"web\" {}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, u, err := run(t, w, operation.Operation{Kind: operation.KindPlan, Dir: dir})
	var oe *operation.Error
	if !errors.As(err, &oe) || oe.Err != nil || oe.Outcome != executor.Refused || !u.diags.HasErrors() {
		t.Fatalf("plan of a bad configuration = %v, diagnostics %v", err, u.diags)
	}
}
