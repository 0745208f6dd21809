package config

import (
	"time"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
)

// marker is the type of the cty marks this package sets.
type marker string

// SensitiveMark is the cty mark carried by a sensitive variable's value and by
// every value computed from it.
const SensitiveMark marker = "sensitive"

// Config is a decoded, validated configuration directory.
type Config struct {
	// Dir is the configuration directory as given to Load.
	Dir string `json:"-"`
	// Files holds every parsed file (configuration and variable values), keyed
	// by the file name used in diagnostics, for rendering source snippets.
	Files map[string]*hcl.File `json:"-"`
	// Project is the one project block; nil only when Load reported an error.
	Project *Project
	// Variables are the variable declarations in declaration order.
	Variables []*Variable `json:"-"`
	// Values are the final variable values; a sensitive variable's value
	// carries SensitiveMark.
	Values map[string]cty.Value `json:"-"`
	// Locals are the evaluated locals; marks are kept.
	Locals map[string]cty.Value `json:"-"`
	// Docker is the docker block, or its defaults; never nil after Load.
	Docker *Docker
	// Nginx is the nginx block, nil when the configuration has none.
	Nginx *Nginx
	// Postgres are the postgres blocks in declaration order.
	Postgres []*Postgres
	// Services are the service blocks in declaration order (files sorted by
	// name, blocks in file order).
	Services []*Service
	// Analyses are the analysis blocks in declaration order.
	Analyses []*Analysis
	// Checks are the check blocks in declaration order.
	Checks []*Check
	// Notifies are the notify blocks in declaration order.
	Notifies []*Notify
}

// Project is the project block: the release's name and where its state lives.
type Project struct {
	// Name is the project label; it prefixes container names.
	Name string
	// StatePath is state { path }; "" means the default .slipway/ beside the config.
	StatePath string
	// Keep is the number of snapshots kept; 0 keeps all.
	Keep int
	// DeclRange is the block header's range.
	DeclRange hcl.Range `json:"-"`
}

// Variable is one variable declaration.
type Variable struct {
	// Name is the variable label, referenced as var.<name>.
	Name string
	// Type is the type constraint; cty.DynamicPseudoType for "any" or none.
	Type cty.Type
	// Default is the default value, cty.NilVal when there is none (the
	// variable is required); default = null gives a null Default.
	Default cty.Value
	// Description documents the variable.
	Description string
	// Sensitive marks the value (and everything computed from it) as secret.
	Sensitive bool
	// DeclRange is the block header's range.
	DeclRange hcl.Range
}

// Docker is the docker block.
type Docker struct {
	// Host is the engine address; "" means DOCKER_HOST or the client default.
	Host string
	// DeclRange is the block header's range (zero when defaulted).
	DeclRange hcl.Range `json:"-"`
}

// Nginx is the nginx block: where slipway writes its routes and how it
// reloads nginx.
type Nginx struct {
	// ConfigDir is where slipway writes its own files (default /etc/nginx/conf.d).
	ConfigDir string
	// AccessLog is the access log slipway's routes write (default /var/log/nginx/slipway.log).
	AccessLog string
	// Binary is the nginx executable (default "nginx").
	Binary string
	// Prefix is nginx -p for a private instance; "" uses nginx's default.
	Prefix string
	// Conf is nginx -c for a private instance; "" uses nginx's default.
	Conf string
	// Switch is how traffic moves: "reload", "dynamic" or "auto" (default).
	Switch string
	// AdminDir is the root-only directory of dynamic switching's sockets.
	AdminDir string
	// ListenHost is the address routes listen on ("" = every address).
	ListenHost string
	// DeclRange is the block header's range.
	DeclRange hcl.Range `json:"-"`
}

// AppMigrate is a postgres block's migrate block: migrations the
// application runs itself from its new image.
type AppMigrate struct {
	// Service names the service whose new image runs Command.
	Service string
	// Command is the migration command.
	Command []string
	// DeclRange is the block header's range.
	DeclRange hcl.Range `json:"-"`
}

// Postgres is a postgres block: one database, its migrations and backups.
type Postgres struct {
	// Name is the block label.
	Name string
	// URL is the connection URL; always sensitive.
	URL Secret
	// Migrations is the directory of versioned SQL files; "" means none.
	Migrations string
	// Backup is the backup block, nil when backups are off.
	Backup *Backup
	// Restore restores the pre-release backup when a migration fails.
	Restore bool
	// BinDir is where pg_dump and pg_restore are ("" = search).
	BinDir string
	// Migrate is the application's own migration command, nil when none.
	Migrate *AppMigrate
	// DeclRange is the block header's range.
	DeclRange hcl.Range `json:"-"`
}

// Backup is postgres { backup { ... } }.
type Backup struct {
	// Dir is where dumps are written.
	Dir string
	// Keep is the number of dumps kept; 0 keeps all.
	Keep int
	// When is "migrations" (default: only before migrating), "always" or "never".
	When string
}

// Secret is a string that may be sensitive: it came from a sensitive variable,
// or it is a URL or webhook that holds credentials. JSON encoding omits a
// sensitive value (it encodes as null).
type Secret struct {
	// Value is the clear value.
	Value string
	// Sensitive is true when Value must never be printed or stored.
	Sensitive bool
}

// Service is a service block: one containerised application and how it is
// released.
type Service struct {
	// Name is the block label.
	Name string
	// Image is the image reference.
	Image string
	// Replicas is the number of containers (default 1).
	Replicas int
	// Port is the container port nginx proxies to; required.
	Port int
	// Env is the container environment, sorted by name.
	Env []EnvVar
	// Command overrides the image's command.
	Command []string
	// Volumes are docker volume specifications (src:dst[:opts]).
	Volumes []string
	// Networks are docker networks the containers join.
	Networks []string
	// ExtraHosts are host:ip entries (host.docker.internal:host-gateway).
	ExtraHosts []string
	// Memory is the memory limit, e.g. "256m"; "" means none.
	Memory string
	// CPUs is the CPU limit; 0 means none.
	CPUs float64
	// Restart is the docker restart policy (default "unless-stopped").
	Restart string
	// StopTimeout is the grace period before a stop kills (default 10s).
	StopTimeout time.Duration
	// HostIP is the address ports are published on (default 127.0.0.1).
	HostIP string
	// Migrate is when database migrations run relative to this service's
	// change: "before" (default) or "after".
	Migrate string
	// Pull is when the image comes from its registry: "missing"
	// (default), "always" or "never". A service with Build never pulls.
	Pull string `json:",omitempty"`
	// Build is how the image is built from source; nil when it is not
	// (omitted from hashes then, so that older hashes still match).
	Build *Build `json:",omitempty"`
	// Health is the health gate; never nil.
	Health *Health
	// Route is the nginx route; nil when the service has none.
	Route *Route
	// Strategy is "blue_green" (default), "canary", "rolling" or "hotfix".
	Strategy string
	// BlueGreen is set when Strategy is "blue_green".
	BlueGreen *BlueGreen
	// Canary is set when Strategy is "canary".
	Canary *Canary
	// Rolling is set when Strategy is "rolling".
	Rolling *Rolling
	// Hotfix is set when Strategy is "hotfix".
	Hotfix *Hotfix
	// Watch is the watch after release; nil when the service has none
	// (omitted from hashes then, so that older hashes still match).
	Watch *Watch `json:",omitempty"`
	// DeclRange is the block header's range.
	DeclRange hcl.Range `json:"-"`
}

// Build is a service's build block: the image is built through the
// Docker engine from a directory and tagged with the service's image.
type Build struct {
	// Context is the directory sent to the engine, as written (relative
	// to the configuration's directory; see Config.Rel).
	Context string
	// Dockerfile is the Dockerfile's path inside Context (default
	// "Dockerfile").
	Dockerfile string
	// Args are the build arguments; never sensitive.
	Args map[string]string `json:",omitempty"`
	// Target is the stage to build; "" builds the last.
	Target string `json:",omitempty"`
	// DeclRange is the block header's range.
	DeclRange hcl.Range `json:"-"`
}

// Watch is a service's watch after release: `slipway watch` keeps
// analysing the live version once a release has all traffic, and rolls
// back to the previous release on a fail verdict.
type Watch struct {
	// Duration is how long the watch lasts.
	Duration time.Duration
	// Analysis names the analysis block judging it from the start; it is
	// never empty once decoded (the canary's analysis by default).
	Analysis string
	// Stages tighten the analysis over time, in increasing After order.
	Stages []WatchStage
	// DeclRange is the block header's range.
	DeclRange hcl.Range `json:"-"`
}

// WatchStage switches a watch to another analysis After the watch began.
type WatchStage struct {
	// After is the time since the watch began when the stage starts;
	// shorter than the watch's Duration.
	After time.Duration
	// Analysis names the analysis block judging from then on.
	Analysis string
	// DeclRange is the block header's range.
	DeclRange hcl.Range `json:"-"`
}

// AnalysisAt returns the name of the analysis judging the watch at
// elapsed time since it began: the last stage begun by then, or Analysis.
func (w *Watch) AnalysisAt(elapsed time.Duration) string {
	name := w.Analysis
	for _, s := range w.Stages {
		if elapsed >= s.After {
			name = s.Analysis
		}
	}
	return name
}

// EnvVar is one container environment variable. JSON encoding omits the
// value of a sensitive one.
type EnvVar struct {
	// Name is the variable name.
	Name string
	// Value is the clear value.
	Value string
	// Sensitive is true when Value came from a sensitive variable.
	Sensitive bool
}

// Health is service { health { ... } }: an HTTP probe that gates traffic.
type Health struct {
	// Path is the probed path (default "/health").
	Path string
	// Interval is the time between probes (default 1s).
	Interval time.Duration
	// Timeout bounds one probe (default 1s).
	Timeout time.Duration
	// Deadline bounds the whole gate (default 60s).
	Deadline time.Duration
	// HealthyThreshold is the consecutive successes needed (default 2).
	HealthyThreshold int
	// DeclRange is the block header's range, or the service's when defaulted.
	DeclRange hcl.Range `json:"-"`
}

// Route is service { route { ... } }: an nginx server and location.
type Route struct {
	// Listen is the nginx listen port (default 80).
	Listen int
	// ServerName is the nginx server_name (default "_").
	ServerName string
	// Location is the nginx location (default "/").
	Location string
	// TLSCert is the certificate file; set together with TLSKey.
	TLSCert string
	// TLSKey is the key file; set together with TLSCert.
	TLSKey string
	// ProxyTimeout is proxy_read/send_timeout (default 60s).
	ProxyTimeout time.Duration
	// DeclRange is the block header's range.
	DeclRange hcl.Range `json:"-"`
}

// BlueGreen is the blue_green strategy.
type BlueGreen struct {
	// KeepPrevious is what happens to the old color: "running" (default),
	// "stopped" or "removed".
	KeepPrevious string
	// DeclRange is the block header's range, or the service's when defaulted.
	DeclRange hcl.Range `json:"-"`
}

// Canary is the canary strategy.
type Canary struct {
	// Steps are the traffic shares, strictly increasing, ending at 100.
	Steps []CanaryStep
	// Pause is the wait after each step (default 0).
	Pause time.Duration
	// Analysis names the analysis block judging each step; "" means none.
	Analysis string
	// StickyCookie, when set, keeps a client on one version by this cookie.
	StickyCookie string
	// Header sends a request carrying it to the candidate (default "X-Slipway-Canary").
	Header string
	// DeclRange is the block header's range.
	DeclRange hcl.Range `json:"-"`
}

// CanaryStep is one step of a canary.
type CanaryStep struct {
	// Percent is the candidate's share of requests.
	Percent int
	// Pause is the wait after this step; 0 means the canary's Pause.
	Pause time.Duration
	// Approve stops at this step until `slipway promote`.
	Approve bool
}

// Rolling is the rolling strategy.
type Rolling struct {
	// BatchSize is the replicas replaced at once (default 1).
	BatchSize int
	// MaxUnavailable is how many replicas may be down at once (default 0).
	MaxUnavailable int
	// Drain is the wait after removing a replica from nginx (default 5s).
	Drain time.Duration
	// Pause is the wait between batches (default 0).
	Pause time.Duration
	// DeclRange is the block header's range.
	DeclRange hcl.Range `json:"-"`
}

// Hotfix is the hotfix strategy: recreate in place.
type Hotfix struct {
	// Reason is recorded in the release record; "" when it is given on the
	// command line instead (-reason).
	Reason string
	// DeclRange is the block header's range.
	DeclRange hcl.Range `json:"-"`
}

// Analysis is an analysis block: how a canary step is judged.
type Analysis struct {
	// Name is the block label.
	Name string
	// Source is "nginx" (default), "prometheus" or "probe".
	Source string
	// Interval is the length of one reading (default 30s).
	Interval time.Duration
	// MinRequests is the fewest requests that give a verdict (default 50).
	MinRequests int
	// ErrorRate is the error-rate threshold; nil when none.
	ErrorRate *Threshold
	// LatencyP95 is the p95 latency threshold; nil when none.
	LatencyP95 *Threshold
	// QueryErrorLimit is how many intervals in a row whose metric queries
	// failed are judged no data; one more fails the step (default 3).
	QueryErrorLimit int
	// Prometheus is the prometheus block, the queries of the "prometheus"
	// source; nil when there is none.
	Prometheus *Prometheus
	// DeclRange is the block header's range.
	DeclRange hcl.Range `json:"-"`
}

// Prometheus is an analysis's prometheus block: where the Prometheus HTTP
// API is and the PromQL that reads each version. Each query runs once per
// version and interval, as an instant query at the interval's end, with
// these placeholders replaced: {{version}} by "stable" or "candidate",
// {{release}} by the release number that version's containers carry (the
// io.slipway.release container label), and {{interval}} by the interval
// ("30s"). Each must give one number: a scalar or a one-sample vector.
type Prometheus struct {
	// URL is the API's base URL, such as "http://127.0.0.1:9090".
	URL string
	// Requests counts a version's requests in the interval (required).
	Requests string
	// Errors counts the failed ones among them (required).
	Errors string
	// P50, P95 and P99 are response-time percentiles in seconds; "" reads
	// none (a latency_p95 threshold needs P95).
	P50, P95, P99 string
	// DeclRange is the block header's range.
	DeclRange hcl.Range `json:"-"`
}

// Threshold is a warn/fail pair. For error_rate, Warn and Fail are fractions
// ("1%" is 0.01); for latency_p95 they are seconds ("2s" is 2.0). Warn 0 means
// no warning level.
type Threshold struct {
	// Warn is the warning level; 0 means none.
	Warn float64
	// Fail is the failing level.
	Fail float64
	// WarnFor turns a warning that lasts longer into a failure; 0 never does.
	WarnFor time.Duration
	// Relative is how much worse than stable, in the same interval, the
	// candidate may be before it fails, in the unit of Warn and Fail
	// (0.02 is 2 percentage points; 0.5 is 500ms); 0 checks no margin.
	Relative float64
	// DeclRange is the block header's range.
	DeclRange hcl.Range `json:"-"`
}

// Check is a check block: one pre, preview or post condition.
type Check struct {
	// Name is the block label.
	Name string
	// Phase is "pre" (default), "preview" or "post".
	Phase string
	// Severity is "critical" (default) or "warning".
	Severity string
	// Tags group checks for `slipway check -tag`.
	Tags []string
	// Kind is the name of its one kind block (http, tcp, ...).
	Kind string
	// Attrs are the kind block's attributes, evaluated, marks kept.
	Attrs map[string]cty.Value
	// DeclRange is the block header's range.
	DeclRange hcl.Range `json:"-"`
}

// Notify is a notify block: a webhook told about release events.
type Notify struct {
	// Name is the block label.
	Name string
	// Webhook is the URL posted to; always sensitive.
	Webhook Secret
	// On are the events sent (default: all of Events()).
	On []string
	// Format is "json" (default) or "slack".
	Format string
	// DeclRange is the block header's range.
	DeclRange hcl.Range `json:"-"`
}

// Events returns the release events a notify block can subscribe to.
func Events() []string {
	return []string{"started", "paused", "promoted", "aborted", "succeeded", "failed", "rolled_back", "rollback_failed", "degraded", "recovered"}
}

// Service returns the service named name, or nil.
func (c *Config) Service(name string) *Service {
	for _, s := range c.Services {
		if s.Name == name {
			return s
		}
	}
	return nil
}

// Analysis returns the analysis named name, or nil.
func (c *Config) Analysis(name string) *Analysis {
	for _, a := range c.Analyses {
		if a.Name == name {
			return a
		}
	}
	return nil
}

// Check returns the check named name, or nil.
func (c *Config) Check(name string) *Check {
	for _, ch := range c.Checks {
		if ch.Name == name {
			return ch
		}
	}
	return nil
}

// PostgresDB returns the postgres block named name, or nil.
func (c *Config) PostgresDB(name string) *Postgres {
	for _, p := range c.Postgres {
		if p.Name == name {
			return p
		}
	}
	return nil
}

// Variable returns the variable declared as name, or nil.
func (c *Config) Variable(name string) *Variable {
	for _, v := range c.Variables {
		if v.Name == name {
			return v
		}
	}
	return nil
}
