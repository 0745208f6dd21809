package checks

import (
	"context"
	"errors"
	"testing"

	"github.com/slipwayhq/slipway/providers"
)

// fakeRegistry is a runtime that reads digests from a map of references.
type fakeRegistry struct {
	providers.Runtime
	digests map[string]string
	err     error
}

func (f *fakeRegistry) RemoteDigest(_ context.Context, ref string) (string, error) {
	if f.err != nil {
		return "", f.err
	}
	if d, ok := f.digests[ref]; ok {
		return d, nil
	}
	return "", errors.New("read " + ref + " from its registry: manifest unknown: manifest unknown")
}

func (f *fakeRegistry) RepoDigest(context.Context, string) (string, error) { return "", nil }
func (f *fakeRegistry) Pull(context.Context, string, string, func(string)) (string, error) {
	return "", nil
}

// TestRegistry passes when the registry holds the tag (the digest is the
// evidence), and fails with the registry's own message when it refuses
// the credentials or lacks the tag; without a runtime that reads
// registries it is unavailable.
func TestRegistry(t *testing.T) {
	rt := &fakeRegistry{digests: map[string]string{"127.0.0.1:5000/web:v1": "sha256:abc"}}
	r := run1(t, ck("reg", "registry", "image", str("127.0.0.1:5000/web:v1")), Env{Runtime: rt})
	want(t, r, StatusPass, "")
	if r.Evidence != "127.0.0.1:5000/web:v1 is sha256:abc in its registry" {
		t.Errorf("evidence %q", r.Evidence)
	}
	want(t, run1(t, ck("tag", "registry", "image", str("127.0.0.1:5000/web:v9")), Env{Runtime: rt}), StatusFail, "manifest unknown")
	rt.err = errors.New("read 127.0.0.1:5000/web:v1 from its registry: unauthorized: authentication required")
	want(t, run1(t, ck("auth", "registry", "image", str("127.0.0.1:5000/web:v1")), Env{Runtime: rt}), StatusFail, "unauthorized")
	want(t, run1(t, ck("none", "registry", "image", str("web:v1")), Env{}), StatusFail, "not available")
	if err := Validate(ck("bad", "registry")); err == nil {
		t.Error("a registry check without image is valid")
	}
}
