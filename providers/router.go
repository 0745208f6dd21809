package providers

import (
	"context"
	"time"
)

// RouteSpec is the whole routing of one service: what the router renders
// into its own file and makes live.
type RouteSpec struct {
	Project      string
	Env          string
	Service      string
	Release      int // the release this routing belongs to; named in the file header and the live-check header
	Listen       int
	ServerName   string
	Location     string
	TLSCert      string
	TLSKey       string
	ProxyTimeout time.Duration

	// Stable and Candidate are the two upstream groups, as host:port
	// addresses. A request goes to Candidate with probability
	// CandidateWeight/100 (split_clients on $request_id), or by StickyCookie
	// when set; a request carrying CanaryHeader always goes to Candidate.
	Stable           []string
	Candidate        []string
	CandidateWeight  int
	StableVersion    string
	CandidateVersion string
	StickyCookie     string
	CanaryHeader     string
}

// RouteFile is a route file as observed on disk, with what the router
// serves for it.
type RouteFile struct {
	Project  string
	Env      string
	Service  string
	Path     string
	Release  int    // from the managed-by header
	Checksum string // the checksum the header declares
	Actual   string // the checksum of the body as it is now; differs when edited by hand
	// Peers are the addresses the file sends requests to, in either
	// group: where requests go when the router next loads it.
	Peers []string `json:",omitempty"`
	// Serving is what the router sends the route's requests to at the
	// moment it was observed; nil when the router cannot say, which a
	// reader must take as "any of the service's containers".
	Serving *Serving `json:",omitempty"`
}

// Serving is what a router sends one route's requests to now, which can
// differ from its file after an interrupted switch.
type Serving struct {
	// Known is false when the router answers with a routing that cannot
	// be read back (nginx in reload mode answering with a release tag
	// other than its file's): any container of the service may then
	// receive requests.
	Known bool
	// Tag is the release tag that answered, "" when none did.
	Tag string `json:",omitempty"`
	// Peers are the addresses that receive requests, in either group,
	// when Known; none when nothing serves the route (nginx is down).
	Peers []string `json:",omitempty"`
}

// Edited reports whether the file was changed outside slipway.
func (f RouteFile) Edited() bool { return f.Checksum != f.Actual }

// Router sends requests to a service's containers.
//
// Apply renders the spec into the service's own file, validates the whole
// configuration, makes it live through the configured switcher and confirms
// the new routing answers before it returns; on any failure the previous
// file is restored and the error carries the router's own message. Applying
// a spec whose rendering is already live is a no-op. Remove of a missing
// route succeeds. Every method honours ctx.
type Router interface {
	// Render returns the file content for spec without touching anything.
	Render(spec RouteSpec) ([]byte, error)
	// Observe lists the route files slipway manages for project and env,
	// each with the peers it routes to and, when the router can read it
	// back, what it serves now.
	Observe(ctx context.Context, project, env string) ([]RouteFile, error)
	// Apply makes spec live (see the interface comment).
	Apply(ctx context.Context, spec RouteSpec) (RouteFile, error)
	// Remove deletes the service's route file and makes that live.
	Remove(ctx context.Context, project, env, service string) error
	// Mode names the switcher in use ("reload" or "dynamic").
	Mode() string
}

// ListenPort is who holds a TCP port where the router would listen for a
// route, as observed before planning.
type ListenPort struct {
	// Address is where the router listens for the port: "127.0.0.1:8080",
	// or "0.0.0.0:8080" when it listens on every address.
	Address string
	// Taken reports that another socket already listens there (a bind
	// fails with "address already in use").
	Taken bool
	// Router reports that the socket listening there is the router's own
	// (a route it serves already), so a route may use the port.
	Router bool
	// PID and Command name the process that listens there when it is
	// known (0 and "" otherwise, such as without the right to read other
	// users' processes).
	PID     int
	Command string
}

// ListenChecker is a Router that can tell who listens on a route's port
// before anything changes. It is optional.
type ListenChecker interface {
	// CheckListen reports who holds port where the router would listen
	// for it. It changes nothing; binding the port for a moment to see
	// whether it is free is allowed.
	CheckListen(ctx context.Context, port int) (ListenPort, error)
}

// SwitchPlan says how a router would make a route's next change live.
type SwitchPlan struct {
	// Mode is "dynamic" when the change goes live without a reload,
	// else the reload switcher's name ("reload").
	Mode string
	// Reason says why a dynamic router has to reload this route; "" when
	// it does not, or in reload mode.
	Reason string
}

// SwitchPlanner is a Router that can say, before anything changes, how it
// would make a route live. It is optional: without it, plans do not say.
type SwitchPlanner interface {
	// PlanSwitch says how Apply would make spec live now. It changes
	// nothing; the answer holds until the router's configuration changes.
	PlanSwitch(ctx context.Context, spec RouteSpec) (SwitchPlan, error)
}

// LiveTableReader is a Router that switches without a reload and can show
// the routing it serves for a route. It is optional: status shows the
// live table only when the router offers it.
type LiveTableReader interface {
	// LiveTable returns the live routing of the service's route, as one
	// line for people; an error when the route is not live that way.
	LiveTable(ctx context.Context, project, env, service string) (string, error)
}

// ConfigTester is a Router that can validate its whole configuration
// without changing anything (nginx -t). It is optional: a check of the
// router's configuration is unavailable without it.
type ConfigTester interface {
	// Test validates the configuration and returns the router's own
	// output; an error when it is rejected.
	Test(ctx context.Context) (string, error)
}
