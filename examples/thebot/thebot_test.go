package thebot_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/hcl/v2"
	"github.com/slipwayhq/slipway/checks"
	"github.com/slipwayhq/slipway/config"
)

// vars are the values the example needs; the secret key is 60 characters.
var vars = []string{
	"version=1.3.0",
	"secret_key=" + strings.Repeat("k3y-", 15),
	"database_url=postgres://thebot:pw@127.0.0.1:5432/thebot_db?sslmode=disable",
}

var environ = []string{"SLACK_WEBHOOK_URL=https://hooks.slack.example/services/T000/B000/XXXXXXXXXXXXXXXX"}

// load loads the example. Its only diagnostic may be the warning that the
// backend's /api/ and the frontend's / share server_name and port 443:
// each route is an nginx server of its own, and nginx answers a name on a
// port from one server only, so one location is never reached until the
// renderer puts routes of one server name into one server block.
func load(t *testing.T, env string, extra ...string) *config.Config {
	t.Helper()
	cfg, diags := config.Load(".", config.LoadOptions{Env: env, Environ: environ, Vars: append(append([]string(nil), vars...), extra...)})
	for _, d := range diags {
		if d.Severity == hcl.DiagError || d.Summary != "Route Shadowed" {
			t.Fatalf("examples/thebot does not validate cleanly:\n%s", diags)
		}
	}
	return cfg
}

// TestValidates proves the example loads without errors or other warnings,
// in production and with -env staging, and every check's kind block is
// valid.
func TestValidates(t *testing.T) {
	cfg := load(t, "")
	if got := cfg.Service("backend").Route.ServerName; got != "thebot.example.com" {
		t.Errorf("production server_name %q", got)
	}
	if got := load(t, "staging").Service("frontend").Route.ServerName; got != "staging.thebot.example.com" {
		t.Errorf("staging server_name %q: staging.vars.hcl not applied", got)
	}
	phases := map[string]int{}
	for _, ck := range cfg.Checks {
		phases[ck.Phase]++
		if err := checks.Validate(ck); err != nil {
			t.Error(err)
		}
	}
	for _, p := range []string{"pre", "preview", "post"} {
		if phases[p] == 0 {
			t.Errorf("no %s checks", p)
		}
	}
}

// TestSeedThresholds pins what the example takes from the seed runbook:
// the canary steps, the analysis thresholds of the rollback decision tree,
// blue-green for the frontend, backups before migrations, a webhook for
// failures.
func TestSeedThresholds(t *testing.T) {
	cfg := load(t, "")
	backend := cfg.Service("backend")
	if backend.Strategy != "canary" {
		t.Fatalf("backend strategy %q, want canary", backend.Strategy)
	}
	var steps []int
	for _, s := range backend.Canary.Steps {
		steps = append(steps, s.Percent)
	}
	if got := fmt.Sprint(steps); got != "[5 25 50 100]" {
		t.Errorf("canary steps %s, want [5 25 50 100]", got)
	}
	if backend.Canary.Pause != 5*time.Minute {
		t.Errorf("canary pause %s, want 5m", backend.Canary.Pause)
	}
	an := cfg.Analysis(backend.Canary.Analysis)
	if an == nil {
		t.Fatalf("canary analysis %q not declared", backend.Canary.Analysis)
	}
	if an.ErrorRate == nil || an.ErrorRate.Warn != 0.01 || an.ErrorRate.Fail != 0.05 || an.ErrorRate.WarnFor != 2*time.Minute {
		t.Errorf("error_rate %+v, want warn 1%%, fail 5%%, warn_for 2m", an.ErrorRate)
	}
	if an.LatencyP95 == nil || an.LatencyP95.Warn != 2 || an.LatencyP95.Fail != 5 || an.LatencyP95.WarnFor != 5*time.Minute {
		t.Errorf("latency_p95 %+v, want warn 2s, fail 5s, warn_for 5m", an.LatencyP95)
	}
	if s := cfg.Service("frontend"); s == nil || s.Strategy != "blue_green" {
		t.Errorf("frontend is not blue_green")
	}
	if len(cfg.Postgres) != 1 || cfg.Postgres[0].Backup == nil || cfg.Postgres[0].Migrations == "" {
		t.Errorf("postgres needs migrations and backups")
	}
	if len(cfg.Notifies) != 1 || !contains(cfg.Notifies[0].On, "failed") || !contains(cfg.Notifies[0].On, "rolled_back") {
		t.Errorf("notify must cover failed and rolled_back")
	}
}

// TestRefusesWeakSecret proves the seed's "SECRET_KEY strong (50+ chars)"
// and placeholder rules hold.
func TestRefusesWeakSecret(t *testing.T) {
	for _, key := range []string{"short", strings.Repeat("changeme", 8)} {
		_, diags := config.Load(".", config.LoadOptions{Environ: environ, Vars: []string{vars[0], "secret_key=" + key, vars[2]}})
		if !diags.HasErrors() {
			t.Errorf("secret key %q accepted", key[:5])
		}
	}
}

// TestFormatted proves `slipway fmt -check` passes on the example.
func TestFormatted(t *testing.T) {
	files, err := filepath.Glob("*.hcl")
	if err != nil || len(files) == 0 {
		t.Fatalf("no hcl files: %v", err)
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if string(config.Format(b)) != string(b) {
			t.Errorf("%s is not formatted: run slipway -chdir=examples/thebot fmt", f)
		}
	}
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}
