package config

import (
	"fmt"
	"strconv"
	"time"

	"github.com/hashicorp/hcl/v2"
)

// BlockSchema describes one block type of the configuration language. The
// table returned by Reference drives both decoding and the generated
// reference documentation.
type BlockSchema struct {
	// Type is the block type keyword, e.g. "service".
	Type string
	// Labels names the block's labels, e.g. ["name"].
	Labels []string
	// Doc is a one-line description.
	Doc string
	// Attrs are the block's attributes in documentation order.
	Attrs []*AttrSchema
	// Blocks are the nested block types.
	Blocks []*BlockSchema
	// Repeatable is true when the block may appear more than once in its
	// parent (labelled blocks still need unique labels).
	Repeatable bool
	// Required is true when the block must appear once in its parent.
	Required bool
	// FreeForm is true when the block takes any attributes (locals, check
	// kinds); Attrs is then empty.
	FreeForm bool
	// OneOf names a group of sibling blocks of which at most one may appear
	// ("strategy"), or exactly one when the group is "kind".
	OneOf string
}

// AttrSchema describes one attribute of a block.
type AttrSchema struct {
	// Name is the attribute name.
	Name string
	// Type is the type as users see it: "string", "number", "bool",
	// "list(string)", "map(string)", "duration" (a Go duration string such as
	// "90s"), "percent" ("1%" or a number of percent), "list(step)" (canary
	// steps), "any", "type" (a type constraint) or "expression" (evaluated
	// later, e.g. a validation condition).
	Type string
	// Required is true when the attribute must be set.
	Required bool
	// Default is the default as an HCL literal ("" when there is none).
	Default string
	// Doc is a one-line description.
	Doc string
	// Whole requires a "number" to be a whole number.
	Whole bool
	// Min and Max bound a "number", both included; every number attribute
	// has them (Max > Min). A "percent" is always 0 to 100.
	Min, Max float64
	// MaxDuration bounds a "duration"; every duration attribute has it. No
	// duration is negative.
	MaxDuration time.Duration
}

// Bounds describes, as a sentence, the values the schema allows beyond the
// type ("A whole number from 1 to 100."); "" when it sets none. The
// reference documentation shows it after Doc, and range diagnostics use it.
func (a *AttrSchema) Bounds() string {
	switch a.Type {
	case "number":
		if a.Max <= a.Min {
			return ""
		}
		kind := "A number"
		if a.Whole {
			kind = "A whole number"
		}
		return fmt.Sprintf("%s from %s to %s.", kind, formatNumber(a.Min), formatNumber(a.Max))
	case "percent":
		return "From 0 to 100 percent."
	case "duration":
		if a.MaxDuration <= 0 {
			return ""
		}
		return "At most " + formatDuration(a.MaxDuration) + "."
	}
	return ""
}

// formatNumber writes a bound without exponent or trailing zeros.
func formatNumber(f float64) string {
	return strconv.FormatFloat(f, 'f', -1, 64)
}

// formatDuration writes a bound in its largest whole unit ("24h", "90s").
func formatDuration(d time.Duration) string {
	for _, u := range []struct {
		unit time.Duration
		name string
	}{{time.Hour, "h"}, {time.Minute, "m"}, {time.Second, "s"}} {
		if d%u.unit == 0 {
			return strconv.FormatInt(int64(d/u.unit), 10) + u.name
		}
	}
	return d.String()
}

// Bounds of the configuration's numbers and durations, documented by
// Reference.
const (
	// maxReplicas is the most containers a service runs, and so the
	// largest rolling batch.
	maxReplicas = 100
	// maxKeep is the most snapshots or dumps kept.
	maxKeep = 10000
	// maxPause bounds canary and step pauses and watches: a week.
	maxPause = 7 * 24 * time.Hour
)

// CheckKinds returns the block types a check holds exactly one of.
func CheckKinds() []string {
	return []string{"http", "tcp", "websocket", "command", "env", "tls", "git", "disk", "memory", "postgres", "redis", "nginx", "container", "static", "assert", "registry"}
}

// Reference returns the schema of the configuration language: the top-level
// block types in documentation order. Each call returns a fresh table.
func Reference() []*BlockSchema {
	threshold := func(typ, what, rel string) []*AttrSchema {
		var level time.Duration // a latency's bound; a percent's is fixed
		if typ == "duration" {
			level = time.Hour
		}
		return []*AttrSchema{
			{Name: "warn", Type: typ, MaxDuration: level, Doc: "Level above which a reading warns (" + what + "); unset means no warning level."},
			{Name: "fail", Type: typ, Required: true, MaxDuration: level, Doc: "Level above which a reading fails (" + what + ") and the release rolls back."},
			{Name: "warn_for", Type: "duration", Default: `"0s"`, MaxDuration: 24 * time.Hour, Doc: "A warning that lasts longer than this counts as a failure; 0 never does."},
			{Name: "relative", Type: typ, MaxDuration: level, Doc: "How much worse than stable in the same interval the candidate may be (" + rel + "); unset checks no margin."},
		}
	}
	var kinds []*BlockSchema
	for _, k := range CheckKinds() {
		kinds = append(kinds, &BlockSchema{Type: k, FreeForm: true, OneOf: "kind", Doc: "A " + k + " check; its attributes depend on the kind."})
	}
	return []*BlockSchema{
		{
			Type: "project", Labels: []string{"name"}, Required: true,
			Doc: "Names the project and says where its state lives; exactly one.",
			Attrs: []*AttrSchema{
				{Name: "keep", Type: "number", Default: "0", Whole: true, Max: maxKeep, Doc: "Snapshots kept; 0 keeps all."},
			},
			Blocks: []*BlockSchema{{
				Type: "state", Doc: "Where state, snapshots and records are kept.",
				Attrs: []*AttrSchema{
					{Name: "path", Type: "string", Required: true, Doc: "State directory; the default is .slipway/ beside the configuration."},
				},
			}},
		},
		{
			Type: "variable", Labels: []string{"name"}, Repeatable: true,
			Doc: "Declares an input variable, referenced as var.<name>.",
			Attrs: []*AttrSchema{
				{Name: "type", Type: "type", Default: "any", Doc: "Type constraint: string, number, bool, list(...), map(...), any."},
				{Name: "default", Type: "any", Doc: "Value used when no other source sets one; without it the variable is required."},
				{Name: "description", Type: "string", Doc: "What the variable is for."},
				{Name: "sensitive", Type: "bool", Default: "false", Doc: "Never print or store the value, nor anything computed from it."},
			},
			Blocks: []*BlockSchema{{
				Type: "validation", Repeatable: true, Doc: "A rule the value must satisfy.",
				Attrs: []*AttrSchema{
					{Name: "condition", Type: "expression", Required: true, Doc: "A bool expression that may refer only to this variable."},
					{Name: "error_message", Type: "string", Required: true, Doc: "Shown when the condition is false."},
				},
			}},
		},
		{
			Type: "locals", Repeatable: true, FreeForm: true,
			Doc: "Named expressions, referenced as local.<name>.",
		},
		{
			Type: "docker",
			Doc:  "How to reach the Docker engine.",
			Attrs: []*AttrSchema{
				{Name: "host", Type: "string", Default: `""`, Doc: "Engine address; empty means DOCKER_HOST or the client default."},
			},
		},
		{
			Type: "nginx",
			Doc:  "Where slipway writes its nginx routes and how it moves traffic.",
			Attrs: []*AttrSchema{
				{Name: "config_dir", Type: "string", Default: `"/etc/nginx/conf.d"`, Doc: "Directory for slipway's own files; it touches no other file there."},
				{Name: "access_log", Type: "string", Default: `"/var/log/nginx/slipway.log"`, Doc: "Access log written by slipway's routes, read by nginx analyses; no quotes, backslashes, '$' or control characters."},
				{Name: "binary", Type: "string", Default: `"nginx"`, Doc: "The nginx executable."},
				{Name: "prefix", Type: "string", Default: `""`, Doc: "nginx -p for a private instance; empty uses nginx's default."},
				{Name: "conf", Type: "string", Default: `""`, Doc: "nginx -c for a private instance; empty uses nginx's default."},
				{Name: "switch", Type: "string", Default: `"auto"`, Doc: `How traffic moves: "reload" (rewrite and reload nginx), "dynamic" (nginx's Lua module changes the live table: no reload, no dropped keep-alive connection) or "auto" (dynamic when the Lua module is loaded).`},
				{Name: "admin_dir", Type: "string", Default: `"/run/slipway/nginx"`, Doc: "Root-only directory of the admin sockets dynamic switching uses: an absolute path of letters, digits and '/._-', at most 91 bytes."},
				{Name: "listen_host", Type: "string", Default: `""`, Doc: `IP address routes listen on, such as "127.0.0.1" or "::1"; empty listens on every address.`},
			},
		},
		{
			Type: "postgres", Labels: []string{"name"}, Repeatable: true,
			Doc: "A PostgreSQL database with versioned migrations and backups.",
			Attrs: []*AttrSchema{
				{Name: "url", Type: "string", Required: true, Doc: "Connection URL; always treated as sensitive."},
				{Name: "migrations", Type: "string", Default: `""`, Doc: "Directory of versioned SQL migrations (0042_name.sql); empty means none."},
				{Name: "restore_on_failure", Type: "bool", Default: "false", Doc: "Restore the pre-release backup automatically when a migration fails."},
				{Name: "bin_dir", Type: "string", Default: `""`, Doc: "Where pg_dump, pg_restore and psql are; empty searches PATH, then /usr/lib/postgresql/*/bin."},
			},
			Blocks: []*BlockSchema{{
				Type: "migrate", Doc: "Migrations the application runs itself, as a one-off container from the new release's image.",
				Attrs: []*AttrSchema{
					{Name: "service", Type: "string", Required: true, Doc: "The service whose new image runs the command."},
					{Name: "command", Type: "list(string)", Required: true, Doc: `The command, such as ["python", "manage.py", "migrate"].`},
				},
			}, {
				Type: "backup", Doc: "pg_dump backups taken before changing the database.",
				Attrs: []*AttrSchema{
					{Name: "dir", Type: "string", Required: true, Doc: "Directory for dumps."},
					{Name: "keep", Type: "number", Default: "0", Whole: true, Max: maxKeep, Doc: "Dumps kept; 0 keeps all."},
					{Name: "when", Type: "string", Default: `"migrations"`, Doc: `"migrations" (only before migrating), "always" or "never".`},
				},
			}},
		},
		{
			Type: "service", Labels: []string{"name"}, Repeatable: true,
			Doc: "A containerised application and how a release reaches it.",
			Attrs: []*AttrSchema{
				{Name: "image", Type: "string", Required: true, Doc: "Image reference, [registry[:port]/]name[:tag][@sha256:digest] with a lower-case name (the grammar of github.com/distribution/reference)."},
				{Name: "replicas", Type: "number", Default: "1", Whole: true, Min: 1, Max: maxReplicas, Doc: "Containers to run."},
				{Name: "port", Type: "number", Required: true, Whole: true, Min: 1, Max: 65535, Doc: "Container port nginx proxies to."},
				{Name: "env", Type: "map(string)", Doc: "Container environment, names [A-Za-z_][A-Za-z0-9_]*; values from sensitive variables stay sensitive."},
				{Name: "command", Type: "list(string)", Doc: "Overrides the image's command."},
				{Name: "volumes", Type: "list(string)", Doc: "Docker volumes, [src:]dst[:opts]: dst an absolute path, src an absolute host path or a volume name, opts among rw, ro, z, Z, nocopy, a propagation and a consistency."},
				{Name: "networks", Type: "list(string)", Doc: "Docker networks to join."},
				{Name: "extra_hosts", Type: "list(string)", Doc: "Extra /etc/hosts entries, NAME:IP or NAME:host-gateway, e.g. host.docker.internal:host-gateway."},
				{Name: "memory", Type: "string", Default: `""`, Doc: `Memory limit, a whole number with an optional unit b, k, m or g, from 6m (Docker's least) to 1024g, e.g. "256m"; empty or "0" means none.`},
				{Name: "cpus", Type: "number", Default: "0", Max: 1024, Doc: "CPU limit; 0 means none, else at least 0.01 (Docker also refuses more CPUs than the host has)."},
				{Name: "restart", Type: "string", Default: `"unless-stopped"`, Doc: `Docker restart policy: "unless-stopped", "always", "on-failure" or "no". A change applies to the live containers in place, without a release.`},
				{Name: "stop_timeout", Type: "duration", Default: `"10s"`, MaxDuration: time.Hour, Doc: "Grace period between SIGTERM and SIGKILL."},
				{Name: "host_ip", Type: "string", Default: `"127.0.0.1"`, Doc: "Host IP address the container port is published on."},
				{Name: "migrate", Type: "string", Default: `"before"`, Doc: `When database migrations run relative to this service's change: "before" or "after".`},
				{Name: "pull", Type: "string", Default: `"missing"`, Doc: `When the image comes from its registry: "missing" (only when the engine lacks it), "always" (plan reads the registry's digest every time, and apply pulls it when the engine lacks it) or "never". Not with a build block.`},
			},
			Blocks: []*BlockSchema{
				{
					Type: "build", Doc: "Build the image from source through the Docker engine and tag it image; plan builds only when no local image carries the digest of the context (files, Dockerfile, args and target), or with -build.",
					Attrs: []*AttrSchema{
						{Name: "context", Type: "string", Required: true, Doc: "Directory sent to the engine, relative to the configuration; its .dockerignore leaves files out."},
						{Name: "dockerfile", Type: "string", Default: `"Dockerfile"`, Doc: "The Dockerfile, relative to the context and inside it."},
						{Name: "args", Type: "map(string)", Doc: "Build arguments (ARG); they may use variables, never a sensitive one."},
						{Name: "target", Type: "string", Default: `""`, Doc: "Stage of a multi-stage Dockerfile to build; empty builds the last."},
					},
				},
				{
					Type: "health", Doc: "The HTTP probe that gates traffic to new containers.",
					Attrs: []*AttrSchema{
						{Name: "path", Type: "string", Default: `"/health"`, Doc: "Path probed with GET; 2xx and 3xx are healthy."},
						{Name: "interval", Type: "duration", Default: `"1s"`, MaxDuration: time.Hour, Doc: "Time between probes."},
						{Name: "timeout", Type: "duration", Default: `"1s"`, MaxDuration: time.Hour, Doc: "Time one probe may take; longer than interval draws a warning."},
						{Name: "healthy_threshold", Type: "number", Default: "2", Whole: true, Min: 1, Max: 100, Doc: "Consecutive successes needed."},
						{Name: "deadline", Type: "duration", Default: `"60s"`, MaxDuration: 24 * time.Hour, Doc: "Time the whole gate may take before the release fails."},
					},
				},
				{
					Type: "route", Doc: "The nginx server and location that serve this service.",
					Attrs: []*AttrSchema{
						{Name: "listen", Type: "number", Default: "80", Whole: true, Min: 1, Max: 65535, Doc: "Port nginx listens on; routes sharing a port all serve TLS or none."},
						{Name: "server_name", Type: "string", Default: `"_"`, Doc: `nginx server_name: one name of letters, digits, '_' and '-' in dot-separated labels, with at most one wildcard (a leading "*." or "." or a trailing ".*") and at most 46 characters besides it (what nginx's default server_names_hash_bucket_size holds); no regular expression. Two routes on a port with one name shadow each other.`},
						{Name: "location", Type: "string", Default: `"/"`, Doc: `nginx prefix location starting with "/", or "= /path" for an exact match; no regular expression, whitespace, quotes, backslashes, ';', '{', '}', '$' or '#'.`},
						{Name: "tls_cert", Type: "string", Default: `""`, Doc: "Certificate file; set with tls_key to serve TLS. No quotes, backslashes, '$' or control characters."},
						{Name: "tls_key", Type: "string", Default: `""`, Doc: "Private key file; set with tls_cert. No quotes, backslashes, '$' or control characters."},
						{Name: "proxy_timeout", Type: "duration", Default: `"60s"`, MaxDuration: 24 * time.Hour, Doc: "nginx proxy read and send timeout."},
					},
				},
				{
					Type: "blue_green", OneOf: "strategy", Doc: "Start the new color beside the old and switch all traffic at once (the default strategy).",
					Attrs: []*AttrSchema{
						{Name: "keep_previous", Type: "string", Default: `"running"`, Doc: `The old color after the switch: "running", "stopped" or "removed".`},
					},
				},
				{
					Type: "canary", OneOf: "strategy", Doc: "Move the new version's share of requests in steps, analysing each.",
					Attrs: []*AttrSchema{
						{Name: "steps", Type: "list(step)", Required: true, Doc: "Percentages, or objects { percent, pause, approve }; strictly increasing, ending at 100."},
						{Name: "pause", Type: "duration", Default: `"0s"`, MaxDuration: maxPause, Doc: "Wait after each step; a step's own pause has the same bound."},
						{Name: "analysis", Type: "string", Default: `""`, Doc: "Name of the analysis block that judges each step."},
						{Name: "sticky_cookie", Type: "string", Default: `""`, Doc: "Cookie (letters, digits and '_') that keeps a client on one version; empty splits per request."},
						{Name: "header", Type: "string", Default: `"X-Slipway-Canary"`, Doc: "A request with this header (letters, digits and '-') goes to the new version."},
					},
				},
				{
					Type: "rolling", OneOf: "strategy", Doc: "Replace replicas in batches, draining each from nginx first.",
					Attrs: []*AttrSchema{
						{Name: "batch_size", Type: "number", Default: "1", Whole: true, Min: 1, Max: maxReplicas, Doc: "Replicas replaced at once; at most the service's replicas."},
						{Name: "max_unavailable", Type: "number", Default: "0", Whole: true, Max: maxReplicas, Doc: "Replicas that may be down at once."},
						{Name: "drain", Type: "duration", Default: `"5s"`, MaxDuration: time.Hour, Doc: "Wait after taking a replica out of nginx before stopping it; 0 still waits 2s when the service has a route."},
						{Name: "pause", Type: "duration", Default: `"0s"`, MaxDuration: 24 * time.Hour, Doc: "Wait between batches."},
					},
				},
				{
					Type: "watch", Doc: "Keep analysing the live version after a release reaches all traffic ('slipway watch'); a fail verdict rolls back to the previous release.",
					Attrs: []*AttrSchema{
						{Name: "duration", Type: "duration", Required: true, MaxDuration: maxPause, Doc: "How long the watch lasts, such as \"1h\"."},
						{Name: "analysis", Type: "string", Default: `""`, Doc: "Name of the analysis block judging the live version; empty means the canary's. Only absolute levels apply: there is no stable version to compare with."},
					},
					Blocks: []*BlockSchema{{
						Type: "stage", Repeatable: true, Doc: "From a time on, judge with another (usually stricter or looser) analysis block, as in a T+0-5m / T+5-30m / T+30-60m timeline.",
						Attrs: []*AttrSchema{
							{Name: "after", Type: "duration", Required: true, MaxDuration: maxPause, Doc: "Time since the watch began when this stage starts; stages go in increasing order."},
							{Name: "analysis", Type: "string", Required: true, Doc: "Name of the analysis block judging from then on."},
						},
					}},
				},
				{
					Type: "hotfix", OneOf: "strategy", Doc: "Recreate in place with minimal verification; brief downtime is accepted.",
					Attrs: []*AttrSchema{
						{Name: "reason", Type: "string", Doc: "Why; recorded in the release record. Required here or as -reason on the command line."},
					},
				},
			},
		},
		{
			Type: "analysis", Labels: []string{"name"}, Repeatable: true,
			Doc: "How a canary step is judged against the stable version.",
			Attrs: []*AttrSchema{
				{Name: "source", Type: "string", Default: `"nginx"`, Doc: `Where readings come from: "nginx" (access log), "prometheus" or "probe".`},
				{Name: "interval", Type: "duration", Default: `"30s"`, MaxDuration: time.Hour, Doc: "Length of one reading."},
				{Name: "min_requests", Type: "number", Default: "50", Whole: true, Max: 1000000, Doc: "Fewer requests in a reading give no data, never a pass."},
				{Name: "query_error_limit", Type: "number", Default: "3", Whole: true, Min: 1, Max: 1000, Doc: "Readings in a row whose metric queries failed that count as no data; one more fails the step."},
			},
			Blocks: []*BlockSchema{
				{Type: "error_rate", Doc: "Share of 5xx responses.", Attrs: threshold("percent", `"1%" or 1`, `"2%" is 2 percentage points`)},
				{Type: "latency_p95", Doc: "95th percentile response time.", Attrs: threshold("duration", `"2s"`, `"500ms"`)},
				{
					Type: "prometheus", Doc: "The Prometheus HTTP API and the PromQL the prometheus source runs, once per version and reading; {{version}} is \"stable\" or \"candidate\", {{release}} that version's release number (container label io.slipway.release), {{interval}} the reading's length.",
					Attrs: []*AttrSchema{
						{Name: "url", Type: "string", Required: true, Doc: `Base URL of the API, such as "http://127.0.0.1:9090".`},
						{Name: "requests", Type: "string", Required: true, Doc: "Requests a version served in the reading, such as sum(increase(http_requests_total{release=\"{{release}}\"}[{{interval}}]))."},
						{Name: "errors", Type: "string", Required: true, Doc: "Failed requests among them (5xx)."},
						{Name: "p50", Type: "string", Default: `""`, Doc: "Median response time in seconds; empty reads none."},
						{Name: "p95", Type: "string", Default: `""`, Doc: "95th percentile response time in seconds; needed by latency_p95."},
						{Name: "p99", Type: "string", Default: `""`, Doc: "99th percentile response time in seconds; empty reads none."},
					},
				},
			},
		},
		{
			Type: "check", Labels: []string{"name"}, Repeatable: true,
			Doc: "A condition verified before, during or after a release; holds exactly one kind block.",
			Attrs: []*AttrSchema{
				{Name: "phase", Type: "string", Default: `"pre"`, Doc: `When it runs: "pre", "preview" or "post".`},
				{Name: "severity", Type: "string", Default: `"critical"`, Doc: `"critical" (fails the release) or "warning".`},
				{Name: "tags", Type: "list(string)", Doc: "Labels for selecting checks."},
			},
			Blocks: kinds,
		},
		{
			Type: "notify", Labels: []string{"name"}, Repeatable: true,
			Doc: "A webhook told about release events.",
			Attrs: []*AttrSchema{
				{Name: "webhook", Type: "string", Required: true, Doc: "http:// or https:// URL posted to; always treated as sensitive."},
				{Name: "on", Type: "list(string)", Doc: "Events sent; default all: started, paused, promoted, aborted, succeeded, failed, rolled_back, rollback_failed, degraded, recovered."},
				{Name: "format", Type: "string", Default: `"json"`, Doc: `Payload format: "json" or "slack".`},
			},
		},
	}
}

// bodySchema builds the hcl.BodySchema of a block's body from the table.
func (b *BlockSchema) bodySchema() *hcl.BodySchema {
	s := &hcl.BodySchema{}
	for _, a := range b.Attrs {
		s.Attributes = append(s.Attributes, hcl.AttributeSchema{Name: a.Name, Required: a.Required})
	}
	for _, nb := range b.Blocks {
		s.Blocks = append(s.Blocks, hcl.BlockHeaderSchema{Type: nb.Type, LabelNames: nb.Labels})
	}
	return s
}

// topSchema builds the top-level hcl.BodySchema from the table.
func topSchema(table []*BlockSchema) *hcl.BodySchema {
	return (&BlockSchema{Blocks: table}).bodySchema()
}

// Attr returns the attribute schema named name, or nil.
func (b *BlockSchema) Attr(name string) *AttrSchema {
	for _, a := range b.Attrs {
		if a.Name == name {
			return a
		}
	}
	return nil
}

// block returns the nested block schema of type typ, or nil.
func (b *BlockSchema) block(typ string) *BlockSchema {
	for _, nb := range b.Blocks {
		if nb.Type == typ {
			return nb
		}
	}
	return nil
}
