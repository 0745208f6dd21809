package checks

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/slipwayhq/slipway/internal/testenv"
	"github.com/slipwayhq/slipway/providers"
	"github.com/slipwayhq/slipway/providers/postgres"
	"github.com/zclconf/go-cty/cty"
)

// TestPostgresReal runs postgres checks against a private PostgreSQL
// server through the postgres provider: reachable, then a pending
// migration, then none once it is applied; the password never shows.
func TestPostgresReal(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a PostgreSQL server")
	}
	testenv.Require(t, "postgres", testenv.PostgresAvailable())
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	srv, err := testenv.StartPostgres(ctx)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Stop() })
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "0001_init.sql"), []byte("CREATE TABLE items (id int);\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	db, err := postgres.New(postgres.Options{URL: srv.URL()})
	if err != nil {
		t.Fatal(err)
	}
	env := Env{
		Database: func(name string) (providers.Database, error) {
			if name == "main" {
				return postgres.New(postgres.Options{URL: srv.URL(), Migrations: dir})
			}
			return postgres.New(postgres.Options{URL: strings.Replace(srv.URL(), srv.Password, "wrong-password", 1), Migrations: dir})
		},
	}

	r := run1(t, ck("reachable", "postgres", "database", str("main"), "max_latency", str("30s")), env)
	want(t, r, StatusPass, "")
	r = run1(t, ck("pending", "postgres", "database", str("main"), "no_pending", cty.True), env)
	want(t, r, StatusFail, "pending migrations: 0001_init.sql")

	ms, err := postgres.LoadMigrations(dir)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Migrate(ctx, ms, 1, "checks-test"); err != nil {
		t.Fatal(err)
	}
	r = run1(t, ck("applied", "postgres", "database", str("main"), "no_pending", cty.True), env)
	want(t, r, StatusPass, "")
	if !strings.Contains(r.Evidence, "1 migrations applied, 0 pending") {
		t.Errorf("evidence %q", r.Evidence)
	}

	r = run1(t, ck("bad password", "postgres", "database", str("other")), env)
	want(t, r, StatusFail, `connect to postgres "other"`)
	if strings.Contains(r.Evidence+r.Err, srv.Password) || strings.Contains(r.Evidence+r.Err, "wrong-password") {
		t.Errorf("a password shows: %q %q", r.Evidence, r.Err)
	}
}
