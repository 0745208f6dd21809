package config

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/hcl/v2"
	"github.com/rogpeppe/go-internal/txtar"
	"github.com/zclconf/go-cty/cty"
)

// secretKey is a value that passes the full config's validation rule.
const secretKey = "k3y-0123456789-0123456789-0123456789-0123456789-0123456789"

// fullEnviron is the environment the full config is loaded with.
var fullEnviron = []string{"DATABASE_URL=postgres://app:pw@127.0.0.1/app", "SLACK_WEBHOOK_URL=https://hooks.example.com/T0/B0"}

// loadFull loads testdata/full with the values it requires.
func loadFull(t *testing.T) *Config {
	t.Helper()
	cfg, diags := Load("testdata/full", LoadOptions{
		Vars:    []string{"version=1.3.0", "secret_key=" + secretKey},
		Environ: fullEnviron,
	})
	if len(diags) > 0 {
		t.Fatalf("Load: unexpected diagnostics:\n%s", render(cfg, diags))
	}
	return cfg
}

// render renders diagnostics with source snippets for test failures.
func render(cfg *Config, diags hcl.Diagnostics) string {
	var b strings.Builder
	w := hcl.NewDiagnosticTextWriter(&b, cfg.Files, 100, false)
	_ = w.WriteDiagnostics(diags)
	return b.String()
}

func TestLoadFull(t *testing.T) {
	cfg := loadFull(t)
	if cfg.Project.Name != "thebot" || cfg.Project.StatePath != "/var/lib/slipway/thebot" || cfg.Project.Keep != 20 {
		t.Errorf("Project = %+v", cfg.Project)
	}
	if got := cfg.Project.DeclRange; filepath.Base(got.Filename) != "main.hcl" || got.Start.Line != 1 {
		t.Errorf("Project.DeclRange = %v, want main.hcl:1", got)
	}
	if len(cfg.Files) != 2 {
		t.Errorf("Files has %d entries, want 2", len(cfg.Files))
	}
	if got := []string{cfg.Variables[0].Name, cfg.Variables[1].Name, cfg.Variables[2].Name}; strings.Join(got, ",") != "version,secret_key,replicas" {
		t.Errorf("Variables order = %v", got)
	}
	if !cfg.Variables[1].Sensitive || cfg.Variables[1].Type != cty.String {
		t.Errorf("secret_key = %+v", cfg.Variables[1])
	}
	if !cfg.Values["secret_key"].HasMark(SensitiveMark) || cfg.Values["version"].IsMarked() {
		t.Errorf("Values marks: secret_key %v, version %v", cfg.Values["secret_key"].IsMarked(), cfg.Values["version"].IsMarked())
	}
	if cfg.Docker.Host != "unix:///var/run/docker.sock" {
		t.Errorf("Docker = %+v", cfg.Docker)
	}
	if n := cfg.Nginx; n == nil || n.ConfigDir != "/etc/nginx/conf.d" || n.Binary != "nginx" || n.Switch != "auto" || n.AdminDir != "/run/slipway/nginx" {
		t.Errorf("Nginx = %+v", cfg.Nginx)
	}
	pg := cfg.PostgresDB("main")
	if pg == nil || pg.URL.Value != "postgres://app:pw@127.0.0.1/app" || !pg.URL.Sensitive || pg.Migrations != "./migrations" {
		t.Fatalf("PostgresDB(main) = %+v", pg)
	}
	if pg.Backup == nil || *pg.Backup != (Backup{Dir: "./backups", Keep: 10, When: "migrations"}) {
		t.Errorf("Backup = %+v", pg.Backup)
	}

	if got := names(cfg.Services, func(s *Service) string { return s.Name }); got != "backend,frontend,worker" {
		t.Errorf("Services = %s", got)
	}
	be := cfg.Service("backend")
	if be.Image != "thebot/backend:1.3.0" || be.Replicas != 2 || be.Port != 8000 || be.HostIP != "127.0.0.1" || be.Restart != "unless-stopped" || be.StopTimeout != 10*time.Second {
		t.Errorf("backend = %+v", be)
	}
	wantEnv := []EnvVar{{"DEBUG", "false", false}, {"DSN", "key=" + secretKey, true}, {"SECRET_KEY", secretKey, true}}
	if fmt.Sprint(be.Env) != fmt.Sprint(wantEnv) {
		t.Errorf("backend.Env = %v, want %v", be.Env, wantEnv)
	}
	if *be.Health != (Health{Path: "/api/health", Interval: 2 * time.Second, Timeout: time.Second, Deadline: time.Minute, HealthyThreshold: 2, DeclRange: be.Health.DeclRange}) {
		t.Errorf("backend.Health = %+v", be.Health)
	}
	if r := be.Route; r == nil || r.Listen != 80 || r.ServerName != "thebot.example.com" || r.Location != "/" || r.ProxyTimeout != time.Minute {
		t.Errorf("backend.Route = %+v", be.Route)
	}
	if be.Strategy != "canary" || be.Canary == nil || be.BlueGreen != nil || be.Rolling != nil || be.Hotfix != nil {
		t.Fatalf("backend strategy = %s %+v", be.Strategy, be)
	}
	wantSteps := []CanaryStep{{Percent: 5}, {Percent: 25}, {Percent: 50, Pause: 10 * time.Minute, Approve: true}, {Percent: 100}}
	if fmt.Sprint(be.Canary.Steps) != fmt.Sprint(wantSteps) || be.Canary.Pause != 5*time.Minute || be.Canary.Analysis != "standard" || be.Canary.Header != "X-Slipway-Canary" {
		t.Errorf("backend.Canary = %+v", be.Canary)
	}

	fe := cfg.Service("frontend")
	if fe.Replicas != 1 || fe.Health.Path != "/health" || fe.Health.Deadline != time.Minute || fe.Route.Listen != 80 || fe.Route.Location != "/app/" {
		t.Errorf("frontend defaults = %+v health %+v route %+v", fe, fe.Health, fe.Route)
	}
	if fe.Strategy != "blue_green" || fe.BlueGreen == nil || fe.BlueGreen.KeepPrevious != "running" {
		t.Errorf("frontend strategy = %s %+v", fe.Strategy, fe.BlueGreen)
	}
	wk := cfg.Service("worker")
	if wk.Route != nil || wk.Strategy != "rolling" || *wk.Rolling != (Rolling{BatchSize: 2, Drain: 5 * time.Second, DeclRange: wk.Rolling.DeclRange}) || strings.Join(wk.Command, " ") != "celery worker" {
		t.Errorf("worker = %+v rolling %+v", wk, wk.Rolling)
	}

	an := cfg.Analysis("standard")
	if an.Source != "nginx" || an.Interval != 30*time.Second || an.MinRequests != 50 {
		t.Errorf("analysis = %+v", an)
	}
	if e := an.ErrorRate; e.Warn != 0.01 || e.Fail != 0.05 || e.WarnFor != 2*time.Minute {
		t.Errorf("error_rate = %+v", e)
	}
	if l := an.LatencyP95; l.Warn != 2 || l.Fail != 5 || l.WarnFor != 5*time.Minute {
		t.Errorf("latency_p95 = %+v", l)
	}

	ck := cfg.Check("secret_key_set")
	if ck.Phase != "pre" || ck.Severity != "critical" || ck.Kind != "env" || !ck.Attrs["names"].Type().IsTupleType() {
		t.Errorf("check secret_key_set = %+v", ck)
	}
	api := cfg.Check("api")
	if api.Phase != "post" || api.Severity != "warning" || strings.Join(api.Tags, ",") != "smoke" || api.Kind != "http" {
		t.Errorf("check api = %+v", api)
	}
	if !api.Attrs["header"].ContainsMarked() || api.Attrs["url"].ContainsMarked() {
		t.Errorf("check api attrs marks: header %v url %v", api.Attrs["header"].ContainsMarked(), api.Attrs["url"].ContainsMarked())
	}
	n := cfg.Notifies[0]
	if n.Name != "incidents" || n.Webhook.Value != "https://hooks.example.com/T0/B0" || !n.Webhook.Sensitive || strings.Join(n.On, ",") != "failed,rolled_back" || n.Format != "slack" {
		t.Errorf("notify = %+v", n)
	}
}

// names joins the names of items.
func names[T any](items []T, name func(T) string) string {
	var out []string
	for _, it := range items {
		out = append(out, name(it))
	}
	return strings.Join(out, ",")
}

func TestLoadDefaults(t *testing.T) {
	dir := writeConfig(t, map[string]string{"main.hcl": `
project "p" {}
nginx {}
postgres "db" {
  url = "postgres://x"
  backup { dir = "b" }
}
service "web" {
  image = "web:1"
  port  = 8000
  route {}
  canary { steps = [100] }
}
service "api" {
  image = "api:1"
  port  = 8001
  rolling {}
}
analysis "a" {}
check "c" {
  tcp { address = "127.0.0.1:1" }
}
notify "n" { webhook = "https://x" }
`})
	cfg, diags := Load(dir, LoadOptions{Environ: []string{}})
	if diags.HasErrors() {
		t.Fatal(render(cfg, diags))
	}
	if cfg.Docker == nil || cfg.Docker.Host != "" {
		t.Errorf("Docker = %+v", cfg.Docker)
	}
	if *cfg.Nginx != (Nginx{ConfigDir: "/etc/nginx/conf.d", AccessLog: "/var/log/nginx/slipway.log", Binary: "nginx", Switch: "auto", AdminDir: "/run/slipway/nginx", DeclRange: cfg.Nginx.DeclRange}) {
		t.Errorf("Nginx = %+v", cfg.Nginx)
	}
	if b := cfg.Postgres[0].Backup; b.When != "migrations" || b.Keep != 0 {
		t.Errorf("Backup = %+v", b)
	}
	if r := cfg.Services[0].Route; r.Listen != 80 || r.ServerName != "_" || r.Location != "/" || r.ProxyTimeout != 60*time.Second {
		t.Errorf("Route = %+v", r)
	}
	if c := cfg.Services[0].Canary; c.Pause != 0 || c.Header != "X-Slipway-Canary" || len(c.Steps) != 1 {
		t.Errorf("Canary = %+v", c)
	}
	if r := cfg.Services[1].Rolling; r.BatchSize != 1 || r.MaxUnavailable != 0 || r.Drain != 5*time.Second || r.Pause != 0 {
		t.Errorf("Rolling = %+v", r)
	}
	if a := cfg.Analyses[0]; a.Source != "nginx" || a.Interval != 30*time.Second || a.MinRequests != 50 || a.ErrorRate != nil || a.LatencyP95 != nil {
		t.Errorf("Analysis = %+v", a)
	}
	if c := cfg.Checks[0]; c.Phase != "pre" || c.Severity != "critical" || c.Kind != "tcp" {
		t.Errorf("Check = %+v", c)
	}
	if n := cfg.Notifies[0]; n.Format != "json" || strings.Join(n.On, ",") != strings.Join(Events(), ",") {
		t.Errorf("Notify = %+v", n)
	}
}

// writeConfig writes files into a new temporary directory.
func writeConfig(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, src := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// TestLoadBad loads every testdata/bad/*.txtar. Each archive's comment lists
// "want: Summary @ file:line" (or "@ -" for no subject); the error
// diagnostics must be exactly those. An archive that lists any
// "warning: Summary @ file:line" must have exactly those warnings too, and
// "detail: text" lines must each appear in some diagnostic's detail.
func TestLoadBad(t *testing.T) {
	archives, _ := filepath.Glob("testdata/bad/*.txtar")
	if len(archives) == 0 {
		t.Fatal("no testdata/bad/*.txtar")
	}
	for _, path := range archives {
		t.Run(strings.TrimSuffix(filepath.Base(path), ".txtar"), func(t *testing.T) {
			ar, err := txtar.ParseFile(path)
			if err != nil {
				t.Fatal(err)
			}
			files := map[string]string{}
			for _, f := range ar.Files {
				files[f.Name] = string(f.Data)
			}
			dir := writeConfig(t, files)
			var want, wantWarn, details []string
			for _, line := range strings.Split(string(ar.Comment), "\n") {
				if w, ok := strings.CutPrefix(line, "want: "); ok {
					want = append(want, w)
				}
				if w, ok := strings.CutPrefix(line, "warning: "); ok {
					wantWarn = append(wantWarn, w)
				}
				if w, ok := strings.CutPrefix(line, "detail: "); ok {
					details = append(details, w)
				}
			}
			cfg, diags := Load(dir, LoadOptions{Environ: []string{}})
			if cfg == nil || len(cfg.Files) == 0 && len(ar.Files) > 0 {
				t.Fatalf("Load returned no Files with its diagnostics")
			}
			var got, gotWarn []string
			for _, d := range diags {
				where := "-"
				if d.Subject != nil {
					where = fmt.Sprintf("%s:%d", filepath.Base(d.Subject.Filename), d.Subject.Start.Line)
				}
				if d.Severity != hcl.DiagError {
					gotWarn = append(gotWarn, d.Summary+" @ "+where)
					continue
				}
				got = append(got, d.Summary+" @ "+where)
				if d.Detail == "" {
					t.Errorf("diagnostic %q has no detail", d.Summary)
				}
			}
			sort.Strings(got)
			sort.Strings(want)
			if strings.Join(got, "\n") != strings.Join(want, "\n") {
				t.Errorf("errors:\n  %s\nwant:\n  %s\n\n%s", strings.Join(got, "\n  "), strings.Join(want, "\n  "), render(cfg, diags))
			}
			sort.Strings(gotWarn)
			sort.Strings(wantWarn)
			if len(wantWarn) > 0 && strings.Join(gotWarn, "\n") != strings.Join(wantWarn, "\n") {
				t.Errorf("warnings:\n  %s\nwant:\n  %s\n\n%s", strings.Join(gotWarn, "\n  "), strings.Join(wantWarn, "\n  "), render(cfg, diags))
			}
			for _, w := range details {
				found := false
				for _, d := range diags {
					found = found || strings.Contains(d.Detail, w)
				}
				if !found {
					t.Errorf("no diagnostic's detail holds %q:\n%s", w, render(cfg, diags))
				}
			}
		})
	}
}

func TestDuplicateCitesFirst(t *testing.T) {
	dir := writeConfig(t, map[string]string{
		"a.hcl": "project \"p\" {}\n\nservice \"web\" {\n  image = \"w\"\n  port = 1\n}\n",
		"b.hcl": "service \"web\" {\n  image = \"w\"\n  port = 2\n}\n",
	})
	_, diags := Load(dir, LoadOptions{Environ: []string{}})
	if len(diags) != 1 || !strings.Contains(diags[0].Detail, "first declared at "+filepath.Join(dir, "a.hcl")+":3") {
		t.Fatalf("diags = %v", diags)
	}
}

func TestNoConfigurationFiles(t *testing.T) {
	dir := writeConfig(t, map[string]string{"prod.vars.hcl": `version = "1"`, "notes.txt": "x"})
	cfg, diags := Load(dir, LoadOptions{Environ: []string{}})
	if cfg == nil || len(diags) != 1 || diags[0].Summary != "No Configuration Files" {
		t.Fatalf("diags = %v", diags)
	}
}

func TestAllProblemsAtOnce(t *testing.T) {
	dir := writeConfig(t, map[string]string{"main.hcl": `
project "p" {}
service "a" {
  image = "a"
  port  = 0
}
service "b" {
  image    = "b"
  port     = 1
  replicas = -1
}
nginx { switch = "x" }
`})
	_, diags := Load(dir, LoadOptions{Environ: []string{}})
	if len(diags) != 3 {
		t.Fatalf("got %d diagnostics, want 3: %v", len(diags), diags)
	}
}
