package providers

import "context"

// LabelContextDigest is the label of an image slipway built: the digest
// of the build context it was built from (files, Dockerfile, arguments
// and target), by which a later plan finds it instead of building again.
const LabelContextDigest = "io.slipway.context-digest"

// BuildSpec is what a runtime needs to build one image.
type BuildSpec struct {
	// Tag is the reference the image is tagged with: the service's image.
	Tag string
	// Context is the absolute directory sent to the engine, without what
	// its .dockerignore leaves out; Dockerfile is a path inside it.
	Context    string
	Dockerfile string
	Args       map[string]string `json:",omitempty"`
	Target     string            `json:",omitempty"`
	// Digest is the context's digest when the plan was made; the image is
	// labelled with it, and a context whose digest is now another is
	// refused.
	Digest string
}

// ImageBuilder is a Runtime that builds images from source. It is
// optional: without it, a service with a build block cannot be planned.
type ImageBuilder interface {
	// BuiltImage returns the id of a local image labelled
	// LabelContextDigest with digest, "" when there is none.
	BuiltImage(ctx context.Context, digest string) (string, error)
	// Build builds spec, tags it spec.Tag and labels it with spec.Digest,
	// and returns its image id. progress receives each line of the
	// builder's output as it comes. A failed build returns the builder's
	// own message; the tag is then left as it was.
	Build(ctx context.Context, spec BuildSpec, progress func(line string)) (string, error)
}

// ImagePuller is a Runtime that reads image digests from registries and
// pulls from them, with the credentials of the Docker configuration
// (never printed, stored or put in an error). It is optional: without it,
// an image the engine lacks cannot be planned.
type ImagePuller interface {
	// RemoteDigest returns the manifest digest ("sha256:...") the registry
	// of ref holds for it (ref names a tag or a digest), without pulling.
	// An error carries the registry's own message.
	RemoteDigest(ctx context.Context, ref string) (string, error)
	// RepoDigest returns the repository digest ("name@sha256:...") of the
	// local image ref in ref's repository, "" when it has none (it was
	// built here and never pushed or pulled).
	RepoDigest(ctx context.Context, ref string) (string, error)
	// Pull pulls ref's repository at digest, tags the image ref and
	// returns its id. progress receives the engine's status lines.
	Pull(ctx context.Context, ref, digest string, progress func(line string)) (string, error)
}

// ImageTagger is a Runtime that can move a tag. It is optional: the
// executor needs it to undo a build or a pull, which moved the tag.
type ImageTagger interface {
	// Tag points ref at the local image id; id "" removes the tag ref (a
	// missing tag is no error).
	Tag(ctx context.Context, ref, id string) error
}
