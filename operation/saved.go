package operation

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/slipwayhq/slipway/planner"
	"github.com/slipwayhq/slipway/planner/plan"
	"github.com/slipwayhq/slipway/planner/planfile"
	"github.com/slipwayhq/slipway/state"
	"github.com/slipwayhq/slipway/state/local"
	"github.com/slipwayhq/slipway/state/records"
)

// savedPlan reads a plan file and refuses it when the state or the live
// world moved since it was made, or when a variable or a sensitive value
// changed. The returned func releases the lock and the providers.
func (o *run) savedPlan(ctx context.Context, path string) (*plan.Plan, func(), error) {
	saved, err := planfile.Load(path)
	if err != nil {
		return nil, nil, refuse(err, "")
	}
	fresh, release, err := o.makePlan(ctx, KindApply)
	if err != nil {
		return nil, nil, err
	}
	if why, hint := stale(saved, fresh, path); why != "" {
		release()
		return nil, nil, refuse(fmt.Errorf("saved plan is stale: %s; nothing was changed", why), hint)
	}
	planfile.Fill(saved, o.cfg)
	return saved, release, nil
}

// stale says why the saved plan no longer applies, compared with the plan
// made now, and what to do; "" when it applies.
func stale(saved, fresh *plan.Plan, path string) (why, hint string) {
	remake := "make a new plan with 'slipway plan -out " + path + "'"
	// A plan file made before plans kept variable HMACs has none: the
	// checks below still catch what changed, less precisely.
	var changedVars []string
	if saved.Variables != nil {
		changedVars = planner.ChangedVariables(saved.Variables, fresh.Variables)
	}
	switch {
	case saved.Project != fresh.Project || saved.Env != fresh.Env:
		return fmt.Sprintf("it was made for %s/%s, not %s/%s", saved.Project, saved.Env, fresh.Project, fresh.Env), remake
	case saved.Lineage != fresh.Lineage:
		return fmt.Sprintf("it was made against state lineage %q, the state now has %q", saved.Lineage, fresh.Lineage), remake
	case saved.Serial != fresh.Serial:
		return fmt.Sprintf("the state changed since it was made (serial %d, now %d)", saved.Serial, fresh.Serial), remake
	case len(changedVars) > 0:
		// Other values make other images and settings, which would
		// otherwise show only as a changed live world.
		what := "the value of variable " + changedVars[0] + " is not the one the plan was made with"
		if len(changedVars) > 1 {
			what = "the values of variables " + strings.Join(changedVars, ", ") + " are not the ones the plan was made with"
		}
		return what, "apply it with the variable values it was made with (-var, -var-file, SLIPWAY_VAR_*), or " + remake
	case movedImage(saved, fresh) != "":
		return movedImage(saved, fresh), remake
	case saved.Observed != fresh.Observed:
		return "the live world (containers, nginx files or images) changed since it was made", remake
	}
	for id, h := range saved.Secrets {
		if fresh.Secrets[id] != h {
			return fmt.Sprintf("the sensitive value %s is not the one the plan was made with", id), remake
		}
	}
	for id := range fresh.Secrets {
		if _, ok := saved.Secrets[id]; !ok {
			return fmt.Sprintf("the sensitive value %s is new since the plan was made", id), remake
		}
	}
	return "", ""
}

// resume continues (promote) or undoes (abort) the operation whose
// journal and plan an approval gate left in the state directory.
func (o *run) resume(ctx context.Context) (Result, error) {
	what := o.op.Kind.String()
	fresh, release, err := o.makePlan(ctx, o.op.Kind)
	if err != nil {
		return Result{}, err
	}
	defer release()
	j, err := o.backend.ReadJournal()
	if err != nil {
		return Result{}, refuse(fmt.Errorf("read journal: %w", err), "")
	}
	if j == nil {
		return Result{}, refuse(errors.New("no release is paused: there is nothing to "+what), "run 'slipway plan' to see the state of things")
	}
	p, err := planfile.Load(filepath.Join(o.backend.Dir(), local.JournalPlanFile))
	if err != nil {
		return Result{}, refuse(fmt.Errorf("the paused release's plan: %w", err), "run 'slipway rollback' to return to the last finished release")
	}
	if p.Lineage != fresh.Lineage || p.Serial != fresh.Serial {
		return Result{}, refuse(fmt.Errorf("the state changed since release #%d paused (serial %d, now %d)", p.Release, p.Serial, fresh.Serial), "run 'slipway rollback' to return to the last finished release")
	}
	key, _ := o.backend.SecretKey()
	secrets := planner.SecretHMACs(key, o.cfg)
	for id, h := range p.Secrets {
		if secrets[id] != h {
			return Result{}, refuse(fmt.Errorf("the sensitive value %s is not the one release #%d was started with", id, p.Release), "give the same values as the paused apply, or run 'slipway abort' with them")
		}
	}
	planfile.Fill(p, o.cfg)
	o.resumed = j
	return o.execute(ctx, p)
}

// savePlanForResume keeps the plan beside the journal, so that promote and
// abort can continue exactly it.
func (o *run) savePlanForResume(p *plan.Plan) error {
	var buf bytes.Buffer
	if err := planfile.Write(&buf, p); err != nil {
		return err
	}
	_, err := o.backend.SaveJournalPlan(buf.Bytes())
	return err
}

// pausedRecord returns the record the paused operation j wrote, for the
// resumed operation's record to continue; nil when there is no paused
// operation or its record cannot be read (the new record then starts
// empty).
func pausedRecord(dir string, j *state.Journal) *records.Record {
	if j == nil {
		return nil
	}
	recs, err := records.List(dir)
	if err != nil {
		return nil
	}
	for _, r := range recs {
		if r.ID == j.OperationID {
			return r
		}
	}
	return nil
}

// movedImage says which image the saved plan pinned is another now: a
// tag its registry moved since the plan pulled it at a digest, or a build
// context that changed; "" when none did.
func movedImage(saved, fresh *plan.Plan) string {
	now := map[string]*plan.Image{}
	for _, s := range fresh.Steps {
		if s.Image != nil && (s.Kind == plan.KindPull || s.Kind == plan.KindBuild) {
			now[s.Image.Ref] = s.Image
		}
	}
	for _, s := range saved.Steps {
		img, f := s.Image, now[s.Target]
		switch {
		case img == nil || f == nil:
		case s.Kind == plan.KindPull && f.Digest != img.Digest:
			return fmt.Sprintf("the registry's %s is %s now, not %s that the plan pinned", img.Ref, f.Digest, img.Digest)
		case s.Kind == plan.KindBuild && f.Build != nil && img.Build != nil && f.Build.Digest != img.Build.Digest:
			return fmt.Sprintf("the build context of %s changed since the plan was made (digest %s, planned %s)", img.Ref, f.Build.Digest, img.Build.Digest)
		}
	}
	return ""
}
