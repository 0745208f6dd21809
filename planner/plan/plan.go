package plan

import (
	"time"

	"github.com/slipwayhq/slipway/providers"
	"github.com/slipwayhq/slipway/state"
)

// Plan is everything one operation will do, in order.
type Plan struct {
	Operation    string // "apply" or "rollback"
	Project      string
	Env          string
	Lineage      string // of the state planned against ("" for an empty state)
	Serial       uint64 // of the state planned against
	PriorRelease int
	Release      int // the release this plan makes
	ConfigHash   string
	Created      time.Time
	Reason       string // hotfix and rollback reason, recorded
	// TargetRelease is, for a rollback, the release whose snapshot the
	// plan returns to; the record keeps it.
	TargetRelease int `json:",omitempty"`

	Interrupted *Interrupted // an apply that did not finish, if any
	Drift       []Drift
	PreChecks   []string
	PostChecks  []string
	Resources   []*Resource
	Steps       []*Step
	OnFailure   []string // what happens if a step fails, in sentences
	Warnings    []string

	// Images pins each image reference to the id observed at plan time.
	Images map[string]string
	// Observed fingerprints the live world the plan was made against; a
	// saved plan whose world has changed since is stale.
	Observed string
	// Secrets holds an HMAC of every sensitive value the plan depends on,
	// so that applying a saved plan can refuse changed secrets. Never the
	// values themselves.
	Secrets map[string]string
	// Variables holds an HMAC of every variable's value, by variable
	// name, so that applying a saved plan can say which variables differ
	// from the ones it was made with. Never the values themselves.
	Variables map[string]string `json:",omitempty"`

	// Services is the state of each changed service after a successful
	// apply, with containers filled in by the executor as it starts them.
	Services map[string]*state.Service
}

// Changed reports whether applying the plan would change anything.
func (p *Plan) Changed() bool { return len(p.Steps) > 0 }

// Resource is one service or database as the plan shows it.
type Resource struct {
	Address   string // "service.backend", "postgres.main"
	From, To  string // versions, e.g. images; empty when not applicable
	Strategy  string
	Unchanged bool
	Steps     []int // indexes into Plan.Steps
}

// Drift is a difference between the recorded state and the live world.
type Drift struct {
	Address string
	Detail  string
}

// Interrupted describes an apply that stopped before it finished.
type Interrupted struct {
	OperationID string
	Operation   string
	Release     int
	Started     time.Time
	Finished    []string // descriptions of the steps that completed
	Pending     []string // the steps that did not
}

// Traffic is the routing a traffic step makes live. Groups are named by
// container; the executor resolves names to the addresses of the
// containers it started or observed.
type Traffic struct {
	Stable          []string
	Candidate       []string `json:",omitempty"`
	CandidateWeight int      // percent of requests to the candidate
	// Route carries listen, names, TLS, versions and release; its address
	// lists are filled by the executor. Remove means the route is deleted
	// (the compensation of a first release).
	Route  providers.RouteSpec
	Remove bool `json:",omitempty"`

	// Switch is how the router said it would make the routing live when
	// the plan was made (nil when it could not say); the step's detail
	// tells it.
	Switch *providers.SwitchPlan `json:",omitempty"`
}

// Step is one action of a plan.
type Step struct {
	Index    int
	ID       string // stable within a plan: "service.backend.start"
	Resource string // address of the resource it belongs to
	Kind     Kind
	Action   Action
	Provider string // "docker", "nginx", "postgres", "slipway"
	Target   string
	Detail   string

	// One payload per kind.
	Containers []providers.ContainerSpec `json:",omitempty"` // start (sensitive values blank in saved plans)
	Names      []string                  `json:",omitempty"` // health, stop, remove
	Health     *providers.HealthSpec     `json:",omitempty"`
	Traffic    *Traffic                  `json:",omitempty"`
	Pause      time.Duration             `json:",omitempty"`
	Approve    bool                      `json:",omitempty"`
	Analysis   string                    `json:",omitempty"`
	Checks     []string                  `json:",omitempty"`
	Phase      string                    `json:",omitempty"`
	StopAfter  time.Duration             `json:",omitempty"` // stop timeout
	Restart    string                    `json:",omitempty"` // update: the restart policy set on Names
	// Drain, on a compensating traffic step, is how long an undo waits
	// after it, before the next compensation that stops or removes
	// containers: nginx finishes what it sent them and drops its
	// keep-alive connections to them. A forward plan drains with pause
	// steps of its own instead (see Drains).
	Drain time.Duration `json:",omitempty"`

	// AnalysisSpec and CheckSpecs are the analysis (an analyse step) and
	// the checks (a check step, in the order of Checks) as the planner
	// resolved them from the configuration.
	AnalysisSpec *Analysis `json:",omitempty"`
	CheckSpecs   []Check   `json:",omitempty"`

	// Image is what a build, pull or tag step does to an image.
	Image *Image `json:",omitempty"`

	// Database steps: the postgres block, the migrations to apply (or the
	// app's task container), where backups go, and the backup to restore.
	Database    string                   `json:",omitempty"`
	Migrations  []providers.Migration    `json:",omitempty"`
	Task        *providers.ContainerSpec `json:",omitempty"`
	BackupDir   string                   `json:",omitempty"`
	RestoreFrom string                   `json:",omitempty"` // a backup path: the step restores it (after a fresh backup)

	// Compensation undoes the step when a later one fails; nil when there
	// is nothing to undo.
	Compensation *Step `json:",omitempty"`
}

// Image is the payload of a build, pull or tag step.
type Image struct {
	// Service is the service whose image it is; Ref the reference it is
	// tagged with (the service's image).
	Service string
	Ref     string
	// Build is, on a build step, what is built; its Digest is the
	// context's when the plan was made.
	Build *providers.BuildSpec `json:",omitempty"`
	// Digest is, on a pull step, the manifest digest pulled
	// ("sha256:..."): the registry's when the plan was made, or the one a
	// rollback's snapshot recorded.
	Digest string `json:",omitempty"`
	// Want is, on a pull step, the image id the pulled image must have
	// (a rollback's); "" accepts any.
	Want string `json:",omitempty"`
	// ID is, on a tag step, the image Ref points at again; "" removes
	// the tag.
	ID string `json:",omitempty"`
}

// DrainTarget is the Target of a pause step that drains: the wait, after
// traffic left some containers, before they are stopped or removed.
const DrainTarget = "drain"

// Drains reports whether s is a drain step: a pause after traffic left
// containers and before they stop or go. Nothing may stop or remove a
// container that received requests without one between the traffic step
// that took it out and the stop.
func (s *Step) Drains() bool {
	return s.Kind == KindPause && s.Target == DrainTarget && s.Pause > 0
}
