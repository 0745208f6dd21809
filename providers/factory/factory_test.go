package factory

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/slipwayhq/slipway/config"
	"github.com/slipwayhq/slipway/providers"
)

func load(t *testing.T, src string) *config.Config {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "main.hcl"), []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg, diags := config.Load(dir, config.LoadOptions{Environ: []string{}})
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	cfg.ResolvePaths()
	return cfg
}

// TestWorld builds each provider the configuration declares, with the
// optional abilities the rest of slipway asserts by name.
func TestWorld(t *testing.T) {
	cfg := load(t, `project "p" {}
nginx {
  config_dir = "conf.d"
}
postgres "main" {
  url        = "postgres://app@127.0.0.1:1/db"
  migrations = "migrations"
}
`)
	var w World
	rt, err := w.Runtime(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer (&providers.Set{Runtime: rt}).Close()
	if _, ok := rt.(providers.Pinger); !ok {
		t.Error("the runtime cannot ping")
	}
	if !is[providers.ImageBuilder](rt) || !is[providers.ImagePuller](rt) || !is[providers.ImageTagger](rt) {
		t.Error("the runtime cannot build, pull or retag images")
	}
	r, err := w.Router(cfg)
	if err != nil {
		t.Fatal(err)
	}
	for name, ok := range map[string]bool{
		"SwitchPlanner": is[providers.SwitchPlanner](r), "LiveTableReader": is[providers.LiveTableReader](r),
		"ConfigTester": is[providers.ConfigTester](r), "ListenChecker": is[providers.ListenChecker](r),
	} {
		if !ok {
			t.Errorf("the router is no %s", name)
		}
	}
	db, err := w.Database(cfg, "main")
	if err != nil {
		t.Fatal(err)
	}
	if !is[providers.MigrationLister](db) || !is[providers.BackupPruner](db) {
		t.Error("the database cannot list migrations or prune backups")
	}
	if _, ok, _ := db.(providers.MigrationLister).Migrations(); !ok {
		t.Error("the database does not know its migration directory")
	}
	if _, err := w.Database(cfg, "nope"); err == nil || !strings.Contains(err.Error(), `no postgres block "nope"`) {
		t.Errorf("unknown block: %v", err)
	}
}

// TestWorldWithoutRouter: no nginx block, no router.
func TestWorldWithoutRouter(t *testing.T) {
	r, err := World{}.Router(load(t, `project "p" {}`))
	if r != nil || err != nil {
		t.Errorf("Router = %v, %v", r, err)
	}
}

func is[T any](v any) bool {
	_, ok := v.(T)
	return ok
}
