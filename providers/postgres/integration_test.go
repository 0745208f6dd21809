package postgres

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/slipwayhq/slipway/internal/testenv"
	"github.com/slipwayhq/slipway/providers"
)

// server is a private PostgreSQL 15 for one test.
type server struct {
	pg *testenv.Postgres
}

func startServer(t *testing.T) *server {
	t.Helper()
	testenv.Require(t, "postgres", testenv.PostgresAvailable())
	pg, err := testenv.StartPostgres(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := pg.Stop(); err != nil {
			t.Errorf("stop postgres: %v", err)
		}
	})
	return &server{pg: pg}
}

// url returns the URL of database db as user with password.
func (s *server) url(user, password, db string) string {
	u := url.URL{Scheme: "postgres", User: url.UserPassword(user, password),
		Host: "127.0.0.1:" + strconv.Itoa(s.pg.Port), Path: "/" + db, RawQuery: "sslmode=disable"}
	return u.String()
}

// exec runs SQL as the superuser on database db.
func (s *server) exec(t *testing.T, db, sql string) {
	t.Helper()
	conn := s.conn(t, db)
	defer conn.Close(context.Background())
	if _, err := conn.Exec(t.Context(), sql); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
}

func (s *server) conn(t *testing.T, db string) *pgx.Conn {
	t.Helper()
	conn, err := pgx.Connect(t.Context(), s.url(s.pg.User, s.pg.Password, db))
	if err != nil {
		t.Fatal(err)
	}
	return conn
}

func (s *server) count(t *testing.T, db, sql string) int {
	t.Helper()
	conn := s.conn(t, db)
	defer conn.Close(context.Background())
	var n int
	if err := conn.QueryRow(t.Context(), sql).Scan(&n); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
	return n
}

func (s *server) tableExists(t *testing.T, db, table string) bool {
	return s.count(t, db, "SELECT count(*) FROM pg_tables WHERE tablename = '"+table+"'") == 1
}

// provider returns a provider for the caller's database as the superuser.
func (s *server) provider(t *testing.T) *Postgres {
	t.Helper()
	p, err := New(Options{URL: s.pg.URL()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	return p
}

// migrations writes files into a new directory and loads them.
func migrations(t *testing.T, files map[string]string) (string, []providers.Migration) {
	t.Helper()
	dir := t.TempDir()
	writeFiles(t, dir, files)
	ms, err := LoadMigrations(dir)
	if err != nil {
		t.Fatal(err)
	}
	return dir, ms
}

func TestMigrateAppliesInOrder(t *testing.T) {
	s := startServer(t)
	p := s.provider(t)
	ctx := t.Context()
	if err := p.Ping(ctx); err != nil {
		t.Fatal(err)
	}
	if a, err := p.Applied(ctx); err != nil || len(a) != 0 {
		t.Fatalf("Applied before any migration = %v, %v; want none", a, err)
	}
	_, ms := migrations(t, map[string]string{
		"0001_items.sql":  "CREATE TABLE items (id int PRIMARY KEY, name text);\nINSERT INTO items VALUES (1, 'a;b');",
		"0002_more.sql":   "-- uses the table of 0001\nINSERT INTO items VALUES (2, 'b');\nINSERT INTO items VALUES (3, $$c;d$$);\n",
		"0003_column.sql": "ALTER TABLE items ADD COLUMN price int NOT NULL DEFAULT 0;",
	})
	done, err := p.Migrate(ctx, ms, 7, "alice")
	if err != nil {
		t.Fatal(err)
	}
	if len(done) != 3 {
		t.Fatalf("Migrate applied %d, want 3", len(done))
	}
	applied, err := p.Applied(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(applied) != 3 {
		t.Fatalf("Applied = %d rows, want 3", len(applied))
	}
	for i, a := range applied {
		m := ms[i]
		if a.Version != m.Version || a.Name != m.Name || a.Checksum != m.Checksum || a.AppliedBy != "alice" || a.Release != 7 || a.Dirty || a.AppliedAt.IsZero() {
			t.Errorf("row %d = %+v, want %s with its checksum, by alice in release 7", i, a, m.Name)
		}
		if !a.AppliedAt.Equal(done[i].AppliedAt) {
			t.Errorf("row %d applied_at %v, Migrate returned %v", i, a.AppliedAt, done[i].AppliedAt)
		}
	}
	if n := s.count(t, "slipway", "SELECT count(*) FROM items WHERE price = 0"); n != 3 {
		t.Errorf("items = %d, want 3", n)
	}
	// Nothing is pending any more.
	again, err := p.Migrate(ctx, ms, 8, "bob")
	if err != nil || len(again) != 0 {
		t.Errorf("second Migrate = %v, %v; want nothing applied", again, err)
	}
}

func TestMigrateStopsAtFirstFailure(t *testing.T) {
	tests := []struct {
		name     string
		second   string
		wantLine int
		wantCode string
	}{
		{
			name: "syntax error",
			second: "-- second\nCREATE TABLE second (id int);\nINSERT INTO first VALUES (2, 1);\n\n" +
				"CREATE TABLE broken (\n  id int\n  name text\n);\n",
			wantLine: 7, // "name": the missing comma
			wantCode: "42601",
		},
		{
			name: "constraint violated by existing rows",
			second: "CREATE TABLE second (id int);\nINSERT INTO first VALUES (2, 1);\n\n" +
				"ALTER TABLE first\n  ALTER COLUMN v SET NOT NULL;\nCREATE TABLE after (id int);\n",
			wantLine: 4, // the statement: PostgreSQL gives no position
			wantCode: "23502",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := startServer(t)
			p := s.provider(t)
			ctx := t.Context()
			dir, ms := migrations(t, map[string]string{
				"0001_first.sql":  "CREATE TABLE first (id int, v int);\nINSERT INTO first VALUES (1, NULL);",
				"0002_second.sql": tt.second,
				"0003_third.sql":  "CREATE TABLE third (id int);",
			})
			done, err := p.Migrate(ctx, ms, 1, "ci")
			var me *providers.MigrationError
			if !errors.As(err, &me) {
				t.Fatalf("Migrate error = %v, want a MigrationError", err)
			}
			if me.File != filepath.Join(dir, "0002_second.sql") || me.Line != tt.wantLine {
				t.Errorf("error at %s:%d, want 0002_second.sql:%d", me.File, me.Line, tt.wantLine)
			}
			if want := fmt.Sprintf("0002_second.sql:%d: ", tt.wantLine); !strings.Contains(err.Error(), want) {
				t.Errorf("message %q does not name %q", err, want)
			}
			var pgErr *pgconn.PgError
			if !errors.As(err, &pgErr) || pgErr.Code != tt.wantCode {
				t.Errorf("error = %v, want PostgreSQL error %s", err, tt.wantCode)
			}
			if len(done) != 1 || done[0].Name != "0001_first.sql" {
				t.Errorf("Migrate returned %+v, want only 0001 applied", done)
			}
			applied, _ := p.Applied(ctx)
			if len(applied) != 1 || applied[0].Name != "0001_first.sql" {
				t.Errorf("Applied = %+v, want only 0001", applied)
			}
			if !s.tableExists(t, "slipway", "first") {
				t.Error("table of 0001 is gone")
			}
			if s.tableExists(t, "slipway", "second") || s.count(t, "slipway", "SELECT count(*) FROM first") != 1 {
				t.Error("0002 was not rolled back")
			}
			if s.tableExists(t, "slipway", "third") || s.tableExists(t, "slipway", "after") {
				t.Error("a migration or statement after the failure ran")
			}
		})
	}
}

func TestMigrateRefusesChangedOrVanishedFiles(t *testing.T) {
	s := startServer(t)
	p := s.provider(t)
	ctx := t.Context()
	dir, ms := migrations(t, map[string]string{
		"0001_a.sql": "CREATE TABLE a (id int);",
		"0002_b.sql": "CREATE TABLE b (id int);",
	})
	if _, err := p.Migrate(ctx, ms, 1, "ci"); err != nil {
		t.Fatal(err)
	}
	old := ms[0].Checksum

	writeFiles(t, dir, map[string]string{"0001_a.sql": "CREATE TABLE a (id bigint);", "0003_c.sql": "CREATE TABLE c (id int);"})
	changed, err := LoadMigrations(dir)
	if err != nil {
		t.Fatal(err)
	}
	_, err = p.Migrate(ctx, changed, 2, "ci")
	var ce *ChecksumError
	if !errors.As(err, &ce) || ce.Name != "0001_a.sql" || ce.Want != old || ce.Got != changed[0].Checksum {
		t.Fatalf("Migrate error = %v, want ChecksumError naming %s and %s", err, old, changed[0].Checksum)
	}
	if !strings.Contains(err.Error(), old) || !strings.Contains(err.Error(), changed[0].Checksum) {
		t.Errorf("message %q does not name both checksums", err)
	}
	if s.tableExists(t, "slipway", "c") {
		t.Error("a pending migration ran although an applied one changed")
	}

	if err := os.Remove(filepath.Join(dir, "0002_b.sql")); err != nil {
		t.Fatal(err)
	}
	writeFiles(t, dir, map[string]string{"0001_a.sql": "CREATE TABLE a (id int);"})
	vanished, err := LoadMigrations(dir)
	if err != nil {
		t.Fatal(err)
	}
	_, err = p.Migrate(ctx, vanished, 2, "ci")
	var ve *VanishedError
	if !errors.As(err, &ve) || ve.Name != "0002_b.sql" {
		t.Fatalf("Migrate error = %v, want VanishedError for 0002_b.sql", err)
	}
	if s.tableExists(t, "slipway", "c") {
		t.Error("a pending migration ran although an applied one vanished")
	}
}

func TestMigrateRefusesFileChangedSinceLoad(t *testing.T) {
	s := startServer(t)
	p := s.provider(t)
	dir, ms := migrations(t, map[string]string{"0001_a.sql": "CREATE TABLE a (id int);"})
	writeFiles(t, dir, map[string]string{"0001_a.sql": "DROP TABLE IF EXISTS a;"})
	_, err := p.Migrate(t.Context(), ms, 1, "ci")
	if !errors.Is(err, ErrFileChanged) {
		t.Fatalf("Migrate error = %v, want ErrFileChanged", err)
	}
	if a, _ := p.Applied(t.Context()); len(a) != 0 {
		t.Errorf("Applied = %+v, want none", a)
	}
}

func TestNoTransactionFailureIsDirtyUntilResolved(t *testing.T) {
	s := startServer(t)
	p := s.provider(t)
	ctx := t.Context()
	dir, ms := migrations(t, map[string]string{
		"0001_t.sql": "CREATE TABLE t (id int, v int);\nINSERT INTO t VALUES (1, 1), (1, 2);",
		// CREATE INDEX CONCURRENTLY fails inside a transaction: it proves
		// the file runs outside one.
		"0002_idx.sql":  "-- slipway:no-transaction\nCREATE INDEX CONCURRENTLY t_v ON t (v);\nCREATE UNIQUE INDEX CONCURRENTLY t_id ON t (id);\n",
		"0003_next.sql": "CREATE TABLE next (id int);",
	})
	if !ms[1].NoTransaction {
		t.Fatal("0002 not loaded as no-transaction")
	}
	_, err := p.Migrate(ctx, ms, 3, "ci")
	var me *providers.MigrationError
	if !errors.As(err, &me) || me.Line != 3 || !strings.HasSuffix(me.File, "0002_idx.sql") {
		t.Fatalf("Migrate error = %v, want 0002_idx.sql:3", err)
	}
	if s.count(t, "slipway", "SELECT count(*) FROM pg_indexes WHERE indexname = 't_v'") != 1 {
		t.Error("the statement before the failure was not kept (no-transaction)")
	}
	if s.tableExists(t, "slipway", "next") {
		t.Error("0003 ran after a failure")
	}
	applied, _ := p.Applied(ctx)
	if len(applied) != 2 || !applied[1].Dirty || applied[1].Name != "0002_idx.sql" || applied[1].Release != 3 {
		t.Fatalf("Applied = %+v, want 0002 dirty", applied)
	}

	// Dirty: everything refuses until resolved.
	_, err = p.Migrate(ctx, ms, 4, "ci")
	var de *DirtyError
	if !errors.As(err, &de) || de.Name != "0002_idx.sql" {
		t.Fatalf("Migrate on a dirty database = %v, want DirtyError", err)
	}
	if _, err := Pending(ms, applied); !errors.As(err, &de) {
		t.Errorf("Pending = %v, want DirtyError", err)
	}
	if err := p.Resolve(ctx, "0001", true); !errors.Is(err, ErrNotDirty) {
		t.Errorf("Resolve of a clean migration = %v, want ErrNotDirty", err)
	}
	if err := p.Resolve(ctx, "0009", false); !errors.Is(err, ErrNotDirty) {
		t.Errorf("Resolve of an unknown migration = %v, want ErrNotDirty", err)
	}

	// Resolved as pending: the row goes, and the fixed file runs again.
	if err := p.Resolve(ctx, "0002_idx.sql", false); err != nil {
		t.Fatal(err)
	}
	s.exec(t, "slipway", "DROP INDEX t_v; DROP INDEX IF EXISTS t_id; DELETE FROM t WHERE v = 2")
	done, err := p.Migrate(ctx, ms, 4, "ci")
	if err != nil || len(done) != 2 {
		t.Fatalf("Migrate after resolving = %+v, %v; want 0002 and 0003", done, err)
	}
	applied, _ = p.Applied(ctx)
	if len(applied) != 3 || applied[1].Dirty {
		t.Fatalf("Applied = %+v, want three clean rows", applied)
	}

	// Resolved as applied: the row stays, clean, and nothing reruns.
	writeFiles(t, dir, map[string]string{"0004_bad.sql": "-- slipway:no-transaction\nCREATE TABLE four (id int);\nSELECT 1/0;\n"})
	ms, err = LoadMigrations(dir)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.Migrate(ctx, ms, 5, "ci"); !errors.As(err, &me) {
		t.Fatalf("Migrate = %v, want a MigrationError", err)
	}
	if err := p.Resolve(ctx, "4", true); err != nil {
		t.Fatal(err)
	}
	applied, _ = p.Applied(ctx)
	if len(applied) != 4 || applied[3].Dirty || applied[3].Name != "0004_bad.sql" {
		t.Fatalf("Applied = %+v, want 0004 clean", applied)
	}
	if done, err := p.Migrate(ctx, ms, 6, "ci"); err != nil || len(done) != 0 {
		t.Errorf("Migrate after resolving as applied = %+v, %v; want nothing", done, err)
	}
}

func TestConcurrentMigrateRunsEachMigrationOnce(t *testing.T) {
	s := startServer(t)
	ctx := t.Context()
	s.exec(t, "slipway", "CREATE TABLE runs (name text)")
	files := map[string]string{}
	for i := 1; i <= 3; i++ {
		name := fmt.Sprintf("%04d_m%d.sql", i, i)
		// The sleep widens the window in which a second migrator would
		// run the same migration without the lock.
		files[name] = fmt.Sprintf("INSERT INTO runs VALUES ('%s');\nSELECT pg_sleep(0.2);\nCREATE TABLE m%d (id int);", name, i)
	}
	_, ms := migrations(t, files)
	var wg sync.WaitGroup
	results := make([][]providers.AppliedMigration, 2)
	errs := make([]error, 2)
	for i := range 2 {
		p := s.provider(t) // separate provider, separate connection
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i], errs[i] = p.Migrate(ctx, ms, 1, fmt.Sprintf("migrator-%d", i))
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("migrator %d: %v", i, err)
		}
	}
	if total := len(results[0]) + len(results[1]); total != 3 {
		t.Errorf("migrators applied %d + %d, want 3 in all", len(results[0]), len(results[1]))
	}
	if n := s.count(t, "slipway", "SELECT count(*) FROM runs"); n != 3 {
		t.Errorf("migrations ran %d times, want 3", n)
	}
	if n := s.count(t, "slipway", "SELECT count(DISTINCT name) FROM runs"); n != 3 {
		t.Errorf("%d distinct migrations ran, want 3", n)
	}
}

func TestBackupAndRestore(t *testing.T) {
	s := startServer(t)
	p := s.provider(t)
	ctx := t.Context()
	s.exec(t, "slipway", "CREATE TABLE items (id int PRIMARY KEY); INSERT INTO items VALUES (1), (2)")
	dir := t.TempDir()
	target := filepath.Join(dir, "target.dump")
	info, err := p.Backup(ctx, target)
	if err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(target)
	if err != nil || fi.Mode().Perm() != 0o600 || fi.Size() != info.Size || info.Size == 0 {
		t.Fatalf("backup %v, %v; want mode 0600 and size %d", fi, err, info.Size)
	}
	sum, _, err := fileSum(target)
	if err != nil || sum != info.SHA256 {
		t.Errorf("sha256 %s, BackupInfo says %s", sum, info.SHA256)
	}
	list, err := p.tool(ctx, "pg_restore", "--list", target)
	if err != nil || !strings.Contains(list, "TABLE public items") {
		t.Errorf("pg_restore --list = %q, %v; want the items table", list, err)
	}

	// Later rows, and a session that holds the database.
	s.exec(t, "slipway", "INSERT INTO items VALUES (3), (4); CREATE TABLE later (id int)")
	holder := s.conn(t, "slipway")
	defer holder.Close(context.Background())

	// The executor backs up the current database before restoring.
	current := filepath.Join(dir, "current.dump")
	if _, err := p.Backup(ctx, current); err != nil {
		t.Fatal(err)
	}
	if err := p.Restore(ctx, target); err != nil {
		t.Fatal(err)
	}
	if n := s.count(t, "slipway", "SELECT count(*) FROM items"); n != 2 {
		t.Errorf("items after restore = %d, want 2", n)
	}
	if s.tableExists(t, "slipway", "later") {
		t.Error("the table created after the backup survived the restore")
	}
	if err := holder.Ping(ctx); err == nil {
		t.Error("the other session survived the restore")
	}

	// Nothing is lost: the pre-restore backup has the later rows.
	s.exec(t, "postgres", "CREATE DATABASE scratch")
	scratch, err := New(Options{URL: s.url(s.pg.User, s.pg.Password, "scratch")})
	if err != nil {
		t.Fatal(err)
	}
	if err := scratch.Restore(ctx, current); err != nil {
		t.Fatal(err)
	}
	if n := s.count(t, "scratch", "SELECT count(*) FROM items"); n != 4 {
		t.Errorf("items in the pre-restore backup = %d, want 4", n)
	}
}

func TestPasswordNeverShown(t *testing.T) {
	s := startServer(t)
	ctx := t.Context()
	quoted := strings.ReplaceAll(trickyPassword, "'", "''")
	s.exec(t, "slipway", "CREATE ROLE app LOGIN PASSWORD '"+quoted+"'")
	s.exec(t, "slipway", "CREATE DATABASE appdb OWNER app")
	u := s.url("app", trickyPassword, "appdb")
	// The URL usually comes from the environment, which the programs would
	// otherwise inherit.
	t.Setenv("DATABASE_URL", u)
	p, err := New(Options{URL: u})
	if err != nil {
		t.Fatal(err)
	}
	var cmds []*exec.Cmd
	p.observe = func(c *exec.Cmd) { cmds = append(cmds, c) }

	_, ms := migrations(t, map[string]string{
		"0001_a.sql": "CREATE TABLE a (id int); INSERT INTO a VALUES (1);",
		"0002_b.sql": "SELECT '" + quoted + "' FROM nope;",
	})
	_, err = p.Migrate(ctx, ms, 1, "ci")
	if err == nil {
		t.Fatal("Migrate of a failing migration succeeded")
	}
	assertNoPassword(t, "Migrate error", err.Error(), trickyPassword)

	backup := filepath.Join(t.TempDir(), "b.dump")
	if _, err := p.Backup(ctx, backup); err != nil {
		t.Fatalf("Backup with the password in a PGPASSFILE: %v", err)
	}
	if err := p.Restore(ctx, backup); err != nil {
		t.Fatalf("Restore with the password in a PGPASSFILE: %v", err)
	}
	if len(cmds) != 5 {
		t.Fatalf("ran %d programs, want pg_dump, pg_restore --list twice, pg_restore and psql", len(cmds))
	}
	for _, c := range cmds {
		all := strings.Join(append(append([]string{}, c.Args...), c.Env...), "\n")
		assertNoPassword(t, "command line and environment of "+c.Path, all, trickyPassword)
	}

	// Errors of every kind keep it hidden.
	wrong, err := New(Options{URL: s.url("app", trickyPassword, "nosuchdb")})
	if err != nil {
		t.Fatal(err)
	}
	for what, err := range map[string]error{
		"Ping":    wrong.Ping(ctx),
		"Backup":  func() error { _, err := wrong.Backup(ctx, filepath.Join(t.TempDir(), "x.dump")); return err }(),
		"Restore": wrong.Restore(ctx, backup),
	} {
		if err == nil {
			t.Errorf("%s of a missing database succeeded", what)
			continue
		}
		assertNoPassword(t, what+" error", err.Error(), trickyPassword)
	}
}

func TestMigrationMayNotEndItsTransaction(t *testing.T) {
	s := startServer(t)
	p := s.provider(t)
	dir, ms := migrations(t, map[string]string{
		"0001_a.sql": "CREATE TABLE a (id int);\nCOMMIT;\nCREATE TABLE b (id int);\n",
	})
	_, err := p.Migrate(t.Context(), ms, 1, "ci")
	var me *providers.MigrationError
	if !errors.As(err, &me) || !errors.Is(err, ErrTransactionControl) || me.File != filepath.Join(dir, "0001_a.sql") || me.Line != 2 {
		t.Fatalf("Migrate error = %v, want ErrTransactionControl at 0001_a.sql:2", err)
	}
	if s.tableExists(t, "slipway", "b") {
		t.Error("the statement after COMMIT ran")
	}
	if a, _ := p.Applied(t.Context()); len(a) != 0 {
		t.Errorf("Applied = %+v, want none", a)
	}
}

func TestMigrateWaitsForTheLock(t *testing.T) {
	s := startServer(t)
	p := s.provider(t)
	holder := s.conn(t, "slipway")
	defer holder.Close(context.Background())
	if _, err := holder.Exec(t.Context(), lockSQL); err != nil {
		t.Fatal(err)
	}
	_, ms := migrations(t, map[string]string{"0001_a.sql": "CREATE TABLE a (id int);"})

	// While another holds the lock, Migrate waits until its context ends,
	// and Resolve refuses at once.
	ctx, cancel := context.WithCancel(t.Context())
	errc := make(chan error, 1)
	go func() {
		_, err := p.Migrate(ctx, ms, 1, "ci")
		errc <- err
	}()
	for s.count(t, "slipway", "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted") == 0 {
		select {
		case err := <-errc:
			t.Fatalf("Migrate returned while another held the lock: %v", err)
		case <-time.After(20 * time.Millisecond):
		}
	}
	if err := p.Resolve(t.Context(), "0001", true); !errors.Is(err, ErrMigrating) {
		t.Errorf("Resolve while locked = %v, want ErrMigrating", err)
	}
	cancel()
	if err := <-errc; !errors.Is(err, context.Canceled) {
		t.Errorf("Migrate cancelled while waiting = %v, want context.Canceled", err)
	}
	if s.tableExists(t, "slipway", "a") {
		t.Error("Migrate ran without the lock")
	}

	// Once released, Migrate proceeds.
	if _, err := holder.Exec(t.Context(), unlockSQL); err != nil {
		t.Fatal(err)
	}
	if done, err := p.Migrate(t.Context(), ms, 1, "ci"); err != nil || len(done) != 1 {
		t.Errorf("Migrate after release = %+v, %v", done, err)
	}
}

func TestBackupOfAnEmptyDatabase(t *testing.T) {
	// The first release backs up before its first migration.
	s := startServer(t)
	p := s.provider(t)
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "empty.dump")
	info, err := p.Backup(ctx, path)
	if err != nil {
		t.Fatalf("Backup of an empty database: %v", err)
	}
	if info.Size == 0 {
		t.Error("empty database gave an empty file")
	}
	s.exec(t, "slipway", "CREATE TABLE later (id int); INSERT INTO later VALUES (1)")
	if err := p.Restore(ctx, path); err != nil {
		t.Fatalf("Restore of an empty database's backup: %v", err)
	}
}
