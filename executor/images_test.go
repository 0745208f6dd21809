package executor_test

import (
	"strings"
	"testing"

	"github.com/slipwayhq/slipway/executor"
	"github.com/slipwayhq/slipway/planner/plan"
	"github.com/slipwayhq/slipway/providers"
)

const ctxDigest = "sha256:cccc"

// buildStep builds demo:v2, which named no image before.
func buildStep() *plan.Step {
	return &plan.Step{ID: "service.web.build.1", Resource: "service.web", Kind: plan.KindBuild, Action: plan.Create, Target: "demo:v2",
		Image:        &plan.Image{Service: "web", Ref: "demo:v2", Build: &providers.BuildSpec{Tag: "demo:v2", Context: "/src", Dockerfile: "Dockerfile", Digest: ctxDigest}},
		Compensation: &plan.Step{Kind: plan.KindTag, Action: plan.Update, Target: "demo:v2", Image: &plan.Image{Service: "web", Ref: "demo:v2"}}}
}

// unpinned is the plan of a release whose image a build or pull step
// makes: its containers and its next state name no image id.
func unpinned(first *plan.Step) *plan.Plan {
	start := startStep()
	start.Containers[0].ImageID = ""
	p := newPlan(first, start, healthStep(), switchStep())
	p.Services["web"].ImageID = ""
	p.Services["web"].Containers[0].ImageID = ""
	return p
}

// TestApplyBuilds runs the build first, between its journal entries,
// starts the containers from the image it built, records that id in the
// state, and keeps the build's output in the record.
func TestApplyBuilds(t *testing.T) {
	h := newHarness(t)
	var progress []string
	h.hook.progress = func(s *plan.Step, msg string) { progress = append(progress, s.ID+": "+msg) }
	st, rec, err := h.apply(t.Context(), unpinned(buildStep()))
	if err != nil {
		t.Fatal(err)
	}
	diffLines(t, "events", h.w.Events("observe", "health", "route"), []string{
		"journal open",
		"journal intent service.web.build.1",
		"build demo:v2",
		"journal done service.web.build.1",
		"journal intent service.web.start.1",
		"start " + cand,
		"journal done service.web.start.1",
		"journal intent service.web.health.2",
		"journal done service.web.health.2",
		"journal intent service.web.traffic.3",
		"journal done service.web.traffic.3",
	})
	built, _ := h.w.runtime().ResolveImage(t.Context(), "demo:v2")
	c, _ := h.w.Container(cand)
	if built == "" || c.ImageID != built {
		t.Errorf("container from %q, built %q", c.ImageID, built)
	}
	if web := st.Services["web"]; web.ImageID != built || web.Containers[0].ImageID != built {
		t.Errorf("state image %q (container %q), built %q", web.ImageID, web.Containers[0].ImageID, built)
	}
	if out := strings.Join(rec.Steps[0].Output, "\n"); !strings.Contains(out, "Step 1/1 : FROM scratch") || !strings.Contains(out, "built "+built) {
		t.Errorf("build record output: %q", out)
	}
	if len(progress) != 1 || progress[0] != "service.web.build.1: Step 1/1 : FROM scratch" {
		t.Errorf("progress: %q", progress)
	}
}

// TestApplyBuildFails: a failed build ends the release before anything
// changed (Refused, exit 1), the tag left as it was.
func TestApplyBuildFails(t *testing.T) {
	h := newHarness(t)
	h.w.Fail["build demo:v2"] = errBoom
	_, rec, err := h.apply(t.Context(), unpinned(buildStep()))
	if err == nil || err.Outcome != executor.Refused {
		t.Fatalf("err = %v, want Refused", err)
	}
	for _, e := range h.w.Events() {
		if strings.HasPrefix(e, "start ") || strings.HasPrefix(e, "route ") {
			t.Errorf("after a failed build: %s", e)
		}
	}
	if rec.Result != "failed" {
		t.Errorf("record result %q", rec.Result)
	}
}

// TestApplyUndoesBuildTag: a release that fails after its build rolls
// back, and the tag the build moved goes back with it, after the
// containers that used it.
func TestApplyUndoesBuildTag(t *testing.T) {
	h := newHarness(t)
	h.w.Fail["health "+cand] = errBoom
	_, _, err := h.apply(t.Context(), unpinned(buildStep()))
	if err == nil || err.Outcome != executor.RolledBack {
		t.Fatalf("err = %v, want RolledBack", err)
	}
	ev := h.w.Events("observe", "health", "journal")
	if ev[len(ev)-1] != "tag demo:v2" || ev[len(ev)-2] != "remove "+cand {
		t.Errorf("undo: %q", ev)
	}
	if _, err := h.w.runtime().ResolveImage(t.Context(), "demo:v2"); err == nil {
		t.Error("the tag the build made is still there")
	}
}

// TestApplyPullsTheWantedImage pulls at the pinned digest, and refuses
// an image that is not the one a rollback's release ran.
func TestApplyPullsTheWantedImage(t *testing.T) {
	pull := func(digest, want string) *plan.Step {
		return &plan.Step{ID: "service.web.pull.1", Resource: "service.web", Kind: plan.KindPull, Action: plan.Create, Target: "demo:v2",
			Image:        &plan.Image{Service: "web", Ref: "demo:v2", Digest: digest, Want: want},
			Compensation: &plan.Step{Kind: plan.KindTag, Action: plan.Update, Target: "demo:v2", Image: &plan.Image{Service: "web", Ref: "demo:v2"}}}
	}
	h := newHarness(t)
	digest, id, err := h.w.AddRemote("demo:v2")
	if err != nil {
		t.Fatal(err)
	}
	st, _, xerr := h.apply(t.Context(), unpinned(pull(digest, id)))
	if xerr != nil {
		t.Fatal(xerr)
	}
	if !strings.Contains(strings.Join(h.w.Events(), "\n"), "pull demo@"+digest) || st.Services["web"].ImageID != id {
		t.Errorf("events %q, state image %q", h.w.Events(), st.Services["web"].ImageID)
	}

	h = newHarness(t)
	digest, _, _ = h.w.AddRemote("demo:v2", "overwritten")
	_, _, xerr = h.apply(t.Context(), unpinned(pull(digest, "sha256:the-old-one")))
	if xerr == nil || xerr.Outcome != executor.Refused || !strings.Contains(xerr.Error(), "not sha256:the-old-one") {
		t.Errorf("another image: %v", xerr)
	}
}
