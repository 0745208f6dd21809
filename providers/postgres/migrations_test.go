package postgres

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/slipwayhq/slipway/providers"
)

// writeFiles writes name -> content files into dir.
func writeFiles(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func TestLoadMigrations(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{
		"0010_ten.sql":         "SELECT 10;",
		"0002_two.sql":         "SELECT 2;",
		"0002_two.down.sql":    "SELECT -2;",
		"0001_one.sql":         "\n-- slipway:no-transaction\nCREATE INDEX CONCURRENTLY i ON t (x);",
		"0003_not_first.sql":   "SELECT 1;\n-- slipway:no-transaction\n",
		"README.md":            "not a migration",
		".0004_hidden.sql":     "hidden",
		"0005_dotted.name.sql": "SELECT 5;",
	})
	if err := os.Mkdir(filepath.Join(dir, "0006_dir.sql"), 0o755); err != nil {
		t.Fatal(err)
	}
	got, err := LoadMigrations(dir)
	if err != nil {
		t.Fatal(err)
	}
	want := []providers.Migration{
		{Version: "0001", Name: "0001_one.sql", NoTransaction: true},
		{Version: "0002", Name: "0002_two.sql", Down: filepath.Join(dir, "0002_two.down.sql")},
		{Version: "0003", Name: "0003_not_first.sql"},
		{Version: "0005", Name: "0005_dotted.name.sql"},
		{Version: "0010", Name: "0010_ten.sql"},
	}
	for i := range want {
		want[i].Path = filepath.Join(dir, want[i].Name)
		b, _ := os.ReadFile(want[i].Path)
		want[i].Checksum = checksum(b)
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("LoadMigrations\n got %+v\nwant %+v", got, want)
	}
	// The checksum is sha256 of the bytes: a known value.
	if c := checksum([]byte("abc")); c != "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad" {
		t.Errorf("checksum(abc) = %s", c)
	}
}

func TestLoadMigrationsNumericOrder(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{"9_nine.sql": "", "10_ten.sql": "", "0011_eleven.sql": ""})
	got, err := LoadMigrations(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, m := range got {
		names = append(names, m.Name)
	}
	if want := []string{"9_nine.sql", "10_ten.sql", "0011_eleven.sql"}; !reflect.DeepEqual(names, want) {
		t.Errorf("order %q, want %q", names, want)
	}
}

func TestLoadMigrationsRejects(t *testing.T) {
	outside := t.TempDir()
	writeFiles(t, outside, map[string]string{"evil.sql": "DROP TABLE users;"})
	tests := []struct {
		name    string
		files   map[string]string
		links   map[string]string // name -> target
		wantErr error
	}{
		{"no number", map[string]string{"add_index.sql": ""}, nil, ErrBadMigrationName},
		{"no name", map[string]string{"0001.sql": ""}, nil, ErrBadMigrationName},
		{"space in name", map[string]string{"0001_add index.sql": ""}, nil, ErrBadMigrationName},
		{"duplicate version", map[string]string{"0001_a.sql": "", "0001_b.sql": ""}, nil, ErrDuplicateVersion},
		{"duplicate numeric version", map[string]string{"0001_a.sql": "", "1_b.sql": ""}, nil, ErrDuplicateVersion},
		{"orphan down", map[string]string{"0001_a.down.sql": ""}, nil, ErrOrphanDown},
		{"down of another name", map[string]string{"0001_a.sql": "", "0001_b.down.sql": ""}, nil, ErrOrphanDown},
		{"symlink outside", nil, map[string]string{"0001_evil.sql": filepath.Join(outside, "evil.sql")}, ErrOutsideDir},
		{"relative symlink outside", nil, map[string]string{"0001_evil.sql": "../" + filepath.Base(outside) + "/evil.sql"}, ErrOutsideDir},
		{"symlink to a directory", nil, map[string]string{"0001_dir.sql": "."}, ErrOutsideDir},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			parent := filepath.Dir(outside)
			dir, err := os.MkdirTemp(parent, "migrations-")
			if err != nil {
				t.Fatal(err)
			}
			defer os.RemoveAll(dir)
			writeFiles(t, dir, tt.files)
			for name, target := range tt.links {
				if err := os.Symlink(target, filepath.Join(dir, name)); err != nil {
					t.Fatal(err)
				}
			}
			_, err = LoadMigrations(dir)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("LoadMigrations error = %v, want %v", err, tt.wantErr)
			}
		})
	}
}

func TestLoadMigrationsSymlinkInside(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{"shared.txt": "SELECT 1;"})
	if err := os.Symlink("shared.txt", filepath.Join(dir, "0001_a.sql")); err != nil {
		t.Fatal(err)
	}
	ms, err := LoadMigrations(dir)
	if err != nil || len(ms) != 1 || ms[0].Checksum != checksum([]byte("SELECT 1;")) {
		t.Fatalf("LoadMigrations = %+v, %v; want the linked file", ms, err)
	}
}

func TestLoadMigrationsMissingDir(t *testing.T) {
	if _, err := LoadMigrations(filepath.Join(t.TempDir(), "nope")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("error = %v, want not exist", err)
	}
}

func TestPending(t *testing.T) {
	files := []providers.Migration{
		{Version: "0001", Name: "0001_a.sql", Checksum: "sha256:a"},
		{Version: "0002", Name: "0002_b.sql", Checksum: "sha256:b"},
		{Version: "0003", Name: "0003_c.sql", Checksum: "sha256:c"},
	}
	row := func(v, name, sum string) providers.AppliedMigration {
		return providers.AppliedMigration{Version: v, Name: name, Checksum: sum}
	}
	tests := []struct {
		name    string
		applied []providers.AppliedMigration
		want    []string
		check   func(t *testing.T, err error)
	}{
		{name: "none applied", want: []string{"0001_a.sql", "0002_b.sql", "0003_c.sql"}},
		{name: "first applied", applied: []providers.AppliedMigration{row("0001", "0001_a.sql", "sha256:a")},
			want: []string{"0002_b.sql", "0003_c.sql"}},
		{name: "out of order gap is pending", applied: []providers.AppliedMigration{row("0001", "0001_a.sql", "sha256:a"), row("0003", "0003_c.sql", "sha256:c")},
			want: []string{"0002_b.sql"}},
		{name: "versions match as numbers", applied: []providers.AppliedMigration{row("1", "1_a.sql", "sha256:a")},
			want: []string{"0002_b.sql", "0003_c.sql"}},
		{name: "all applied", applied: []providers.AppliedMigration{row("0001", "0001_a.sql", "sha256:a"), row("0002", "0002_b.sql", "sha256:b"), row("0003", "0003_c.sql", "sha256:c")}},
		{name: "changed", applied: []providers.AppliedMigration{row("0001", "0001_a.sql", "sha256:old")},
			check: func(t *testing.T, err error) {
				var ce *ChecksumError
				if !errors.As(err, &ce) || ce.Name != "0001_a.sql" || ce.Want != "sha256:old" || ce.Got != "sha256:a" {
					t.Errorf("error = %#v, want ChecksumError for 0001_a.sql old -> a", err)
				}
			}},
		{name: "vanished", applied: []providers.AppliedMigration{row("0000", "0000_gone.sql", "sha256:z")},
			check: func(t *testing.T, err error) {
				var ve *VanishedError
				if !errors.As(err, &ve) || ve.Name != "0000_gone.sql" {
					t.Errorf("error = %v, want VanishedError for 0000_gone.sql", err)
				}
			}},
		{name: "dirty", applied: []providers.AppliedMigration{{Version: "0001", Name: "0001_a.sql", Checksum: "sha256:a", Dirty: true}},
			check: func(t *testing.T, err error) {
				var de *DirtyError
				if !errors.As(err, &de) || de.Name != "0001_a.sql" || de.Version != "0001" {
					t.Errorf("error = %v, want DirtyError for 0001_a.sql", err)
				}
			}},
		{name: "every problem reported", applied: []providers.AppliedMigration{row("0000", "0000_gone.sql", "sha256:z"), row("0002", "0002_b.sql", "sha256:old")},
			check: func(t *testing.T, err error) {
				var ve *VanishedError
				var ce *ChecksumError
				if !errors.As(err, &ve) || !errors.As(err, &ce) {
					t.Errorf("error = %v, want both VanishedError and ChecksumError", err)
				}
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Pending(files, tt.applied)
			if tt.check != nil {
				if err == nil {
					t.Fatalf("Pending = %v, want an error", got)
				}
				tt.check(t, err)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var names []string
			for _, m := range got {
				names = append(names, m.Name)
			}
			if !reflect.DeepEqual(names, tt.want) {
				t.Errorf("Pending = %q, want %q", names, tt.want)
			}
		})
	}
}
