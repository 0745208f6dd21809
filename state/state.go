package state

import (
	"maps"
	"time"
)

// Strategy names a service's release strategy as stored in State.
const (
	StrategyBlueGreen = "blue_green"
	StrategyCanary    = "canary"
	StrategyRolling   = "rolling"
	StrategyHotfix    = "hotfix"
)

// Colors of a blue_green service.
const (
	ColorBlue  = "blue"
	ColorGreen = "green"
)

// What became of a previous release's containers (Previous.Kept).
const (
	KeptRunning = "running"
	KeptStopped = "stopped"
	KeptRemoved = "removed"
)

// State is everything slipway remembers about one project in one environment
// after its last write. The zero value is not ready for use; call New.
type State struct {
	// Lineage is a UUID set on the first write and never changed after; a
	// plan or a write from another lineage is refused.
	Lineage string
	// Serial counts writes. Each write compares the on-disk serial with this
	// one and stores Serial+1 (compare-and-swap).
	Serial uint64
	// Release is the number of the last finished release (0 = none yet): the
	// number users see in plan, history and rollback.
	Release int
	// Project is the name from the project block.
	Project string
	// Env is "" for the default environment or the -env name.
	Env string
	// ConfigHash identifies the configuration of the last release.
	ConfigHash string
	// UpdatedAt is when the state was last written.
	UpdatedAt time.Time
	// Services holds each released service by name. Never nil after New or
	// a read.
	Services map[string]*Service
	// Databases holds each postgres block by name. Never nil after New or a
	// read.
	Databases map[string]*Database
	// Secrets maps a sensitive value's id (such as "var.secret_key") to the
	// hex HMAC-SHA256 of the value under the backend's secret key; never the
	// value itself. Never nil after New or a read.
	Secrets map[string]string
}

// Service is what the last release that touched it left behind.
type Service struct {
	Name     string
	Strategy string // one of the Strategy constants
	Image    string // as configured, e.g. "thebot/backend:1.3.0"
	ImageID  string // the pinned image id, e.g. "sha256:..."
	// ImageDigest is the image's repository digest
	// ("registry/name@sha256:..."), by which a rollback pulls the very
	// image again when it is no longer in the engine; "" for an image
	// built here and never pushed.
	ImageDigest string
	// Release is the release that last changed the service.
	Release int
	// Version is the image tag, so that users can say `rollback v2`.
	Version    string
	ConfigHash string
	// Color is the active color of a blue_green service ("blue" or "green"),
	// "" for other strategies.
	Color string
	// Weights holds traffic shares by upstream group while a canary is
	// mid-way, e.g. {"stable": 75, "candidate": 25}; nil when settled.
	Weights map[string]int
	// Containers are the ones serving the current release.
	Containers []Container
	// Previous is the previous release kept for an instant rollback (for
	// blue_green the old color), nil if none.
	Previous *Previous
	// RouteFile is the nginx file slipway rendered for the service and
	// RouteChecksum the checksum of its content.
	RouteFile     string
	RouteChecksum string
}

// Previous is a release kept beside the current one for rollback.
type Previous struct {
	Release    int
	Image      string
	ImageID    string
	Version    string
	Color      string
	Containers []Container
	// Kept says what became of the containers: "running", "stopped" or
	// "removed" (the Kept constants).
	Kept string
}

// Container is one container slipway started.
type Container struct {
	ID      string
	Name    string // <project>-<service>-r<release>-<n>
	Color   string
	Release int
	Index   int
	// HostAddr is the published address nginx proxies to, "127.0.0.1:port".
	HostAddr string
	ImageID  string
}

// Database is what slipway did to one postgres block.
type Database struct {
	Name       string
	Migrations []Migration // applied, oldest first
	LastBackup *Backup     // nil if none was taken
	// Dirty names a migration that failed outside a transaction and may have
	// been applied in part; "" if none.
	Dirty string
}

// Migration is one applied migration.
type Migration struct {
	Version   string // "0042"
	Name      string // "0042_add_index.sql"
	Checksum  string
	AppliedAt time.Time
	Release   int
}

// Backup is one database dump taken before migrating.
type Backup struct {
	Path      string
	SHA256    string
	Size      int64
	Release   int
	CreatedAt time.Time
}

// New returns the state of a project that has never been written: empty
// maps, no lineage, serial 0, release 0.
func New(project, env string) *State {
	return &State{
		Project:   project,
		Env:       env,
		Services:  map[string]*Service{},
		Databases: map[string]*Database{},
		Secrets:   map[string]string{},
	}
}

// DeepCopy returns a copy of s that shares no maps, slices or pointers with
// it. DeepCopy of nil is nil.
func (s *State) DeepCopy() *State {
	if s == nil {
		return nil
	}
	c := *s
	c.Services = make(map[string]*Service, len(s.Services))
	for k, v := range s.Services {
		c.Services[k] = v.DeepCopy()
	}
	c.Databases = make(map[string]*Database, len(s.Databases))
	for k, v := range s.Databases {
		c.Databases[k] = v.DeepCopy()
	}
	c.Secrets = make(map[string]string, len(s.Secrets))
	maps.Copy(c.Secrets, s.Secrets)
	return &c
}

// DeepCopy returns a copy of v that shares nothing with it; nil stays nil.
func (v *Service) DeepCopy() *Service {
	if v == nil {
		return nil
	}
	c := *v
	if v.Weights != nil {
		c.Weights = maps.Clone(v.Weights)
	}
	c.Containers = cloneSlice(v.Containers)
	if v.Previous != nil {
		p := *v.Previous
		p.Containers = cloneSlice(v.Previous.Containers)
		c.Previous = &p
	}
	return &c
}

// DeepCopy returns a copy of d that shares nothing with it; nil stays nil.
func (d *Database) DeepCopy() *Database {
	if d == nil {
		return nil
	}
	c := *d
	c.Migrations = cloneSlice(d.Migrations)
	if d.LastBackup != nil {
		b := *d.LastBackup
		c.LastBackup = &b
	}
	return &c
}

// cloneSlice copies s, keeping nil as nil.
func cloneSlice[T any](s []T) []T {
	if s == nil {
		return nil
	}
	return append(make([]T, 0, len(s)), s...)
}
