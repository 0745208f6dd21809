package checks

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/slipwayhq/slipway/internal/testenv"
	"github.com/slipwayhq/slipway/providers"
	"github.com/slipwayhq/slipway/providers/postgres"
	"github.com/zclconf/go-cty/cty"
)

// nginxTester runs a private "nginx -t" on conf under prefix.
func nginxTester(prefix, conf string) func(ctx context.Context) (string, error) {
	return func(ctx context.Context) (string, error) {
		out, err := exec.CommandContext(ctx, "nginx", "-p", prefix, "-c", conf, "-e", filepath.Join(prefix, "error.log"), "-t").CombinedOutput()
		return string(out), err
	}
}

func TestNginx(t *testing.T) {
	testenv.Require(t, "nginx", testenv.NginxAvailable())
	dir := t.TempDir()
	good := filepath.Join(dir, "good.conf")
	bad := filepath.Join(dir, "bad.conf")
	base := "pid " + filepath.Join(dir, "nginx.pid") + ";\nerror_log " + filepath.Join(dir, "error.log") + ";\nevents {}\n"
	if err := os.WriteFile(good, []byte(base+"http { server { listen 127.0.0.1:1; } }\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(bad, []byte(base+"http { server { listen 127.0.0.1:1; bogus_directive on; } }\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	r := run1(t, ck("ok", "nginx"), Env{NginxTest: nginxTester(dir, good)})
	want(t, r, StatusPass, "")
	if !strings.Contains(r.Evidence, "test is successful") {
		t.Errorf("evidence %q", r.Evidence)
	}
	r = run1(t, ck("bad", "nginx"), Env{NginxTest: nginxTester(dir, bad)})
	want(t, r, StatusFail, "nginx -t rejected the configuration")
	if !strings.Contains(r.Evidence, "bogus_directive") {
		t.Errorf("evidence %q does not show nginx's message", r.Evidence)
	}
	r = run1(t, ck("none", "nginx"), Env{})
	want(t, r, StatusFail, "the configuration has no nginx block")
}

// fakeDB is a providers.Database with fixed answers.
type fakeDB struct {
	providers.Database
	pingErr error
	pingFor time.Duration
	applied []providers.AppliedMigration
	closed  *bool
}

func (d *fakeDB) Ping(ctx context.Context) error {
	select {
	case <-time.After(d.pingFor):
	case <-ctx.Done():
		return ctx.Err()
	}
	return d.pingErr
}

func (d *fakeDB) Applied(context.Context) ([]providers.AppliedMigration, error) {
	return d.applied, nil
}

func (d *fakeDB) Close() error {
	if d.closed != nil {
		*d.closed = true
	}
	return nil
}

// listingDB adds the MigrationLister ability, with the postgres
// provider's comparison.
type listingDB struct {
	*fakeDB
	files []providers.Migration
}

func (d listingDB) Migrations() ([]providers.Migration, bool, error) { return d.files, true, nil }

func (d listingDB) Pending(files []providers.Migration, applied []providers.AppliedMigration) ([]providers.Migration, error) {
	return postgres.Pending(files, applied)
}

// replicatingDB adds the Replicator capability.
type replicatingDB struct {
	*fakeDB
	lag time.Duration
}

func (d replicatingDB) Replication(_ context.Context, maxLag time.Duration) (string, error) {
	desc := fmt.Sprintf("1 replica streaming, lag %s", d.lag)
	if maxLag > 0 && d.lag > maxLag {
		return desc, fmt.Errorf("replica lags %s, over %s", d.lag, maxLag)
	}
	return desc, nil
}

func TestPostgres(t *testing.T) {
	files := []providers.Migration{{Version: "0001", Name: "0001_init.sql"}, {Version: "0002", Name: "0002_users.sql"}}
	closed := false
	listing := func(d *fakeDB) providers.Database { return listingDB{fakeDB: d, files: files} }
	dbs := map[string]providers.Database{
		"main":     listing(&fakeDB{applied: []providers.AppliedMigration{{Version: "0001", Name: "0001_init.sql"}, {Version: "0002", Name: "0002_users.sql"}}, closed: &closed}),
		"behind":   listing(&fakeDB{applied: []providers.AppliedMigration{{Version: "0001", Name: "0001_init.sql"}}}),
		"dirty":    listing(&fakeDB{applied: []providers.AppliedMigration{{Version: "0001", Name: "0001_init.sql"}, {Version: "0002", Name: "0002_users.sql", Dirty: true}}}),
		"changed":  listing(&fakeDB{applied: []providers.AppliedMigration{{Version: "0001", Name: "0001_init.sql", Checksum: "sha256:other"}}}),
		"down":     &fakeDB{pingErr: errors.New("connection refused")},
		"slow":     &fakeDB{pingFor: 200 * time.Millisecond},
		"replica":  replicatingDB{fakeDB: &fakeDB{}, lag: 3 * time.Second},
		"unlisted": &fakeDB{applied: []providers.AppliedMigration{{Version: "0001", Name: "0001_init.sql"}}},
	}
	env := Env{
		Database: func(name string) (providers.Database, error) {
			if db, ok := dbs[name]; ok {
				return db, nil
			}
			return nil, fmt.Errorf("no postgres block %q", name)
		},
	}
	tests := []struct {
		name   string
		env    Env
		attrs  []any
		status string
		err    string
	}{
		{"reachable", env, []any{"database", str("main")}, StatusPass, ""},
		{"no pending", env, []any{"database", str("main"), "no_pending", cty.True}, StatusPass, ""},
		{"pending", env, []any{"database", str("behind"), "no_pending", cty.True}, StatusFail, "pending migrations: 0002_users.sql"},
		{"pending ignored", env, []any{"database", str("behind")}, StatusPass, ""},
		{"dirty", env, []any{"database", str("dirty"), "no_pending", cty.True}, StatusFail, "migration 0002_users.sql failed part way (dirty)"},
		{"changed", env, []any{"database", str("changed"), "no_pending", cty.True}, StatusFail, "0001_init.sql"},
		{"down", env, []any{"database", str("down")}, StatusFail, `connect to postgres "down": connection refused`},
		{"slow", env, []any{"database", str("slow"), "max_latency", str("20ms")}, StatusFail, "over max_latency 20ms"},
		{"unknown block", env, []any{"database", str("nope")}, StatusFail, `no postgres block "nope"`},
		{"replication ok", env, []any{"database", str("replica"), "replication", cty.True, "max_replication_lag", str("10s")}, StatusPass, ""},
		{"replication lags", env, []any{"database", str("replica"), "replication", cty.True, "max_replication_lag", str("1s")}, StatusFail, "replica lags 3s"},
		{"replication unsupported", env, []any{"database", str("main"), "replication", cty.True}, StatusFail, "cannot report replication"},
		{"no database", Env{}, []any{"database", str("main")}, StatusFail, "no database connection"},
		{"no migration list", env, []any{"database", str("unlisted"), "no_pending", cty.True}, StatusFail, "no migration list"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := run1(t, ck(tt.name, "postgres", tt.attrs...), tt.env)
			want(t, r, tt.status, tt.err)
		})
	}
	if !closed {
		t.Error("the database was not closed after the check")
	}
}

// fakeRuntime observes a fixed list of containers.
type fakeRuntime struct {
	providers.Runtime
	containers      []providers.Container
	gotProj, gotEnv string
}

func (f *fakeRuntime) Observe(_ context.Context, project, env string) ([]providers.Container, error) {
	f.gotProj, f.gotEnv = project, env
	return f.containers, nil
}

func TestContainer(t *testing.T) {
	rt := &fakeRuntime{containers: []providers.Container{
		{Name: "shop-web-r3-1", Service: "web", State: "running", Health: "healthy"},
		{Name: "shop-web-r3-2", Service: "web", State: "running"},
		{Name: "shop-web-r2-1", Service: "web", State: "exited"},
		{Name: "shop-api-r3-1", Service: "api", State: "running", Health: "unhealthy"},
		{Name: "shop-worker-r1-1", Service: "worker", State: "exited"},
		{Name: "shop-jobs-r1-1", Service: "jobs", State: "running", Health: "starting"},
	}}
	env := Env{Runtime: rt, Project: "shop", StateEnv: "staging"}
	tests := []struct {
		name   string
		attrs  []any
		status string
		err    string
	}{
		{"healthy", []any{"service", str("web")}, StatusPass, ""},
		{"min running", []any{"service", str("web"), "min_running", num(3)}, StatusFail, "2 healthy containers running, want at least 3"},
		{"unhealthy", []any{"service", str("api")}, StatusFail, "containers not healthy: shop-api-r3-1 (unhealthy)"},
		{"starting", []any{"service", str("jobs")}, StatusFail, "shop-jobs-r1-1 (starting)"},
		{"stopped", []any{"service", str("worker")}, StatusFail, "0 healthy containers running, want at least 1"},
		{"absent", []any{"service", str("nope")}, StatusFail, "want at least 1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := run1(t, ck(tt.name, "container", tt.attrs...), env)
			want(t, r, tt.status, tt.err)
		})
	}
	if rt.gotProj != "shop" || rt.gotEnv != "staging" {
		t.Errorf("observed project %q env %q", rt.gotProj, rt.gotEnv)
	}
	r := run1(t, ck("x", "container", "service", str("web")), Env{})
	want(t, r, StatusFail, "no container runtime")
}
