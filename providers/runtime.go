package providers

import (
	"context"
	"errors"
	"time"
)

// ErrImageNotFound is returned by ResolveImage when no local image has the
// reference. Nothing can be pulled, so it is a plan-time error.
var ErrImageNotFound = errors.New("image not found")

// ErrNotFound is returned when a named container does not exist.
var ErrNotFound = errors.New("not found")

// Labels set on every container slipway creates; observation finds
// containers by them.
const (
	LabelProject    = "io.slipway.project"
	LabelEnv        = "io.slipway.env"
	LabelService    = "io.slipway.service"
	LabelRelease    = "io.slipway.release"
	LabelColor      = "io.slipway.color"
	LabelIndex      = "io.slipway.index"
	LabelConfigHash = "io.slipway.config-hash"
)

// Container is a container as observed in the runtime.
type Container struct {
	ID         string
	Name       string
	Project    string
	Env        string
	Service    string
	Release    int
	Color      string
	Index      int
	ConfigHash string
	Image      string // the reference it was created from
	ImageID    string
	State      string // "running", "exited", "created", "restarting", ...
	Health     string // "healthy", "unhealthy", "starting", "" when the image has no HEALTHCHECK
	HostAddr   string // "127.0.0.1:49153": the published address nginx proxies to
	// Restart is the restart policy the runtime applies to the container
	// ("no", "unless-stopped", "on-failure:3", ...); "" when the runtime
	// does not say.
	Restart string
	// RestartCount is how many times the runtime restarted the container
	// by its restart policy since it was last started by hand.
	RestartCount int
	// ExitCode is the exit code of its last run, when it is not running
	// (or waits to be restarted).
	ExitCode int
}

// Running reports whether the container is running.
func (c Container) Running() bool { return c.State == "running" }

// EnvVar is one environment variable of a container. Sensitive values are
// masked in every error and log line the runtime returns.
type EnvVar struct {
	Name      string
	Value     string
	Sensitive bool
}

// ContainerSpec is what the runtime needs to create one container.
type ContainerSpec struct {
	Name        string // <project>-<service>-r<release>-<n>
	Project     string
	Env         string // slipway environment ("" for the default)
	Service     string
	Release     int
	Color       string
	Index       int
	ConfigHash  string
	Image       string // reference, for people
	ImageID     string // pinned id; the container is created from it
	Vars        []EnvVar
	Command     []string
	Port        int    // container port to publish
	HostIP      string // host address to publish on, default 127.0.0.1
	Volumes     []string
	Networks    []string
	ExtraHosts  []string
	Memory      int64   // bytes, 0 = no limit
	CPUs        float64 // 0 = no limit
	Restart     string  // docker restart policy: "no", "always", "unless-stopped", "on-failure[:N]"; "" is "no"
	StopTimeout time.Duration
}

// HealthSpec says when a container counts as healthy.
type HealthSpec struct {
	Path             string // HTTP path probed on the published port; "" = the image's HEALTHCHECK
	Interval         time.Duration
	Timeout          time.Duration
	HealthyThreshold int // consecutive successes
	Deadline         time.Duration
}

// HealthError is returned by WaitHealthy when a container did not become
// healthy before its deadline; Logs holds its last log lines, masked.
type HealthError struct {
	Container string
	Reason    string
	Logs      []string
}

func (e *HealthError) Error() string {
	return "container " + e.Container + " did not become healthy: " + e.Reason
}

// Runtime runs service containers.
//
// Every method honours ctx cancellation and returns promptly when it is
// done. Start is idempotent: a container with the spec's name that already
// exists is started if stopped and returned. Stop and Remove of a missing
// container succeed. Errors and log lines never contain sensitive values.
type Runtime interface {
	// ResolveImage returns the id of the local image ref, or an error
	// wrapping ErrImageNotFound.
	ResolveImage(ctx context.Context, ref string) (id string, err error)
	// ImageExists reports whether an image id is still present.
	ImageExists(ctx context.Context, id string) (bool, error)
	// Observe lists every container labelled with the project and env,
	// running or not.
	Observe(ctx context.Context, project, env string) ([]Container, error)
	// Start creates (if absent) and starts a container, returning it with
	// its published address.
	Start(ctx context.Context, spec ContainerSpec) (Container, error)
	// WaitHealthy waits until the container passes h, or returns a
	// *HealthError at the deadline.
	WaitHealthy(ctx context.Context, c Container, h HealthSpec) error
	// Stop stops a container gracefully (SIGTERM, then SIGKILL after timeout).
	Stop(ctx context.Context, name string, timeout time.Duration) error
	// Remove removes a container, stopping it first if needed.
	Remove(ctx context.Context, name string) error
	// Logs returns the last n log lines of a container, sensitive values
	// masked.
	Logs(ctx context.Context, name string, n int) ([]string, error)
}

// ImagePorts is a Runtime that can tell which ports an image declares.
// It is optional: the planner checks a service's port against them only
// when the runtime offers it.
type ImagePorts interface {
	// ExposedPorts returns the TCP ports the local image ref declares
	// (Dockerfile EXPOSE), sorted; none when it declares none. An image
	// that is not present is an error wrapping ErrImageNotFound.
	ExposedPorts(ctx context.Context, ref string) ([]int, error)
}

// RestartUpdater is a Runtime that changes the restart policy of an
// existing container in place, running or not, without recreating or
// restarting it. It is optional: the executor needs it only for a plan
// step that updates live containers (plan.KindUpdate).
type RestartUpdater interface {
	// UpdateRestart sets the restart policy of container name (a
	// ContainerSpec.Restart value). It is idempotent; a missing container
	// is an error wrapping ErrNotFound.
	UpdateRestart(ctx context.Context, name, policy string) error
}

// Pinger is a Runtime that can tell whether its engine answers before
// anything is asked of it. It is optional: without it, the first call
// that needs the engine reports it unreachable.
type Pinger interface {
	// Ping returns nil when the engine answers.
	Ping(ctx context.Context) error
}
