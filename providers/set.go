package providers

import "io"

// Set is the providers one operation works with. A nil field means the
// configuration declares no such capability.
type Set struct {
	Runtime   Runtime
	Router    Router
	Databases map[string]Database // by postgres block name
}

// Close releases every provider of the set that holds something (an
// io.Closer). It may be called on a nil set.
func (s *Set) Close() {
	if s == nil {
		return
	}
	for _, p := range []any{s.Runtime, s.Router} {
		if c, ok := p.(io.Closer); ok {
			_ = c.Close()
		}
	}
	for _, db := range s.Databases {
		if c, ok := db.(io.Closer); ok {
			_ = c.Close()
		}
	}
}

// Observations is what the planner learns of the live world before it plans.
type Observations struct {
	Containers []Container
	Routes     []RouteFile
	// Images maps each image reference the configuration names to its local
	// id; a reference missing from the map was not found.
	Images map[string]string
	// ImageIDs holds the ids of images that rollback targets need, true
	// when the image is still present.
	ImageIDs map[string]bool
	// Databases holds what each postgres block's database and migration
	// directory say, by block name.
	Databases map[string]*DatabaseObservation
	// ExposedPorts maps an image reference the configuration names to the
	// TCP ports the image declares (EXPOSE); a reference missing from the
	// map, or mapped to none, declares nothing the planner can check.
	ExposedPorts map[string][]int
	// Listen holds, by port, who listens where the router would listen
	// for each route port of the configuration; nil when the router
	// cannot tell.
	Listen map[int]ListenPort
	// Builds holds, by service, the build context of each service with a
	// build block, and the local image built from it.
	Builds map[string]BuildObservation
	// Remote holds, by image reference, the manifest digest its registry
	// holds, for the references planning asked about (pull = "always",
	// or an image the engine lacks); a reference missing from the map was
	// not asked about.
	Remote map[string]RemoteImage
	// RepoDigests maps an image reference the configuration names to the
	// local image's repository digest ("name@sha256:..."), when it has
	// one.
	RepoDigests map[string]string
	// Switch holds, by service, how the router would make the next
	// change of the service's route live; nil when the router cannot say
	// (it is no SwitchPlanner), and a service is missing when asking
	// failed.
	Switch map[string]SwitchPlan
}

// BuildObservation is a service's build context as observed before
// planning.
type BuildObservation struct {
	// Context is the context's absolute directory and Digest its digest.
	Context string
	Digest  string
	// ImageID is the id of a local image labelled with Digest, "" when
	// there is none (a build is due).
	ImageID string
}

// RemoteImage is what a registry said of an image reference.
type RemoteImage struct {
	// Digest is the manifest digest ("sha256:...") the registry holds.
	Digest string
	// Problem, when set, is why it could not be read (the registry's
	// message).
	Problem string `json:",omitempty"`
}

// DatabaseObservation is one database as observed: the migrations table
// and the migration files, compared.
type DatabaseObservation struct {
	Applied []AppliedMigration
	Files   []Migration
	Pending []Migration
	// Problem, when not nil, stops planning: an applied file that changed
	// or vanished, or a dirty migration.
	Problem error
}
