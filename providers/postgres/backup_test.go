package postgres

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/slipwayhq/slipway/internal/safedir"
)

func TestBackupName(t *testing.T) {
	at := time.Date(2024, 3, 9, 14, 5, 7, 0, time.FixedZone("CET", 3600))
	if got, want := BackupName("thebot", "main", 43, at), "thebot-main-r43-20240309T130507Z.dump"; got != want {
		t.Errorf("BackupName = %q, want %q", got, want)
	}
	r, tm, ok := parseBackupName(BackupName("thebot", "main", 43, at), "thebot", "main")
	if !ok || r != 43 || !tm.Equal(at) {
		t.Errorf("parseBackupName = %d, %v, %v", r, tm, ok)
	}
}

func TestPrune(t *testing.T) {
	base := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	names := []string{
		BackupName("p", "main", 1, base),
		BackupName("p", "main", 2, base.Add(time.Hour)),
		BackupName("p", "main", 3, base.Add(2*time.Hour)),
		BackupName("p", "main", 4, base.Add(3*time.Hour)),
		BackupName("p", "other", 1, base),                 // another database
		BackupName("q", "main", 1, base),                  // another project
		"p-main-r5-garbage.dump",                          // not a backup name
		"p-main-r05-20240101T000000Z.dump",                // not canonical
		"." + BackupName("p", "main", 9, base) + ".tmp-1", // in progress
		"notes.txt",
	}
	tests := []struct {
		keep int
		want []string // removed, newest first
	}{
		{keep: 0},
		{keep: -1},
		{keep: 4},
		{keep: 10},
		{keep: 2, want: []string{names[1], names[0]}},
		{keep: 1, want: []string{names[2], names[1], names[0]}},
	}
	for _, tt := range tests {
		dir := t.TempDir()
		for _, n := range names {
			if err := os.WriteFile(filepath.Join(dir, n), []byte("x"), 0o600); err != nil {
				t.Fatal(err)
			}
		}
		removed, err := Prune(dir, "p", "main", tt.keep)
		if err != nil {
			t.Fatal(err)
		}
		var want []string
		for _, n := range tt.want {
			want = append(want, filepath.Join(dir, n))
		}
		if !reflect.DeepEqual(removed, want) {
			t.Errorf("keep %d: removed %q, want %q", tt.keep, removed, want)
		}
		entries, _ := os.ReadDir(dir)
		if len(entries) != len(names)-len(want) {
			t.Errorf("keep %d: %d files left, want %d", tt.keep, len(entries), len(names)-len(want))
		}
		for _, p := range removed {
			if _, err := os.Stat(p); !os.IsNotExist(err) {
				t.Errorf("keep %d: %s still exists", tt.keep, p)
			}
		}
	}
	if _, err := Prune(filepath.Join(t.TempDir(), "nope"), "p", "main", 1); err == nil {
		t.Error("Prune of a missing directory: no error")
	}
}

func writeExecutable(t *testing.T, path, script string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte("#!/bin/sh\n"+script), 0o755); err != nil {
		t.Fatal(err)
	}
}

func TestFindTool(t *testing.T) {
	root := t.TempDir()
	for _, v := range []string{"9.6", "10", "15"} {
		writeExecutable(t, filepath.Join(root, v, "bin", "pg_dump"), "")
	}
	writeExecutable(t, filepath.Join(root, "16", "bin", "pg_restore"), "")
	if err := os.MkdirAll(filepath.Join(root, "17", "bin", "pg_dump"), 0o755); err != nil { // a directory, not a program
		t.Fatal(err)
	}
	pathDir := t.TempDir()
	writeExecutable(t, filepath.Join(pathDir, "pg_restore"), "")
	binDir := t.TempDir()
	writeExecutable(t, filepath.Join(binDir, "pg_dump"), "")

	t.Setenv("PATH", pathDir)
	tests := []struct {
		name, binDir, tool, want string
	}{
		{"bin dir", binDir, "pg_dump", filepath.Join(binDir, "pg_dump")},
		{"PATH first", "", "pg_restore", filepath.Join(pathDir, "pg_restore")},
		{"newest version dir", "", "pg_dump", filepath.Join(root, "15", "bin", "pg_dump")},
		{"bin dir without it", binDir, "pg_restore", ""},
		{"nowhere", "", "psql", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := &Postgres{binDir: tt.binDir, toolRoot: root}
			got, err := p.findTool(tt.tool)
			if tt.want == "" {
				if !errors.Is(err, ErrToolNotFound) {
					t.Errorf("findTool = %q, %v; want ErrToolNotFound", got, err)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Errorf("findTool = %q, %v; want %q", got, err, tt.want)
			}
		})
	}
}

func TestWritePassfile(t *testing.T) {
	path, err := writePassfile(`a:b\c`)
	if err != nil {
		t.Fatal(err)
	}
	defer os.Remove(path)
	b, _ := os.ReadFile(path)
	if string(b) != `*:*:*:*:a\:b\\c`+"\n" {
		t.Errorf("passfile = %q", b)
	}
	if fi, _ := os.Stat(path); fi.Mode().Perm() != 0o600 {
		t.Errorf("passfile mode %v, want 0600", fi.Mode().Perm())
	}
	if _, err := writePassfile("a\nb"); err == nil {
		t.Error("a password with a line break: no error")
	}
}

func TestToolEnv(t *testing.T) {
	secrets := secretVariants([]string{"p@ss w/rd"})
	tests := []struct {
		name    string
		environ []string
		want    []string
	}{
		{"password variables", []string{"HOME=/root", "PGPASSWORD=x", "PGPASSFILE=/y", "PGHOST=h"}, []string{"HOME=/root", "PGHOST=h"}},
		{"the URL the password came from", []string{"DATABASE_URL=postgres://app:p%40ss%20w%2Frd@db/app", "PGUSER=app"}, []string{"PGUSER=app"}},
		{"the password plain", []string{"SECRET=p@ss w/rd", "EMPTY="}, []string{"EMPTY="}},
		{"query-escaped", []string{"X=a?password=p%40ss+w%2Frd"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := toolEnv(tt.environ, secrets); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("toolEnv = %q, want %q", got, tt.want)
			}
		})
	}
}

// fakeTools makes a BinDir whose pg_dump and pg_restore run the scripts
// given (sh, with "$@" the arguments).
func fakeTools(t *testing.T, dump, restore string) string {
	dir := t.TempDir()
	writeExecutable(t, filepath.Join(dir, "pg_dump"), dump)
	writeExecutable(t, filepath.Join(dir, "pg_restore"), restore)
	return dir
}

// fileArg extracts --file=... in a fake pg_dump.
const fileArg = `for a in "$@"; do case "$a" in --file=*) f="${a#--file=}";; esac; done
`

func newFake(t *testing.T, dump, restore string) (*Postgres, *[]*exec.Cmd) {
	t.Helper()
	u := "postgres://" + url.UserPassword("app", trickyPassword).String() + "@127.0.0.1:1/main?sslmode=disable"
	p, err := New(Options{URL: u, BinDir: fakeTools(t, dump, restore)})
	if err != nil {
		t.Fatal(err)
	}
	var cmds []*exec.Cmd
	p.observe = func(c *exec.Cmd) {
		cmds = append(cmds, c)
		// The password file must exist, be private and hold the password
		// while the program runs.
		for _, kv := range c.Env {
			if f, ok := strings.CutPrefix(kv, "PGPASSFILE="); ok {
				fi, err := os.Stat(f)
				if err != nil || fi.Mode().Perm() != 0o600 {
					t.Errorf("PGPASSFILE %s: %v, %v", f, fi, err)
				}
				b, _ := os.ReadFile(f)
				if !strings.Contains(string(b), `p@ss\:w/rd%4 x?y#z\\q'"&=`) {
					t.Errorf("PGPASSFILE holds %q", b)
				}
			}
		}
	}
	return p, &cmds
}

func leftovers(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	sort.Strings(names)
	return names
}

func TestBackupWithFakeTools(t *testing.T) {
	t.Setenv("PGPASSWORD", "from-env")
	p, cmds := newFake(t, fileArg+`printf 'PGDMP-data' > "$f"`, `echo "1; 0 0 ENCODING - ENCODING"`)
	fixed := time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)
	p.now = func() time.Time { return fixed }
	dir := filepath.Join(t.TempDir(), "backups")
	path := filepath.Join(dir, "b.dump")
	info, err := p.Backup(t.Context(), path)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256([]byte("PGDMP-data"))
	if info.Path != path || info.Size != 10 || info.SHA256 != hex.EncodeToString(sum[:]) || !info.CreatedAt.Equal(fixed) {
		t.Errorf("BackupInfo = %+v", info)
	}
	if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("backup file: %v, %v; want mode 0600", fi, err)
	}
	if fi, err := os.Stat(dir); err != nil || fi.Mode().Perm() != 0o700 {
		t.Errorf("backup dir: %v, %v; want mode 0700", fi, err)
	}
	if got := leftovers(t, dir); !reflect.DeepEqual(got, []string{"b.dump"}) {
		t.Errorf("backup dir holds %q, want only b.dump", got)
	}
	if len(*cmds) != 2 {
		t.Fatalf("ran %d commands, want pg_dump and pg_restore --list", len(*cmds))
	}
	var passfiles []string
	for _, c := range *cmds {
		all := strings.Join(append(append([]string{}, c.Args...), c.Env...), "\n")
		assertNoPassword(t, "command "+c.Path, all, trickyPassword)
		if strings.Contains(all, "PGPASSWORD") {
			t.Errorf("command %s has PGPASSWORD in its environment", c.Path)
		}
		for _, kv := range c.Env {
			if f, ok := strings.CutPrefix(kv, "PGPASSFILE="); ok {
				passfiles = append(passfiles, f)
			}
		}
	}
	if len(passfiles) != 2 {
		t.Errorf("PGPASSFILE given %d times, want 2", len(passfiles))
	}
	for _, f := range passfiles {
		if _, err := os.Stat(f); !os.IsNotExist(err) {
			t.Errorf("password file %s left behind", f)
		}
	}
	dump := (*cmds)[0].Args
	if !reflect.DeepEqual(dump[1:2], []string{"--format=custom"}) || dump[len(dump)-1] != "--dbname=postgres://app@127.0.0.1:1/main?sslmode=disable" {
		t.Errorf("pg_dump args %q", dump)
	}
	if list := (*cmds)[1].Args; len(list) != 3 || list[1] != "--list" {
		t.Errorf("pg_restore args %q", list)
	}
}

func TestBackupFailures(t *testing.T) {
	tests := []struct {
		name          string
		dump, restore string
		wantErr       error
		wantMsg       string
	}{
		{"pg_dump fails", `echo "pg_dump: error: connection failed: password p@ss:w/rd%4 x?y#z\\q'\"&= rejected" >&2; exit 1`, `exit 0`, nil, "pg_dump: error: connection failed: password (sensitive) rejected"},
		{"empty dump", fileArg + `: > "$f"`, `echo "1; 0 0 ENCODING"`, ErrEmptyBackup, ""},
		{"list fails", fileArg + `echo x > "$f"`, `echo "pg_restore: error: input file does not appear to be a valid archive" >&2; exit 1`, nil, "valid archive"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, _ := newFake(t, tt.dump, tt.restore)
			dir := t.TempDir()
			_, err := p.Backup(t.Context(), filepath.Join(dir, "b.dump"))
			if err == nil {
				t.Fatal("Backup succeeded")
			}
			if tt.wantErr != nil && !errors.Is(err, tt.wantErr) {
				t.Errorf("error = %v, want %v", err, tt.wantErr)
			}
			if !strings.Contains(err.Error(), tt.wantMsg) {
				t.Errorf("error = %v, want it to contain %q", err, tt.wantMsg)
			}
			assertNoPassword(t, "error", err.Error(), trickyPassword)
			if got := leftovers(t, dir); len(got) != 0 {
				t.Errorf("left %q after a failed backup", got)
			}
		})
	}
}

func TestRestoreRefusesBadBackupBeforeTouchingTheDatabase(t *testing.T) {
	// The URL points at no server: a restore that got past the check
	// would fail to connect instead.
	p, cmds := newFake(t, "", `echo "pg_restore: error: input file is too short" >&2; exit 1`)
	path := filepath.Join(t.TempDir(), "b.dump")
	if err := os.WriteFile(path, []byte("junk"), 0o600); err != nil {
		t.Fatal(err)
	}
	err := p.Restore(t.Context(), path)
	if err == nil || !strings.Contains(err.Error(), "too short") {
		t.Errorf("Restore error = %v, want pg_restore --list's complaint", err)
	}
	if len(*cmds) != 1 {
		t.Errorf("ran %d commands, want only pg_restore --list", len(*cmds))
	}
	if err := p.Restore(t.Context(), filepath.Join(t.TempDir(), "missing.dump")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("Restore of a missing file = %v, want not exist", err)
	}
}

// TestBackupNeverWritesThroughLinks: a link planted at the backup's name is
// replaced by the backup, and a backup directory that is a link gets
// nothing; neither victim changes.
func TestBackupNeverWritesThroughLinks(t *testing.T) {
	p, _ := newFake(t, fileArg+`printf 'PGDMP-data' > "$f"`, `echo "1; 0 0 ENCODING - ENCODING"`)
	victims := t.TempDir()
	victim := filepath.Join(victims, "victim")
	want := []byte("precious, not slipway's\n")
	if err := os.WriteFile(victim, want, 0o644); err != nil {
		t.Fatal(err)
	}
	intact := func() {
		t.Helper()
		if got, err := os.ReadFile(victim); err != nil || !bytes.Equal(got, want) {
			t.Fatalf("victim now %q, %v", got, err)
		}
		if names := leftovers(t, victims); !reflect.DeepEqual(names, []string{"victim"}) {
			t.Fatalf("the victims' directory holds %q", names)
		}
	}

	dir := filepath.Join(t.TempDir(), "backups")
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "b.dump")
	if err := os.Symlink(victim, path); err != nil {
		t.Fatal(err)
	}
	if _, err := p.Backup(t.Context(), path); err != nil {
		t.Fatal(err)
	}
	intact()
	if fi, err := os.Lstat(path); err != nil || !fi.Mode().IsRegular() {
		t.Fatalf("backup: %v, %v; want a regular file", fi, err)
	}

	linked := filepath.Join(t.TempDir(), "backups")
	if err := os.Symlink(victims, linked); err != nil {
		t.Fatal(err)
	}
	_, err := p.Backup(t.Context(), filepath.Join(linked, "b.dump"))
	if !errors.Is(err, safedir.ErrUnsafe) || !strings.Contains(err.Error(), "backup directory "+linked+" is a symbolic link") {
		t.Fatalf("backup into a linked directory: %v", err)
	}
	intact()
}
