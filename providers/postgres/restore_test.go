package postgres

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
)

func TestHeldTail(t *testing.T) {
	errFailed := errors.New("pg_restore failed")
	long := strings.Repeat("x", 3*heldTailSize) + "COMMIT;\n"
	tests := []struct {
		name    string
		in      string
		keep    int
		done    error
		want    string
		wantErr error
	}{
		{"short input, success", "BEGIN; COMMIT;", heldTailSize, nil, "BEGIN; COMMIT;", nil},
		{"short input, failure: nothing read", "BEGIN; COMMIT;", heldTailSize, errFailed, "", errFailed},
		{"long input, success", long, heldTailSize, nil, long, nil},
		{"long input, failure: the tail never read", long, heldTailSize, errFailed, long[:len(long)-heldTailSize], errFailed},
		{"empty input", "", 16, nil, "", nil},
		{"keep nothing", "abc", 0, errFailed, "abc", errFailed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			calls := 0
			h := &heldTail{r: iotestOneByteAtATimeIfShort(tt.in), keep: tt.keep, done: func() error { calls++; return tt.done }}
			var got bytes.Buffer
			_, err := io.Copy(&got, h)
			if got.String() != tt.want {
				t.Errorf("read %d bytes ending %q, want %d ending %q", got.Len(), tail(got.String()), len(tt.want), tail(tt.want))
			}
			if !errors.Is(err, tt.wantErr) {
				t.Errorf("error = %v, want %v", err, tt.wantErr)
			}
			if calls != 1 {
				t.Errorf("done called %d times, want once", calls)
			}
		})
	}
}

// iotestOneByteAtATimeIfShort reads a short input a byte at a time, so
// that heldTail sees many reads, and a long one in pieces of 1000 bytes.
func iotestOneByteAtATimeIfShort(s string) io.Reader {
	if len(s) < 100 {
		return &chunked{s: s, n: 1}
	}
	return &chunked{s: s, n: 1000}
}

type chunked struct {
	s string
	n int
}

func (c *chunked) Read(p []byte) (int, error) {
	if c.s == "" {
		return 0, io.EOF
	}
	n := copy(p, c.s[:min(c.n, len(c.s))])
	c.s = c.s[n:]
	return n, nil
}

func tail(s string) string {
	return s[max(0, len(s)-10):]
}

func TestRestoreLeavesExactlyTheBackup(t *testing.T) {
	s := startServer(t)
	p := s.provider(t)
	ctx := t.Context()
	s.exec(t, "slipway", `CREATE TABLE items (id int PRIMARY KEY, name text);
		INSERT INTO items VALUES (1, 'a'), (2, 'b');
		CREATE SCHEMA app; CREATE TABLE app.kept (id int REFERENCES items(id));
		CREATE TABLE slipway_schema_migrations (version text PRIMARY KEY);
		INSERT INTO slipway_schema_migrations VALUES ('0001')`)
	backup := filepath.Join(t.TempDir(), "b.dump")
	if _, err := p.Backup(ctx, backup); err != nil {
		t.Fatal(err)
	}

	// Everything a later migration might add, and later rows.
	later := `CREATE TABLE later (id int PRIMARY KEY); INSERT INTO later VALUES (1);
		ALTER TABLE items ADD COLUMN email text;
		CREATE INDEX items_name ON items (name);
		CREATE SCHEMA newer; CREATE TABLE newer.t (id int);
		CREATE TABLE app.added (id int);
		CREATE TYPE mood AS ENUM ('ok');
		CREATE TYPE pair AS (a int, b int);
		CREATE DOMAIN positive AS int CHECK (VALUE > 0);
		CREATE FUNCTION later_f() RETURNS int LANGUAGE sql AS 'SELECT 1';
		CREATE VIEW later_v AS SELECT * FROM items;
		CREATE SEQUENCE later_seq;
		SELECT lo_from_bytea(0, 'later');
		INSERT INTO slipway_schema_migrations VALUES ('0002')`
	s.exec(t, "slipway", later)
	s.exec(t, "slipway", "INSERT INTO items VALUES (3, 'c'), (4, 'd')")

	if err := p.Restore(ctx, backup); err != nil {
		t.Fatal(err)
	}
	checks := []struct {
		sql  string
		want int
	}{
		{"SELECT count(*) FROM items", 2},
		{"SELECT count(*) FROM slipway_schema_migrations", 1},
		{"SELECT count(*) FROM pg_tables WHERE schemaname NOT IN ('pg_catalog', 'information_schema')", 3},
		{"SELECT count(*) FROM information_schema.columns WHERE table_name = 'items' AND column_name = 'email'", 0},
		{"SELECT count(*) FROM pg_indexes WHERE indexname = 'items_name'", 0},
		{"SELECT count(*) FROM pg_namespace WHERE nspname = 'newer'", 0},
		{"SELECT count(*) FROM pg_type WHERE typname IN ('mood', 'pair', 'positive')", 0},
		{"SELECT count(*) FROM pg_proc WHERE proname = 'later_f'", 0},
		{"SELECT count(*) FROM pg_class WHERE relname IN ('later_v', 'later_seq')", 0},
		{"SELECT count(*) FROM pg_largeobject_metadata", 0},
		// The foreign key from app.kept to items came back.
		{"SELECT count(*) FROM pg_constraint WHERE conrelid = 'app.kept'::regclass AND contype = 'f'", 1},
		// public is as initdb makes it: everyone may use it.
		{"SELECT count(*) FROM pg_namespace WHERE nspname = 'public' AND nspowner = 'pg_database_owner'::regrole AND has_schema_privilege('public', oid, 'USAGE')", 1},
	}
	for _, c := range checks {
		if n := s.count(t, "slipway", c.sql); n != c.want {
			t.Errorf("%s = %d, want %d", c.sql, n, c.want)
		}
	}

	// What was added after the backup can be added again: a migration
	// re-applied after the restore does not find its table there.
	s.exec(t, "slipway", later)
}

func TestRestoreAsTheOwnerOfTheDatabase(t *testing.T) {
	// An application role owns its database but not public, which belongs
	// to a superuser (as before PostgreSQL 15) and lets it create there:
	// the restore cannot drop public, so it drops the role's objects in it.
	s := startServer(t)
	ctx := t.Context()
	s.exec(t, "slipway", "CREATE ROLE app LOGIN PASSWORD 'app-pw'; CREATE ROLE reader LOGIN")
	s.exec(t, "slipway", "CREATE DATABASE appdb OWNER app")
	s.exec(t, "appdb", "ALTER SCHEMA public OWNER TO slipway; GRANT CREATE ON SCHEMA public TO app")
	p, err := New(Options{URL: s.url("app", "app-pw", "appdb")})
	if err != nil {
		t.Fatal(err)
	}
	app := func(sql string) {
		t.Helper()
		conn, err := pgx.Connect(ctx, s.url("app", "app-pw", "appdb"))
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close(ctx)
		if _, err := conn.Exec(ctx, sql); err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
	}
	app("CREATE TABLE items (id int); INSERT INTO items VALUES (1); CREATE SCHEMA own; CREATE TABLE own.t (id int)")
	backup := filepath.Join(t.TempDir(), "b.dump")
	if _, err := p.Backup(ctx, backup); err != nil {
		t.Fatal(err)
	}
	app(`INSERT INTO items VALUES (2); INSERT INTO own.t VALUES (2);
		CREATE TABLE later (id serial PRIMARY KEY); CREATE VIEW later_v AS SELECT * FROM later;
		CREATE FUNCTION later_f() RETURNS int LANGUAGE sql AS 'SELECT 1';
		CREATE TYPE later_mood AS ENUM ('ok'); CREATE DOMAIN later_d AS int;
		CREATE TYPE later_pair AS (a int); CREATE SEQUENCE later_seq`)

	if err := p.Restore(ctx, backup); err != nil {
		t.Fatal(err)
	}
	checks := []struct {
		sql  string
		want int
	}{
		{"SELECT count(*) FROM items", 1},
		{"SELECT count(*) FROM own.t", 0},
		{"SELECT count(*) FROM pg_class WHERE relname LIKE 'later%'", 0},
		{"SELECT count(*) FROM pg_proc WHERE proname = 'later_f'", 0},
		{"SELECT count(*) FROM pg_type WHERE typname LIKE 'later%'", 0},
		// public itself is untouched: its owner, and everyone may use it.
		{"SELECT count(*) FROM pg_namespace WHERE nspname = 'public' AND nspowner = 'slipway'::regrole AND has_schema_privilege('reader', oid, 'USAGE')", 1},
	}
	for _, c := range checks {
		if n := s.count(t, "appdb", c.sql); n != c.want {
			t.Errorf("%s = %d, want %d", c.sql, n, c.want)
		}
	}
	app("CREATE TABLE later (id int)")
}

func TestRestoreIsAllOrNothing(t *testing.T) {
	tests := []struct {
		name    string
		spoil   func(t *testing.T, s *server, backup string) // after the backup
		wantErr string
	}{
		{
			// The archive gives a table to a role that no longer exists:
			// psql fails after the database was emptied.
			name: "the script fails part way",
			spoil: func(t *testing.T, s *server, backup string) {
				s.exec(t, "slipway", "ALTER TABLE gone_owner OWNER TO slipway; DROP ROLE ghost")
			},
			wantErr: `role "ghost" does not exist`,
		},
		{
			// pg_restore reads the table of contents but not the data:
			// the script stops short, and must not be committed.
			name: "pg_restore fails part way",
			spoil: func(t *testing.T, s *server, backup string) {
				b, err := os.ReadFile(backup)
				if err != nil {
					t.Fatal(err)
				}
				// Cut into the data of the big table, which follows the
				// table of contents.
				if err := os.WriteFile(backup, b[:len(b)-len(b)/4], 0o600); err != nil {
					t.Fatal(err)
				}
			},
			wantErr: "run pg_restore",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := startServer(t)
			p := s.provider(t)
			ctx := t.Context()
			s.exec(t, "slipway", `CREATE ROLE ghost;
				CREATE TABLE items (id int); INSERT INTO items VALUES (1);
				CREATE TABLE gone_owner (id int); ALTER TABLE gone_owner OWNER TO ghost;
				CREATE TABLE big (id int, pad text);
				INSERT INTO big SELECT g, repeat(md5(g::text), 6) FROM generate_series(1, 20000) g`)
			backup := filepath.Join(t.TempDir(), "b.dump")
			if _, err := p.Backup(ctx, backup); err != nil {
				t.Fatal(err)
			}
			s.exec(t, "slipway", "INSERT INTO items VALUES (2); CREATE TABLE later (id int)")
			tt.spoil(t, s, backup)

			err := p.Restore(ctx, backup)
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("Restore = %v, want an error with %q", err, tt.wantErr)
			}
			if n := s.count(t, "slipway", "SELECT count(*) FROM items"); n != 2 {
				t.Errorf("items after a failed restore = %d, want 2 (untouched)", n)
			}
			if !s.tableExists(t, "slipway", "later") || !s.tableExists(t, "slipway", "big") {
				t.Error("a failed restore dropped tables")
			}
		})
	}
}

func TestRestoreWithoutPsqlEndsNoSession(t *testing.T) {
	// BinDir has pg_restore but no psql; the URL points at no server, so a
	// restore that went on to end sessions would fail to connect instead.
	p, cmds := newFake(t, "", `echo "1; 0 0 ENCODING - ENCODING"`)
	path := filepath.Join(t.TempDir(), "b.dump")
	if err := os.WriteFile(path, []byte("PGDMP"), 0o600); err != nil {
		t.Fatal(err)
	}
	err := p.Restore(t.Context(), path)
	if !errors.Is(err, ErrToolNotFound) || !strings.Contains(err.Error(), "psql") {
		t.Errorf("Restore = %v, want psql not found", err)
	}
	if len(*cmds) != 1 {
		t.Errorf("ran %d programs, want only pg_restore --list", len(*cmds))
	}
}
