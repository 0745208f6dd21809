package fake

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"

	"github.com/slipwayhq/slipway/providers"
)

// remoteImage is an image of the fake registry: its manifest digest and
// the image id a pull gives.
type remoteImage struct {
	Digest string
	ID     string
}

// AddRemote puts an image in the fake registry under ref ("name:tag"),
// with a digest and image id that ref and extra make, and returns both.
func (w *World) AddRemote(ref string, extra ...string) (digest, id string, err error) {
	sum := sha256.Sum256([]byte(strings.Join(append([]string{"remote", ref}, extra...), "\n")))
	digest = "sha256:" + hex.EncodeToString(sum[:])
	sum = sha256.Sum256([]byte(digest))
	id = "sha256:" + hex.EncodeToString(sum[:])
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.state.Registry == nil {
		w.state.Registry = map[string]remoteImage{}
	}
	w.state.Registry[ref] = remoteImage{Digest: digest, ID: id}
	return digest, id, w.save()
}

// remote finds ref ("name:tag" or "name@digest") in the registry; w.mu
// is held.
func (w *World) remote(ref string) (remoteImage, bool) {
	name, digest, byDigest := strings.Cut(ref, "@")
	for r, img := range w.state.Registry {
		if !byDigest && r == ref || byDigest && img.Digest == digest && repo(r) == name {
			return img, true
		}
	}
	return remoteImage{}, false
}

// repo is a reference without its tag.
func repo(ref string) string {
	if i := strings.LastIndex(ref, ":"); i >= 0 && !strings.Contains(ref[i:], "/") {
		return ref[:i]
	}
	return ref
}

// BuiltImage returns the id of an image Build made from digest.
func (r *Runtime) BuiltImage(_ context.Context, digest string) (string, error) {
	r.w.mu.Lock()
	defer r.w.mu.Unlock()
	for _, img := range r.w.state.Images {
		if img.Context == digest {
			return img.ID, nil
		}
	}
	return "", nil
}

// Build records an image of spec.Tag, with an id its context digest
// makes, and reports one line of output.
func (r *Runtime) Build(_ context.Context, spec providers.BuildSpec, progress func(string)) (string, error) {
	w := r.w
	w.mu.Lock()
	defer w.mu.Unlock()
	if err := w.change("build "+spec.Tag, "build "+spec.Tag); err != nil {
		return "", err
	}
	sum := sha256.Sum256([]byte("built\n" + spec.Digest))
	id := "sha256:" + hex.EncodeToString(sum[:])
	w.state.Images[spec.Tag] = Image{ID: id, Ports: []int{8080}, Context: spec.Digest}
	if progress != nil {
		progress("Step 1/1 : FROM scratch")
	}
	return id, w.save()
}

// RemoteDigest returns the registry's digest of ref; Fail["registry
// REF"] fails it.
func (r *Runtime) RemoteDigest(_ context.Context, ref string) (string, error) {
	w := r.w
	w.mu.Lock()
	defer w.mu.Unlock()
	w.log = append(w.log, "registry "+ref)
	if err := w.Fail["registry "+ref]; err != nil {
		return "", err
	}
	img, ok := w.remote(ref)
	if !ok {
		return "", fmt.Errorf("read %s from its registry: manifest unknown", ref)
	}
	return img.Digest, nil
}

// RepoDigest returns the repository digest the local image ref was
// pulled with, "" when it was not pulled.
func (r *Runtime) RepoDigest(_ context.Context, ref string) (string, error) {
	r.w.mu.Lock()
	defer r.w.mu.Unlock()
	img, ok := r.w.state.Images[ref]
	if !ok {
		return "", fmt.Errorf("image %q: %w", ref, providers.ErrImageNotFound)
	}
	if img.Digest == "" {
		return "", nil
	}
	return repo(ref) + "@" + img.Digest, nil
}

// Pull makes the registry's image at digest local, under ref and under
// its repository digest.
func (r *Runtime) Pull(_ context.Context, ref, digest string, progress func(string)) (string, error) {
	w := r.w
	w.mu.Lock()
	defer w.mu.Unlock()
	byDigest := repo(ref) + "@" + digest
	if err := w.change("pull "+byDigest, "pull "+ref); err != nil {
		return "", err
	}
	img, ok := w.remote(byDigest)
	if !ok {
		return "", fmt.Errorf("pull %s: manifest unknown", byDigest)
	}
	local := Image{ID: img.ID, Ports: []int{8080}, Digest: digest}
	w.state.Images[ref], w.state.Images[byDigest] = local, local
	if progress != nil {
		progress("Status: Downloaded newer image for " + byDigest)
	}
	return img.ID, w.save()
}

// Tag points ref at the image id, or removes the tag when id is "".
func (r *Runtime) Tag(_ context.Context, ref, id string) error {
	w := r.w
	w.mu.Lock()
	defer w.mu.Unlock()
	if err := w.change(strings.TrimSpace("tag "+ref+" "+id), "tag "+ref); err != nil {
		return err
	}
	if id == "" {
		delete(w.state.Images, ref)
		return w.save()
	}
	for _, img := range w.state.Images {
		if img.ID == id {
			w.state.Images[ref] = img
			return w.save()
		}
	}
	return fmt.Errorf("tag %s: no image %s", ref, id)
}

var (
	_ providers.ImageBuilder = (*Runtime)(nil)
	_ providers.ImagePuller  = (*Runtime)(nil)
	_ providers.ImageTagger  = (*Runtime)(nil)
)
