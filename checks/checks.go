package checks

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/slipwayhq/slipway/config"
	"github.com/slipwayhq/slipway/internal/panics"
	"github.com/slipwayhq/slipway/internal/redact"
	"github.com/slipwayhq/slipway/providers"
	"github.com/zclconf/go-cty/cty"
)

// Statuses of a Result.
const (
	StatusPass = "pass"
	StatusFail = "fail"
	StatusSkip = "skip"
)

// DefaultTimeout bounds a check whose kind block sets no timeout.
const DefaultTimeout = 10 * time.Second

// DefaultParallel is how many checks Run runs at once when Env.Parallel is
// 0: enough that a runbook's worth of slow HTTP checks take as long as the
// slowest, few enough to stay polite to the machine.
const DefaultParallel = 32

// SlowTag is the tag that Select leaves out with quick.
const SlowTag = "slow"

// Sentinel errors; a Result's Err holds their text, the check functions
// wrap them.
var (
	// ErrInvalidAttribute: a kind block's attribute is unknown, missing or
	// of the wrong type.
	ErrInvalidAttribute = errors.New("invalid attribute")
	// ErrUnknownKind: the check's kind is not one this package runs.
	ErrUnknownKind = errors.New("unknown check kind")
	// ErrUnavailable: what the check needs (a database, the runtime, nginx)
	// is not configured.
	ErrUnavailable = errors.New("not available")
	// ErrTimeout: the check did not finish within its timeout.
	ErrTimeout = errors.New("timed out")
)

// Result is the outcome of one check, as shown by `slipway check` and kept
// in release records. Evidence and Err are masked.
type Result struct {
	// Name, Kind, Phase and Severity come from the check block.
	Name     string `json:"name"`
	Kind     string `json:"kind"`
	Phase    string `json:"phase"`
	Severity string `json:"severity"`
	// Status is "pass", "fail" or "skip".
	Status string `json:"status"`
	// Evidence is what was observed, also on failure (status code and
	// latency, days to expiry, the tail of a command's output, ...). It may
	// hold several lines.
	Evidence string `json:"evidence,omitempty"`
	// Duration is how long the check ran.
	Duration time.Duration `json:"duration_ns"`
	// Err says why the check failed or was skipped; "" when it passed.
	Err string `json:"error,omitempty"`
}

// Failed reports whether the check failed.
func (r Result) Failed() bool { return r.Status == StatusFail }

// Env is what checks run against. The zero value works for the kinds that
// need nothing but the network, the file system and the process
// environment.
type Env struct {
	// Dir is the configuration directory: relative paths (command dir, git,
	// disk, cert_file) resolve against it. Default ".".
	Dir string
	// Environ is the environment env checks read and command checks
	// inherit, as KEY=VALUE. Default os.Environ().
	Environ []string
	// Mask replaces every sensitive value in a string. Default: identity.
	// Values of a check's attributes derived from sensitive variables are
	// masked as well, whatever Mask does, by the rule of internal/redact
	// (values shorter than redact.MinLen are left alone).
	Mask func(string) string
	// Candidate is "http://127.0.0.1:PORT" of one candidate container, for
	// {{candidate.url}} and {{candidate.address}} in preview checks; ""
	// outside a release, and such checks are then skipped.
	Candidate string
	// Database opens the postgres block named name for postgres checks;
	// nil makes them fail with ErrUnavailable. no_pending needs the
	// database's providers.MigrationLister ability, replication its
	// providers.Replicator; a database that is an io.Closer is closed
	// after the check.
	Database func(name string) (providers.Database, error)
	// Runtime, Project and StateEnv are for container checks: the
	// containers of Project in StateEnv. A nil Runtime makes them fail with
	// ErrUnavailable.
	Runtime  providers.Runtime
	Project  string
	StateEnv string
	// NginxTest runs "nginx -t" and returns its output; nil makes nginx
	// checks fail with ErrUnavailable.
	NginxTest func(ctx context.Context) (string, error)
	// Parallel bounds how many checks run at once. Default DefaultParallel.
	Parallel int
}

func (e Env) withDefaults() Env {
	if e.Dir == "" {
		e.Dir = "."
	}
	if e.Environ == nil {
		e.Environ = os.Environ()
	}
	if e.Mask == nil {
		e.Mask = func(s string) string { return s }
	}
	if e.Parallel <= 0 {
		e.Parallel = DefaultParallel
	}
	return e
}

// runFunc runs one parsed check and returns its evidence, or an error
// (with whatever evidence was gathered) when it fails.
type runFunc func(ctx context.Context, env *Env) (evidence string, err error)

// skipError makes a check skip instead of fail.
type skipError struct{ reason string }

func (e *skipError) Error() string { return e.reason }

// Attributes returns the attribute names a kind block takes, "timeout"
// included, sorted; nil for an unknown kind.
func Attributes(kind string) []string {
	var names []string
	switch kind {
	case "http":
		names = []string{"url", "method", "headers", "body", "status", "body_contains", "body_regex", "max_latency"}
	case "tcp":
		names = []string{"address"}
	case "websocket":
		names = []string{"url", "headers", "send", "expect"}
	case "command":
		names = []string{"argv", "dir", "env"}
	case "env":
		names = []string{"names", "min_length", "forbidden"}
	case "tls":
		names = []string{"address", "cert_file", "server_name", "ca_file", "min_days"}
	case "git":
		names = []string{"dir", "clean", "branch", "untracked"}
	case "disk":
		names = []string{"path", "min_free"}
	case "memory":
		names = []string{"max_used"}
	case "postgres":
		names = []string{"database", "max_latency", "no_pending", "replication", "max_replication_lag"}
	case "redis":
		names = []string{"address", "password", "max_latency"}
	case "nginx":
		names = []string{}
	case "container":
		names = []string{"service", "min_running"}
	case "static":
		names = []string{"url", "content_type", "headers"}
	case "assert":
		names = []string{"condition", "error_message"}
	case "registry":
		names = []string{"image"}
	default:
		return nil
	}
	names = append(names, "timeout")
	sort.Strings(names)
	return names
}

// parse turns a check's kind block into a runFunc and its timeout.
func parse(c *config.Check, candidate string) (runFunc, time.Duration, bool, error) {
	valid := Attributes(c.Kind)
	if valid == nil {
		return nil, 0, false, fmt.Errorf("%w %q (one of %s)", ErrUnknownKind, c.Kind, strings.Join(config.CheckKinds(), ", "))
	}
	a := newAttrs(c.Kind, c.Attrs, candidate)
	a.check(valid)
	timeout := a.duration("timeout", DefaultTimeout)
	var run runFunc
	switch c.Kind {
	case "http":
		run = parseHTTP(a)
	case "tcp":
		run = parseTCP(a)
	case "websocket":
		run = parseWebSocket(a)
	case "command":
		run = parseCommand(a)
	case "env":
		run = parseEnv(a)
	case "tls":
		run = parseTLS(a)
	case "git":
		run = parseGit(a)
	case "disk":
		run = parseDisk(a)
	case "memory":
		run = parseMemory(a)
	case "postgres":
		run = parsePostgres(a)
	case "redis":
		run = parseRedis(a)
	case "nginx":
		run = parseNginx(a)
	case "container":
		run = parseContainer(a)
	case "static":
		run = parseStatic(a)
	case "assert":
		run = parseAssert(a)
	case "registry":
		run = parseRegistry(a)
	}
	return run, timeout, a.needsCandidate, a.err()
}

// Validate reports every problem with a check's kind block: an unknown
// kind, unknown attributes, missing required ones, wrong types. It runs
// nothing. Candidate placeholders are accepted.
func Validate(c *config.Check) error {
	_, _, _, err := parse(c, "http://127.0.0.1:1")
	if err != nil {
		return fmt.Errorf("check %q: %w", c.Name, err)
	}
	return nil
}

// Run runs cks, at most env.Parallel at once, each bounded by its timeout,
// and returns their results in the order of cks. It never fails as a
// whole: a check that cannot run has a failing Result. Cancelling ctx
// fails the checks still running.
func Run(ctx context.Context, cks []*config.Check, env Env) []Result {
	env = env.withDefaults()
	var secrets []string
	for _, c := range cks {
		for _, v := range c.Attrs {
			secrets = sensitiveStrings(v, false, secrets)
		}
	}
	own := redact.New(secrets...)
	outer := env.Mask
	env.Mask = func(s string) string { return outer(own.Mask(s)) }

	results := make([]Result, len(cks))
	sem := make(chan struct{}, env.Parallel)
	var wg sync.WaitGroup
	for i, c := range cks {
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer panics.Recover()
			sem <- struct{}{}
			defer func() { <-sem }()
			results[i] = runOne(ctx, c, &env)
		}()
	}
	wg.Wait()
	return results
}

// runOne runs one check, recovering from a panic in a kind so that one
// bad check cannot take the others down.
func runOne(ctx context.Context, c *config.Check, env *Env) (r Result) {
	r = Result{Name: c.Name, Kind: c.Kind, Phase: c.Phase, Severity: c.Severity}
	if r.Phase == "" {
		r.Phase = "pre"
	}
	if r.Severity == "" {
		r.Severity = "critical"
	}
	start := time.Now()
	defer func() {
		if p := recover(); p != nil {
			r.Status, r.Err = StatusFail, env.Mask(fmt.Sprintf("check panicked: %v", p))
		}
		r.Duration = time.Since(start)
	}()
	run, timeout, needsCandidate, err := parse(c, env.Candidate)
	if err != nil {
		r.Status, r.Err = StatusFail, env.Mask(err.Error())
		return r
	}
	if needsCandidate {
		r.Status, r.Err = StatusSkip, "needs a candidate ({{candidate.url}}); runs during a release"
		return r
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	evidence, err := run(ctx, env)
	r.Evidence = env.Mask(evidence)
	var skip *skipError
	switch {
	case err == nil:
		r.Status = StatusPass
	case errors.As(err, &skip):
		r.Status, r.Err = StatusSkip, env.Mask(skip.reason)
	default:
		if ctx.Err() == context.DeadlineExceeded && !errors.Is(err, ErrTimeout) {
			err = fmt.Errorf("%w after %s: %w", ErrTimeout, timeout, err)
		}
		r.Status, r.Err = StatusFail, env.Mask(err.Error())
	}
	return r
}

// Select returns the checks of cfg for phase ("pre", "preview", "post";
// "" or "all" for every phase), leaving out those with a tag in skipTags
// and, with quick, those tagged SlowTag. Declaration order is kept.
func Select(cfg *config.Config, phase string, skipTags []string, quick bool) []*config.Check {
	if cfg == nil {
		return nil
	}
	skip := map[string]bool{}
	for _, t := range skipTags {
		skip[t] = true
	}
	if quick {
		skip[SlowTag] = true
	}
	var out []*config.Check
	for _, c := range cfg.Checks {
		p := c.Phase
		if p == "" {
			p = "pre"
		}
		if phase != "" && phase != "all" && p != phase {
			continue
		}
		skipped := false
		for _, t := range c.Tags {
			skipped = skipped || skip[t]
		}
		if !skipped {
			out = append(out, c)
		}
	}
	return out
}

// ExitCode is the exit code of `slipway check` for results: 0 when none
// failed (skips do not fail), 1 when only warning checks failed, 2 when a
// critical check failed. With strict, any failure gives 2.
func ExitCode(results []Result, strict bool) int {
	code := 0
	for _, r := range results {
		if !r.Failed() {
			continue
		}
		if strict || r.Severity != "warning" {
			return 2
		}
		code = 1
	}
	return code
}

// boolValue reads a bool cty value that may be marked; ok is false when it
// is not a known bool.
func boolValue(v cty.Value) (b, ok bool) {
	if v.IsNull() {
		return false, false
	}
	v, _ = v.UnmarkDeep()
	if v.IsNull() || !v.IsKnown() || v.Type() != cty.Bool {
		return false, false
	}
	return v.True(), true
}
