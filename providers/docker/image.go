package docker

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/distribution/reference"
	"github.com/docker/docker/api/types/build"
	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/api/types/image"

	"github.com/slipwayhq/slipway/internal/buildctx"
	"github.com/slipwayhq/slipway/providers"
)

// BuiltImage returns the id of the newest local image labelled
// providers.LabelContextDigest with digest, "" when there is none.
func (d *Docker) BuiltImage(ctx context.Context, digest string) (string, error) {
	list, err := d.cli.ImageList(ctx, image.ListOptions{Filters: filters.NewArgs(filters.Arg("label", providers.LabelContextDigest+"="+digest))})
	if err != nil {
		return "", fmt.Errorf("list images built from context %s: %w", digest, err)
	}
	id, newest := "", int64(-1)
	for _, img := range list {
		if img.Labels[providers.LabelContextDigest] == digest && img.Created > newest {
			id, newest = img.ID, img.Created
		}
	}
	return id, nil
}

// Build packs spec's context (honouring its .dockerignore), refuses it
// when its digest is no longer spec.Digest, and builds it with the
// engine's classic builder, tagged spec.Tag and labelled with the digest.
// Each line of the builder's output goes to progress as it comes.
func (d *Docker) Build(ctx context.Context, spec providers.BuildSpec, progress func(string)) (string, error) {
	tmp, err := os.CreateTemp("", "slipway-build-*.tar")
	if err != nil {
		return "", fmt.Errorf("build %s: %w", spec.Tag, err)
	}
	defer os.Remove(tmp.Name())
	defer tmp.Close()
	digest, err := buildctx.Write(tmp, buildctx.Spec{Dir: spec.Context, Dockerfile: spec.Dockerfile, Args: spec.Args, Target: spec.Target})
	if err != nil {
		return "", fmt.Errorf("build %s: %w", spec.Tag, err)
	}
	if digest != spec.Digest {
		return "", fmt.Errorf("build %s: the build context %s changed since the plan was made (digest %s, planned %s); make a new plan", spec.Tag, spec.Context, short(digest), short(spec.Digest))
	}
	if _, err := tmp.Seek(0, io.SeekStart); err != nil {
		return "", fmt.Errorf("build %s: %w", spec.Tag, err)
	}
	args := map[string]*string{}
	for k, v := range spec.Args {
		args[k] = &v
	}
	resp, err := d.cli.ImageBuild(ctx, tmp, build.ImageBuildOptions{
		Tags: []string{spec.Tag}, Dockerfile: spec.Dockerfile, BuildArgs: args, Target: spec.Target,
		Labels: map[string]string{providers.LabelContextDigest: digest}, Remove: true, ForceRemove: true, Version: build.BuilderV1,
	})
	if err != nil {
		return "", fmt.Errorf("build %s: %w", spec.Tag, err)
	}
	defer resp.Body.Close()
	id, err := readStream(resp.Body, progress)
	if err != nil {
		return "", fmt.Errorf("build %s: %w", spec.Tag, err)
	}
	if id == "" {
		if id, err = d.ResolveImage(ctx, spec.Tag); err != nil {
			return "", fmt.Errorf("build %s: %w", spec.Tag, err)
		}
	}
	return id, nil
}

// streamMessage is one message of the engine's JSON stream of a build or
// a pull.
type streamMessage struct {
	Stream      string                    `json:"stream"`
	Status      string                    `json:"status"`
	ID          string                    `json:"id"`
	Progress    json.RawMessage           `json:"progressDetail"`
	Error       string                    `json:"error"`
	ErrorDetail *struct{ Message string } `json:"errorDetail"`
	Aux         *struct{ ID string }      `json:"aux"`
}

// readStream reads the engine's JSON stream to its end, giving each line
// of output to progress (a pull's byte counts left out), and returns the
// image id an aux message names; an error message in the stream is the
// error.
func readStream(r io.Reader, progress func(string)) (string, error) {
	dec := json.NewDecoder(r)
	id := ""
	for {
		var m streamMessage
		if err := dec.Decode(&m); errors.Is(err, io.EOF) {
			return id, nil
		} else if err != nil {
			return "", fmt.Errorf("read the engine's output: %w", err)
		}
		if m.Error != "" || m.ErrorDetail != nil {
			msg := m.Error
			if msg == "" {
				msg = m.ErrorDetail.Message
			}
			return "", errors.New(strings.TrimSpace(msg))
		}
		if m.Aux != nil && strings.HasPrefix(m.Aux.ID, "sha256:") {
			id = m.Aux.ID
		}
		for _, line := range strings.Split(m.Stream, "\n") {
			if line = strings.TrimRight(line, "\r "); strings.TrimSpace(line) != "" && progress != nil {
				progress(line)
			}
		}
		if m.Status != "" && progress != nil && (len(m.Progress) == 0 || string(m.Progress) == "{}") {
			line := m.Status
			if m.ID != "" {
				line = m.ID + ": " + line
			}
			progress(line)
		}
	}
}

// RemoteDigest returns the manifest digest the registry of ref holds for
// it, asked through the engine (which reaches the registry as a pull
// would) without pulling, with the Docker configuration's credentials.
func (d *Docker) RemoteDigest(ctx context.Context, ref string) (string, error) {
	auth, err := d.registryAuth(ctx, ref)
	if err != nil {
		return "", fmt.Errorf("read %s from its registry: %w", ref, err)
	}
	di, err := d.cli.DistributionInspect(ctx, ref, auth)
	if err != nil {
		return "", fmt.Errorf("read %s from its registry: %s", ref, engineMessage(err))
	}
	return string(di.Descriptor.Digest), nil
}

// engineMessage is the engine's error without the prefix it adds to
// every answer.
func engineMessage(err error) string {
	return strings.TrimPrefix(err.Error(), "Error response from daemon: ")
}

// RepoDigest returns the repository digest of the local image ref in
// ref's repository, "" when it has none. A missing image wraps
// providers.ErrImageNotFound.
func (d *Docker) RepoDigest(ctx context.Context, ref string) (string, error) {
	named, err := reference.ParseNormalizedNamed(ref)
	if err != nil {
		return "", fmt.Errorf("image %q: %w", ref, err)
	}
	img, err := d.cli.ImageInspect(ctx, ref)
	if err != nil {
		if cerrdefs.IsNotFound(err) {
			return "", fmt.Errorf("image %q: %w", ref, providers.ErrImageNotFound)
		}
		return "", fmt.Errorf("inspect image %q: %w", ref, err)
	}
	for _, rd := range img.RepoDigests {
		if n, err := reference.ParseNormalizedNamed(rd); err == nil && n.Name() == named.Name() {
			return reference.FamiliarString(n), nil
		}
	}
	return "", nil
}

// Pull pulls ref's repository at digest with the Docker configuration's
// credentials, tags the image ref, and returns its id.
func (d *Docker) Pull(ctx context.Context, ref, digest string, progress func(string)) (string, error) {
	named, err := reference.ParseNormalizedNamed(ref)
	if err != nil {
		return "", fmt.Errorf("pull %s: %w", ref, err)
	}
	byDigest := reference.FamiliarName(named) + "@" + digest
	auth, err := d.registryAuth(ctx, ref)
	if err != nil {
		return "", fmt.Errorf("pull %s: %w", byDigest, err)
	}
	rc, err := d.cli.ImagePull(ctx, byDigest, image.PullOptions{RegistryAuth: auth})
	if err != nil {
		return "", fmt.Errorf("pull %s: %s", byDigest, engineMessage(err))
	}
	defer rc.Close()
	if _, err := readStream(rc, progress); err != nil {
		return "", fmt.Errorf("pull %s: %w", byDigest, err)
	}
	id, err := d.ResolveImage(ctx, byDigest)
	if err != nil {
		return "", fmt.Errorf("pull %s: %w", byDigest, err)
	}
	if err := d.cli.ImageTag(ctx, id, ref); err != nil {
		return "", fmt.Errorf("pull %s: tag it %s: %w", byDigest, ref, err)
	}
	return id, nil
}

// Tag points ref at the local image id, or with id "" removes the tag ref
// (and the image, when nothing else names or uses it).
func (d *Docker) Tag(ctx context.Context, ref, id string) error {
	if id != "" {
		if err := d.cli.ImageTag(ctx, id, ref); err != nil {
			return fmt.Errorf("tag %s as %s: %w", short(id), ref, err)
		}
		return nil
	}
	if _, err := d.cli.ImageRemove(ctx, ref, image.RemoveOptions{Force: true}); err != nil && !cerrdefs.IsNotFound(err) {
		return fmt.Errorf("remove the tag %s: %w", ref, err)
	}
	return nil
}

// short is an image id or digest cut for people: "sha256:" and 12 hex
// digits.
func short(id string) string {
	if len(id) > 19 && strings.HasPrefix(id, "sha256:") {
		return id[:19]
	}
	return id
}

var (
	_ providers.ImageBuilder = (*Docker)(nil)
	_ providers.ImagePuller  = (*Docker)(nil)
	_ providers.ImageTagger  = (*Docker)(nil)
)
