package checks

import (
	"context"
	"errors"
	"fmt"

	"github.com/slipwayhq/slipway/providers"
)

// registrySpec is a registry check: image's registry answers, accepts the
// Docker configuration's credentials, and holds the tag (or digest), read
// without pulling. The evidence is the digest it holds.
type registrySpec struct {
	image string
}

func parseRegistry(a *attrs) runFunc {
	s := registrySpec{image: a.str("image", true)}
	return s.run
}

func (s registrySpec) run(ctx context.Context, env *Env) (string, error) {
	p, ok := env.Runtime.(providers.ImagePuller)
	if !ok {
		return "", fmt.Errorf("%w: no container runtime that reads registries in this run", ErrUnavailable)
	}
	digest, err := p.RemoteDigest(ctx, s.image)
	if err != nil {
		if errors.Is(err, context.DeadlineExceeded) {
			return "", fmt.Errorf("%w: %s", ErrTimeout, s.image)
		}
		return "", err
	}
	return fmt.Sprintf("%s is %s in its registry", s.image, digest), nil
}
