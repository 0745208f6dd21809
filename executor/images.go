package executor

import (
	"context"
	"fmt"
	"strings"

	"github.com/slipwayhq/slipway/planner/plan"
	"github.com/slipwayhq/slipway/providers"
	"github.com/slipwayhq/slipway/state/records"
)

// maxImageLog bounds the lines of a build's or a pull's output a step's
// record keeps.
const maxImageLog = 5000

// imageLog keeps the output of a build or a pull in the step's record
// and shows the lines that say where it is (a build's steps, a pull's
// digest and status) as progress.
func (r *run) imageLog(s *plan.Step, sr *records.StepRecord) func(string) {
	return func(line string) {
		r.mu.Lock()
		if len(sr.Output) < maxImageLog {
			sr.Output = append(sr.Output, line)
		}
		r.mu.Unlock()
		if strings.HasPrefix(line, "Step ") || strings.HasPrefix(line, "Digest: ") || strings.HasPrefix(line, "Status: ") {
			r.hook.Progress(s, line)
		}
	}
}

// build builds a service's image and pins the id it got.
func (r *run) build(ctx context.Context, s *plan.Step, sr *records.StepRecord) error {
	b, ok := r.provs.Runtime.(providers.ImageBuilder)
	if !ok || s.Image == nil || s.Image.Build == nil {
		return fmt.Errorf("the container runtime cannot build %s", s.Target)
	}
	id, err := b.Build(ctx, *s.Image.Build, r.imageLog(s, sr))
	if err != nil {
		return err
	}
	r.pinImage(s.Image, id)
	sr.Output = append(sr.Output, "built "+id)
	return nil
}

// pull pulls a service's image at the digest the plan pinned, checks it
// is the image the plan wants (a rollback's), and pins the id it got.
func (r *run) pull(ctx context.Context, s *plan.Step, sr *records.StepRecord) error {
	p, ok := r.provs.Runtime.(providers.ImagePuller)
	if !ok || s.Image == nil {
		return fmt.Errorf("the container runtime cannot pull %s", s.Target)
	}
	id, err := p.Pull(ctx, s.Image.Ref, s.Image.Digest, r.imageLog(s, sr))
	if err != nil {
		return err
	}
	if w := s.Image.Want; w != "" && id != w {
		return fmt.Errorf("%s at %s is image %s, not %s, the image the release ran; nothing was changed", s.Image.Ref, s.Image.Digest, id, w)
	}
	r.pinImage(s.Image, id)
	sr.Output = append(sr.Output, "pulled "+id)
	return nil
}

// tag points an image reference back at the image it named before a
// build or a pull moved it.
func (r *run) tag(ctx context.Context, s *plan.Step) error {
	t, ok := r.provs.Runtime.(providers.ImageTagger)
	if !ok || s.Image == nil {
		return fmt.Errorf("the container runtime cannot tag %s", s.Target)
	}
	return t.Tag(ctx, s.Image.Ref, s.Image.ID)
}

// pinImage remembers the id an image reference got, for the containers
// and tasks of the release that name it without one, and puts it in the
// next state.
func (r *run) pinImage(img *plan.Image, id string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.images[img.Ref] = id
	if svc := r.next.Services[img.Service]; svc != nil && svc.Image == img.Ref && svc.ImageID == "" {
		svc.ImageID = id
		for i := range svc.Containers {
			if svc.Containers[i].ImageID == "" {
				svc.Containers[i].ImageID = id
			}
		}
	}
}

// pinned returns spec with the image id a build or a pull of this run
// got, when the plan could not pin one.
func (r *run) pinned(spec providers.ContainerSpec) providers.ContainerSpec {
	if spec.ImageID == "" {
		r.mu.Lock()
		spec.ImageID = r.images[spec.Image]
		r.mu.Unlock()
	}
	return spec
}
