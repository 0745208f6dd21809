package planner

import (
	"fmt"
	"path/filepath"
	"strings"

	"github.com/distribution/reference"
	"github.com/hashicorp/hcl/v2"
	"github.com/slipwayhq/slipway/config"
	"github.com/slipwayhq/slipway/planner/plan"
	"github.com/slipwayhq/slipway/providers"
	"github.com/slipwayhq/slipway/state"
)

// image is where a service's image comes from in a release: the id it
// runs ("" until the step that gets it has run), the repository digest
// the snapshot records, and that step (nil when the image is in the
// engine already).
type image struct {
	id     string
	digest string
	step   *plan.Step
}

// serviceImage decides where svc's image comes from: its build (built
// again only when no local image carries its context's digest, or with
// ForceBuild), else the engine or its registry as svc.Pull says. A pull
// is pinned to the digest the registry held when planning.
func serviceImage(opts Options, cfg *config.Config, svc *config.Service, obs *providers.Observations) (image, hcl.Diagnostics) {
	local, isLocal := obs.Images[svc.Image]
	if b := svc.Build; b != nil {
		bo, ok := obs.Builds[svc.Name]
		if !ok {
			return image{}, imageDiag(svc, "Image Cannot Be Built", fmt.Sprintf("Service %q builds its image, but the container runtime cannot build images.", svc.Name))
		}
		if bo.ImageID != "" && !opts.ForceBuild {
			return image{id: bo.ImageID}, nil
		}
		why := "no image in the engine was built from this context"
		if bo.ImageID != "" {
			why = "-build"
		}
		rel := b.Context
		if r, err := filepath.Rel(opts.ConfigDir, bo.Context); err == nil && filepath.IsLocal(r) {
			rel = r
		}
		spec := &providers.BuildSpec{Tag: svc.Image, Context: bo.Context, Dockerfile: b.Dockerfile, Args: b.Args, Target: b.Target, Digest: bo.Digest}
		return image{step: &plan.Step{Kind: plan.KindBuild, Action: plan.Create, Provider: "docker", Target: svc.Image,
			Detail:       fmt.Sprintf("%s from %s (context %s; %s)", svc.Image, rel, short(bo.Digest), why),
			Image:        &plan.Image{Service: svc.Name, Ref: svc.Image, Build: spec},
			Compensation: tagBack(svc.Name, svc.Image, local)}}, nil
	}
	remote, asked := obs.Remote[svc.Image]
	switch {
	case svc.Pull == "always" && asked:
		byDigest, err := repoDigest(svc.Image, remote.Digest)
		if err != nil {
			return image{}, imageDiag(svc, "Invalid Image Reference", err.Error())
		}
		if id, ok := obs.Images[byDigest]; ok {
			return image{id: id, digest: byDigest}, nil
		}
		return pullImage(svc, byDigest, remote.Digest, local), nil
	case isLocal:
		return image{id: local, digest: obs.RepoDigests[svc.Image]}, nil
	case svc.Pull != "never" && asked:
		byDigest, err := repoDigest(svc.Image, remote.Digest)
		if err != nil {
			return image{}, imageDiag(svc, "Invalid Image Reference", err.Error())
		}
		return pullImage(svc, byDigest, remote.Digest, ""), nil
	case svc.Pull == "never":
		return image{}, imageDiag(svc, "Image Not Found", fmt.Sprintf("The image %q of service %q is not in the Docker engine, and its pull is \"never\"; build or load it first, or let slipway pull it (pull = \"missing\").", svc.Image, svc.Name))
	}
	return image{}, imageDiag(svc, "Image Not Found", fmt.Sprintf("The image %q of service %q is not in the Docker engine, and the container runtime cannot pull it; build or load it first.", svc.Image, svc.Name))
}

// pullImage is the image of a pull step: ref pulled at digest, its tag
// set back to prev (none when "") if the release fails.
func pullImage(svc *config.Service, byDigest, digest, prev string) image {
	return image{digest: byDigest, step: &plan.Step{Kind: plan.KindPull, Action: plan.Create, Provider: "docker", Target: svc.Image,
		Detail:       fmt.Sprintf("%s at %s (the registry's digest when planned)", svc.Image, short(digest)),
		Image:        &plan.Image{Service: svc.Name, Ref: svc.Image, Digest: digest},
		Compensation: tagBack(svc.Name, svc.Image, prev)}}
}

// tagBack is the undo of a build or a pull that tagged ref: ref names
// prev again, or no image when prev is "".
func tagBack(service, ref, prev string) *plan.Step {
	detail := fmt.Sprintf("tag %s back to %s", ref, short(prev))
	if prev == "" {
		detail = fmt.Sprintf("remove the tag %s", ref)
	}
	return &plan.Step{Kind: plan.KindTag, Action: plan.Update, Provider: "docker", Target: ref, Detail: detail,
		Image: &plan.Image{Service: service, Ref: ref, ID: prev}}
}

// repoDigest is ref's repository at digest: "registry/name@sha256:...".
func repoDigest(ref, digest string) (string, error) {
	named, err := reference.ParseNormalizedNamed(ref)
	if err != nil {
		return "", fmt.Errorf("the image %q is not a valid reference: %w", ref, err)
	}
	return reference.FamiliarName(named) + "@" + digest, nil
}

// RepoDigestRef is ref's repository at digest ("registry/name@sha256:..."),
// the reference an operation resolves to find an image pulled before.
func RepoDigestRef(ref, digest string) (string, error) { return repoDigest(ref, digest) }

func imageDiag(svc *config.Service, summary, detail string) hcl.Diagnostics {
	return hcl.Diagnostics{{Severity: hcl.DiagError, Summary: summary, Detail: detail, Subject: svc.DeclRange.Ptr()}}
}

// imagesFirst moves the build and pull steps before every other step,
// keeping their order and each resource's step indexes right: the images
// are ready before anything changes (an app's migration task runs from
// its new image), and a build or pull that fails ends the release with
// nothing changed.
func imagesFirst(p *plan.Plan) {
	var first, rest []int
	for i, s := range p.Steps {
		if s.Kind == plan.KindBuild || s.Kind == plan.KindPull {
			first = append(first, i)
		} else {
			rest = append(rest, i)
		}
	}
	if len(first) == 0 {
		return
	}
	order := append(first, rest...)
	at := make(map[int]int, len(order))
	steps := make([]*plan.Step, len(order))
	for to, from := range order {
		at[from] = to
		steps[to] = p.Steps[from]
	}
	p.Steps = steps
	for _, r := range p.Resources {
		for i, idx := range r.Steps {
			r.Steps[i] = at[idx]
		}
	}
}

// pullBack is the step that gets the image a rollback's target ran, when
// the engine no longer has it: pulled by the repository digest the
// snapshot recorded, and required to be the very image id it ran. When
// that cannot be, the diagnostic says why before anything changes.
func pullBack(svc *config.Service, ts *state.Service, obs *providers.Observations) (*plan.Step, hcl.Diagnostics) {
	gone := fmt.Sprintf("Release #%d of service %q ran image %s (%s), which is no longer in the Docker engine", ts.Release, svc.Name, ts.Image, short(ts.ImageID))
	fail := func(why string) (*plan.Step, hcl.Diagnostics) {
		return nil, imageDiag(svc, "Image Of Target Release Is Gone", gone+", and "+why+"; nothing was changed. Load or build that image again, or roll back to another release.")
	}
	if ts.ImageDigest == "" {
		return fail("no repository digest was recorded for it (it was built or loaded here, never pulled or pushed), so it cannot be pulled")
	}
	_, digest, _ := strings.Cut(ts.ImageDigest, "@")
	remote, ok := obs.Remote[ts.ImageDigest]
	switch {
	case !ok:
		return fail(fmt.Sprintf("the container runtime cannot pull %s", ts.ImageDigest))
	case remote.Problem != "":
		return fail(fmt.Sprintf("pulling %s is not possible: %s", ts.ImageDigest, remote.Problem))
	}
	return &plan.Step{Kind: plan.KindPull, Action: plan.Create, Provider: "docker", Target: ts.Image,
		Detail:       fmt.Sprintf("%s at %s, the digest release #%d recorded (image %s)", ts.Image, short(digest), ts.Release, short(ts.ImageID)),
		Image:        &plan.Image{Service: svc.Name, Ref: ts.Image, Digest: digest, Want: ts.ImageID},
		Compensation: tagBack(svc.Name, ts.Image, obs.Images[ts.Image])}, nil
}
