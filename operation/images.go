package operation

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"

	"github.com/slipwayhq/slipway/config"
	"github.com/slipwayhq/slipway/internal/buildctx"
	"github.com/slipwayhq/slipway/planner"
	"github.com/slipwayhq/slipway/providers"
	"github.com/slipwayhq/slipway/state"
)

// registryHint is what to do when a registry refuses or cannot be
// reached.
const registryHint = "check that the registry is reachable and that the Docker configuration (~/.docker/config.json, its credential helpers, or DOCKER_AUTH_CONFIG) has credentials it accepts"

// observeImages reads where each service's image can come from: the
// digest of its build context and the image built from it, and what the
// registry holds when its pull policy asks (registries are not asked
// when resuming a paused release, which has its images). A registry
// that refuses ends the plan before anything changes.
func (o *run) observeImages(ctx context.Context, rt providers.Runtime, obs *providers.Observations, kind Kind) error {
	puller, canPull := rt.(providers.ImagePuller)
	for _, svc := range o.cfg.Services {
		if svc.Build != nil {
			if err := o.observeBuild(ctx, rt, svc, obs); err != nil {
				return err
			}
			continue
		}
		_, local := obs.Images[svc.Image]
		if local && canPull {
			if d, err := puller.RepoDigest(ctx, svc.Image); err == nil && d != "" {
				setKey(&obs.RepoDigests, svc.Image, d)
			}
		}
		ask := svc.Pull == "always" || svc.Pull == "missing" && !local
		if !ask || !canPull || kind == KindPromote || kind == KindAbort {
			continue
		}
		digest, err := puller.RemoteDigest(ctx, svc.Image)
		if err != nil {
			return refuse(fmt.Errorf("service.%s: %w", svc.Name, err), registryHint)
		}
		setKey(&obs.Remote, svc.Image, providers.RemoteImage{Digest: digest})
		if svc.Pull == "always" {
			ref, err := planner.RepoDigestRef(svc.Image, digest)
			if err != nil {
				return refuse(fmt.Errorf("service.%s: %w", svc.Name, err), "")
			}
			if id, err := rt.ResolveImage(ctx, ref); err == nil {
				obs.Images[ref] = id
			}
		}
	}
	return nil
}

// observeBuild reads a service's build context and finds the image built
// from it.
func (o *run) observeBuild(ctx context.Context, rt providers.Runtime, svc *config.Service, obs *providers.Observations) error {
	b, ok := rt.(providers.ImageBuilder)
	if !ok {
		return nil // the planner says the image cannot be built
	}
	dir, err := filepath.Abs(o.cfg.Rel(svc.Build.Context))
	if err != nil {
		return refuse(fmt.Errorf("service.%s: %w", svc.Name, err), "")
	}
	digest, err := buildctx.Digest(buildctx.Spec{Dir: dir, Dockerfile: svc.Build.Dockerfile, Args: svc.Build.Args, Target: svc.Build.Target})
	if err != nil {
		return refuse(fmt.Errorf("service.%s: %w", svc.Name, err), "fix the build block's context and dockerfile")
	}
	id, err := b.BuiltImage(ctx, digest)
	if err != nil {
		return refuse(fmt.Errorf("service.%s: %w", svc.Name, err), "")
	}
	setKey(&obs.Builds, svc.Name, providers.BuildObservation{Context: dir, Digest: digest, ImageID: id})
	return nil
}

// observeTargetImages reads, for a rollback to target, whether each
// service's image is in the engine and, when it is not, whether its
// registry still holds the digest the snapshot recorded. A registry that
// does not is a reason the planner gives, not an error here.
func observeTargetImages(ctx context.Context, rt providers.Runtime, target *state.State, obs *providers.Observations) error {
	puller, canPull := rt.(providers.ImagePuller)
	for _, svc := range target.Services {
		ok, err := rt.ImageExists(ctx, svc.ImageID)
		if err != nil {
			return refuse(fmt.Errorf("inspect image %s: %w", svc.ImageID, err), "")
		}
		obs.ImageIDs[svc.ImageID] = ok
		if ok || svc.ImageDigest == "" || !canPull {
			continue
		}
		if id, err := rt.ResolveImage(ctx, svc.Image); err == nil {
			obs.Images[svc.Image] = id
		} else if !errors.Is(err, providers.ErrImageNotFound) {
			return refuse(fmt.Errorf("inspect image %q: %w", svc.Image, err), "")
		}
		ri := providers.RemoteImage{}
		if ri.Digest, err = puller.RemoteDigest(ctx, svc.ImageDigest); err != nil {
			ri.Problem = err.Error()
		}
		setKey(&obs.Remote, svc.ImageDigest, ri)
	}
	return nil
}

// setKey sets m[k] = v, making the map when it is nil.
func setKey[V any](m *map[string]V, k string, v V) {
	if *m == nil {
		*m = map[string]V{}
	}
	(*m)[k] = v
}
