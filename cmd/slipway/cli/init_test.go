package cli

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/slipwayhq/slipway/checks"
	"github.com/slipwayhq/slipway/config"
)

// runInit runs slipway with args through an app that has the init command
// (registered by app.go, or added here until it is) and returns the exit
// code and both streams, as Main would.
func runInit(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	app := newApp(&streams{in: strings.NewReader(""), out: &stdout, err: &stderr})
	found := false
	for _, c := range app.Commands {
		found = found || c.Name == "init"
	}
	if !found {
		c := initCommand(&streams{in: strings.NewReader(""), out: &stdout, err: &stderr})
		wrapArgsCheck(c)
		c.OnUsageError = app.OnUsageError
		app.Commands = append(app.Commands, c)
	}
	code := 0
	if err := app.Run(append([]string{"slipway"}, args...)); err != nil {
		code = 1
		var ee *exitError
		if errors.As(err, &ee) {
			code = ee.code
			if ee.err != nil {
				printError(&stderr, ee.err, ee.hint)
			}
		} else {
			printError(&stderr, err, "")
		}
	}
	return code, stdout.String(), stderr.String()
}

func TestInitStarterValidates(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "deploy")
	code, out, errOut := runInit(t, "init", "-name", "shop", dir)
	if code != 0 {
		t.Fatalf("init exited %d: %s", code, errOut)
	}
	for _, f := range []string{"slipway.hcl", "migrations/0001_init.sql"} {
		if !strings.Contains(out, filepath.Join(dir, f)) {
			t.Errorf("init output does not name %s:\n%s", f, out)
		}
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Errorf("init did not write %s: %v", f, err)
		}
	}

	code, out, errOut = runInit(t, "-chdir", dir, "validate", "-var", "version=1.0.0")
	if code != 0 || errOut != "" {
		t.Fatalf("validate exited %d, stderr:\n%s", code, errOut)
	}
	if !strings.Contains(out, "Success!") {
		t.Errorf("validate output: %q", out)
	}
	if code, out, errOut := runInit(t, "-chdir", dir, "fmt", "-check"); code != 0 {
		t.Fatalf("fmt -check exited %d: %s%s", code, out, errOut)
	}

	cfg, diags := config.Load(dir, config.LoadOptions{Vars: []string{"version=1.0.0"}})
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	if cfg.Project.Name != "shop" {
		t.Errorf("project %q, want shop", cfg.Project.Name)
	}
	db := cfg.Postgres[0]
	if db.Migrations == "" || db.Backup == nil || db.Backup.Dir == "" {
		t.Errorf("postgres block lacks migrations or backup: %+v", db)
	}
	web := cfg.Service("web")
	if web == nil || web.Health == nil || web.Route == nil || web.BlueGreen == nil {
		t.Fatalf("service web lacks health, route or blue_green: %+v", web)
	}
	if web.Image != "registry.example.com/shop/web:1.0.0" {
		t.Errorf("image %q", web.Image)
	}
	phases := map[string]int{}
	for _, ck := range cfg.Checks {
		phases[ck.Phase]++
		if err := checks.Validate(ck); err != nil {
			t.Errorf("starter check: %v", err)
		}
	}
	if phases["pre"] == 0 || phases["post"] == 0 {
		t.Errorf("checks by phase %v, want a pre and a post check", phases)
	}
}

func TestInitRefusesToOverwrite(t *testing.T) {
	tests := []struct {
		name      string
		existing  string // the file already there
		untouched string // a file init must not have written
	}{
		{"config exists", "slipway.hcl", "migrations/0001_init.sql"},
		{"migration exists", "migrations/0001_init.sql", "slipway.hcl"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			p := filepath.Join(dir, tt.existing)
			if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(p, []byte("mine\n"), 0o644); err != nil {
				t.Fatal(err)
			}
			code, _, errOut := runInit(t, "init", dir)
			if code != 1 {
				t.Fatalf("init exited %d, want 1", code)
			}
			if !strings.Contains(errOut, "slipway: error: write starter \""+p+"\": file already exists") ||
				!strings.Contains(errOut, "slipway: hint: slipway init never overwrites a file") {
				t.Errorf("stderr:\n%s", errOut)
			}
			if b, _ := os.ReadFile(p); string(b) != "mine\n" {
				t.Errorf("%s was changed to %q", tt.existing, b)
			}
			if _, err := os.Stat(filepath.Join(dir, tt.untouched)); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("%s was written although init refused: %v", tt.untouched, err)
			}
		})
	}
}

func TestInitDirectoryAndName(t *testing.T) {
	root := t.TempDir()
	dir := filepath.Join(root, "My Shop.v2")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	// Without DIR, init writes into the -chdir directory; the project is
	// named after it.
	if code, _, errOut := runInit(t, "-chdir", dir, "init"); code != 0 {
		t.Fatalf("init exited %d: %s", code, errOut)
	}
	b, err := os.ReadFile(filepath.Join(dir, "slipway.hcl"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), `project "my-shop-v2" {`) {
		t.Errorf("project not named after the directory:\n%s", b)
	}

	code, _, errOut := runInit(t, "init", "-name", "bad name", filepath.Join(root, "other"))
	if code != 1 || !strings.Contains(errOut, `invalid project name "bad name"`) {
		t.Errorf("bad -name: exit %d, stderr %q", code, errOut)
	}
	if _, err := os.Stat(filepath.Join(root, "other")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a refused init created its directory: %v", err)
	}
}
