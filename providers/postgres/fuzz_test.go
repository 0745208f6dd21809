package postgres

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// FuzzLoadMigrations writes a file of any name and content beside a valid
// migration and loads the directory: it must never panic, and whatever it
// accepts must be a NNNN_name.sql file inside the directory (no path
// traversal, no separator in the name), listed once, in version order.
func FuzzLoadMigrations(f *testing.F) {
	for _, s := range []struct{ name, body string }{
		{"0002_email.sql", "ALTER TABLE users ADD COLUMN email text;"},
		{"0002_email.down.sql", "ALTER TABLE users DROP COLUMN email;"},
		{"0001_users.sql", "SELECT 1;"},
		{"../0003_escape.sql", "SELECT 1;"},
		{"0004_..sql", ""},
		{"0005_a/../../b.sql", ""},
		{"00000000000000000000000000000009_big.sql", "-- slipway:no-transaction\nCREATE INDEX CONCURRENTLY i ON t (x);"},
		{"0006_x.SQL", ""},
		{".0007_hidden.sql", ""},
		{"0008_name with space.sql", ""},
	} {
		f.Add(s.name, s.body)
	}
	f.Fuzz(func(t *testing.T, name, body string) {
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, "0001_users.sql"), []byte("CREATE TABLE users (id int);"), 0o600); err != nil {
			t.Fatal(err)
		}
		if name == "" || name == "." || name == ".." || strings.ContainsAny(name, "/\x00") || len(name) > 200 {
			return // not one file name of the directory
		}
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o600); err != nil {
			return
		}
		ms, err := LoadMigrations(dir)
		if err != nil {
			return
		}
		root, _ := filepath.EvalSymlinks(dir)
		seen := map[string]bool{}
		for i, m := range ms {
			if filepath.Dir(m.Path) != dir || filepath.Base(m.Path) != m.Name {
				t.Fatalf("migration %q has path %q outside %s", m.Name, m.Path, dir)
			}
			if real, err := filepath.EvalSymlinks(m.Path); err != nil || filepath.Dir(real) != root {
				t.Fatalf("migration %q resolves outside the directory: %q %v", m.Name, real, err)
			}
			if !migrationName.MatchString(m.Name) || strings.HasSuffix(m.Name, ".down.sql") {
				t.Fatalf("migration name %q accepted", m.Name)
			}
			if !strings.HasPrefix(m.Name, m.Version+"_") || strings.Trim(m.Version, "0123456789") != "" {
				t.Fatalf("migration %q has version %q", m.Name, m.Version)
			}
			key := numericVersion(m.Version)
			if seen[key] {
				t.Fatalf("version %s listed twice", m.Version)
			}
			seen[key] = true
			if i > 0 && !versionLess(ms[i-1].Version, m.Version) {
				t.Fatalf("%q listed after %q", m.Name, ms[i-1].Name)
			}
			if m.Down != "" && filepath.Dir(m.Down) != dir {
				t.Fatalf("down file %q outside %s", m.Down, dir)
			}
		}
	})
}

// FuzzSplitStatements splits arbitrary SQL: it must never panic, and each
// statement must be the text of the script at its offset, in order and
// without overlap.
func FuzzSplitStatements(f *testing.F) {
	for _, s := range []string{
		"CREATE TABLE t (id int); INSERT INTO t VALUES (1);",
		"SELECT 'a;b'; SELECT $$x;y$$; SELECT $tag$;$tag$;",
		"/* a /* nested ; */ comment */ SELECT 1; -- trailing ;\n",
		"CREATE FUNCTION f() RETURNS int LANGUAGE sql BEGIN ATOMIC SELECT 1; END; SELECT 2;",
		"SELECT E'\\';'; SELECT \"a;b\" FROM t;",
		"SELECT 'unterminated",
		"$",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, src string) {
		end := 0
		for _, st := range splitStatements(src) {
			if st.Offset < end || st.Offset+len(st.Text) > len(src) {
				t.Fatalf("statement at %d (%d bytes) overlaps or runs past the script (end %d, len %d)", st.Offset, len(st.Text), end, len(src))
			}
			if src[st.Offset:st.Offset+len(st.Text)] != st.Text {
				t.Fatalf("statement %q is not the script's text at %d", st.Text, st.Offset)
			}
			if strings.TrimSpace(st.Text) == "" {
				t.Fatalf("empty statement at %d", st.Offset)
			}
			end = st.Offset + len(st.Text)
		}
	})
}
