package planner_test

import (
	"strings"
	"testing"

	"github.com/slipwayhq/slipway/planner"
	"github.com/slipwayhq/slipway/planner/plan"
	"github.com/slipwayhq/slipway/providers"
	"github.com/slipwayhq/slipway/state"
)

const ctxDigest = "sha256:cccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc"

// TestBuild plans a build first of all, before anything changes, only
// when no image in the engine was built from the context (or with
// ForceBuild); an image built from it before is run as it is.
func TestBuild(t *testing.T) {
	cfg := load(t, serviceHCL(1, "build {\n    context = \".\"\n  }"))
	prior := released(t, load(t, serviceHCL(1, "")))
	obs := world(prior)
	delete(obs.Images, "demo:v1")
	obs.Builds = map[string]providers.BuildObservation{"web": {Context: cfg.Dir, Digest: ctxDigest}}
	p := mustPlan(t, testOpts(), cfg, prior, obs)
	b := p.Steps[0]
	if b.Kind != plan.KindBuild || b.Image.Build.Digest != ctxDigest || b.Image.Build.Tag != "demo:v1" || b.Image.Build.Context != cfg.Dir || b.Image.Build.Dockerfile != "Dockerfile" {
		t.Fatalf("first step %s, image %+v", stepLine(b), b.Image)
	}
	if c := b.Compensation; c == nil || c.Kind != plan.KindTag || c.Image.ID != "" {
		t.Errorf("a build's undo: %+v", c)
	}
	if s := p.Services["web"]; s.ImageID != "" || p.Images["demo:v1"] != "" {
		t.Errorf("the image id of a build to come is pinned: %q", s.ImageID)
	}

	obs.Builds["web"] = providers.BuildObservation{Context: cfg.Dir, Digest: ctxDigest, ImageID: idV1}
	if p := mustPlan(t, testOpts(), cfg, prior, obs); p.Changed() {
		t.Errorf("built from the same context, running: %q", kinds(p))
	}
	opts := testOpts()
	opts.ForceBuild = true
	p = mustPlan(t, opts, cfg, prior, obs)
	if p.Steps[0].Kind != plan.KindBuild || !strings.Contains(p.Steps[0].Detail, "-build") {
		t.Errorf("-build: %q", kinds(p))
	}
	if c := p.Steps[0].Compensation; c.Image.ID != "" {
		t.Errorf("the tag goes back to %q", c.Image.ID)
	}
}

// TestPull pins a pull to the registry's digest and runs it first: for
// an image the engine lacks (pull = "missing"), or for any digest the
// engine has not (pull = "always"); "never" refuses a missing image.
func TestPull(t *testing.T) {
	const d2 = "sha256:dddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddd"
	prior := released(t, load(t, serviceHCL(1, "")))
	cfg := load(t, serviceHCL(1, ""), "version=v9")
	obs := world(prior)
	if _, diags := planner.Plan(t.Context(), testOpts(), cfg, prior, obs); !hasDiag(diags, "Image Not Found") {
		t.Errorf("no image, no registry: %v", diags)
	}
	obs.Remote = map[string]providers.RemoteImage{"demo:v9": {Digest: d2}}
	p := mustPlan(t, testOpts(), cfg, prior, obs)
	if s := p.Steps[0]; s.Kind != plan.KindPull || s.Image.Digest != d2 || s.Image.Ref != "demo:v9" || s.Compensation == nil {
		t.Fatalf("first step %s %+v", stepLine(s), s.Image)
	}
	if got := p.Services["web"].ImageDigest; got != "demo@"+d2 {
		t.Errorf("the snapshot records %q", got)
	}

	always := load(t, serviceHCL(1, `pull = "always"`))
	obs = world(prior)
	obs.Remote = map[string]providers.RemoteImage{"demo:v1": {Digest: d2}}
	p = mustPlan(t, testOpts(), always, prior, obs)
	if p.Steps[0].Kind != plan.KindPull || p.Steps[0].Compensation.Image.ID != idV1 {
		t.Errorf("always, the engine lacks the registry's digest: %q", kinds(p))
	}
	obs.Images["demo@"+d2] = idV1
	if p := mustPlan(t, testOpts(), always, prior, obs); p.Changed() {
		t.Errorf("always, the engine has the registry's digest and runs it: %q", kinds(p))
	}

	never := load(t, serviceHCL(1, `pull = "never"`), "version=v9")
	obs = world(prior)
	obs.Remote = map[string]providers.RemoteImage{"demo:v9": {Digest: d2}}
	if _, diags := planner.Plan(t.Context(), testOpts(), never, prior, obs); !hasDiag(diags, "Image Not Found") {
		t.Errorf("never: %v", diags)
	}
}

// TestRollbackPullsByDigest: the target's image, gone from the engine, is
// pulled by the digest its snapshot recorded and must be its very image
// id; when the registry cannot give it, or no digest was recorded, the
// rollback is refused before anything changes, saying why.
func TestRollbackPullsByDigest(t *testing.T) {
	const d1 = "sha256:eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee"
	src := serviceHCL(1, `blue_green {
    keep_previous = "removed"
  }`)
	s1 := released(t, load(t, src))
	s1.Services["web"].ImageDigest = "demo@" + d1
	cfg2 := load(t, src, "version=v2")
	s2 := settle(mustPlan(t, testOpts(), cfg2, s1, world(s1)), s1)
	obs := world(s2)
	obs.ImageIDs[idV1] = false
	delete(obs.Images, "demo:v1")
	obs.Remote = map[string]providers.RemoteImage{"demo@" + d1: {Digest: d1}}
	p, diags := planner.Rollback(t.Context(), testOpts(), cfg2, s2, s1, obs)
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	pull := p.Steps[0]
	if pull.Kind != plan.KindPull || pull.Image.Digest != d1 || pull.Image.Want != idV1 || pull.Image.Ref != "demo:v1" {
		t.Fatalf("first step %s %+v", stepLine(pull), pull.Image)
	}
	if p.Steps[1].Kind != plan.KindStart {
		t.Errorf("after the pull: %q", kinds(p))
	}

	obs.Remote["demo@"+d1] = providers.RemoteImage{Problem: "manifest unknown"}
	_, diags = planner.Rollback(t.Context(), testOpts(), cfg2, s2, s1, obs)
	if !hasDiag(diags, "Image Of Target Release Is Gone") || !strings.Contains(diags.Error(), "manifest unknown") {
		t.Errorf("registry without it: %v", diags)
	}
	s1.Services["web"].ImageDigest = ""
	_, diags = planner.Rollback(t.Context(), testOpts(), cfg2, s2, s1, obs)
	if !hasDiag(diags, "Image Of Target Release Is Gone") || !strings.Contains(diags.Error(), "no repository digest was recorded") {
		t.Errorf("no digest: %v", diags)
	}
}

// TestImagesFirst: the build and pull steps of every service run before
// any other service's steps, so that a failing one changes nothing.
func TestImagesFirst(t *testing.T) {
	src := strings.Replace(serviceHCL(1, "build {\n    context = \".\"\n  }"), `service "web"`, `service "api" {
  image = "demo:v2"
  port  = 8080
}

service "zweb"`, 1)
	cfg := load(t, src)
	prior := state.New("shop", "")
	obs := world(prior)
	obs.Builds = map[string]providers.BuildObservation{"zweb": {Context: cfg.Dir, Digest: ctxDigest}}
	p := mustPlan(t, testOpts(), cfg, prior, obs)
	if p.Steps[0].Kind != plan.KindBuild || p.Steps[1].Resource != "service.api" {
		t.Fatalf("steps: %q", kinds(p))
	}
	for _, r := range p.Resources {
		for _, i := range r.Steps {
			if p.Steps[i].Resource != r.Address {
				t.Errorf("%s lists step %d of %s", r.Address, i, p.Steps[i].Resource)
			}
		}
	}
}
