package atomicfile

import (
	"bytes"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

func names(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range entries {
		out = append(out, e.Name())
	}
	return out
}

func TestReplaceAndCreate(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "f")
	tests := []struct {
		name     string
		op       func() error
		want     string
		wantMode fs.FileMode
		wantErr  error
	}{
		{"create new", func() error { return Create(path, []byte("one")) }, "one", 0o600, nil},
		{"create refuses existing", func() error { return Create(path, []byte("two")) }, "one", 0o600, ErrExists},
		{"replace existing", func() error { return Replace(path, []byte("three")) }, "three", 0o600, nil},
		{"replace with a mode", func() error { return Replace(path, []byte("four"), Mode(0o644)) }, "four", 0o644, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.op(); !errors.Is(err, tt.wantErr) {
				t.Fatalf("error = %v, want %v", err, tt.wantErr)
			}
			got, err := os.ReadFile(path)
			if err != nil || string(got) != tt.want {
				t.Fatalf("content %q, %v, want %q", got, err, tt.want)
			}
			fi, _ := os.Stat(path)
			if fi.Mode().Perm() != tt.wantMode {
				t.Fatalf("mode %04o, want %04o", fi.Mode().Perm(), tt.wantMode)
			}
			if n := names(t, dir); !slices.Equal(n, []string{"f"}) {
				t.Fatalf("directory holds %v (temporary files left?)", n)
			}
		})
	}
	if err := Remove(path); err != nil {
		t.Fatal(err)
	}
	if err := Remove(path); err != nil {
		t.Fatalf("Remove of a missing file: %v", err)
	}
	if err := Replace(filepath.Join(dir, "missing", "f"), nil); err == nil {
		t.Fatal("Replace into a missing directory succeeded")
	}
}

// TestModeIgnoresUmask: the mode asked for is the mode the file gets.
func TestModeIgnoresUmask(t *testing.T) {
	path := filepath.Join(t.TempDir(), "f")
	if err := Create(path, []byte("x"), Mode(0o666)); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o666 {
		t.Fatalf("mode %v, %v, want 0666", fi, err)
	}
}

// TestNeverWritesThroughALink: Replace replaces a link at the target with
// a regular file, Create refuses it, and the file the link points at never
// changes.
func TestNeverWritesThroughALink(t *testing.T) {
	victim := filepath.Join(t.TempDir(), "victim")
	want := []byte("precious\n")
	if err := os.WriteFile(victim, want, 0o644); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "f")
	if err := os.Symlink(victim, path); err != nil {
		t.Fatal(err)
	}
	if err := Create(path, []byte("new")); !errors.Is(err, ErrExists) {
		t.Fatalf("Create over a link: %v, want ErrExists", err)
	}
	if fi, err := os.Lstat(path); err != nil || fi.Mode()&fs.ModeSymlink == 0 {
		t.Fatalf("Create changed the link: %v, %v", fi, err)
	}
	if err := Replace(path, []byte("new")); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Lstat(path); err != nil || !fi.Mode().IsRegular() {
		t.Fatalf("after Replace: %v, %v; want a regular file", fi, err)
	}
	if got, err := os.ReadFile(victim); err != nil || !bytes.Equal(got, want) {
		t.Fatalf("victim now %q, %v", got, err)
	}
	if n := names(t, dir); !slices.Equal(n, []string{"f"}) {
		t.Fatalf("directory holds %v", n)
	}
}

// TestPending: content written by name (as pg_dump does) is what Commit
// puts in place; a Pending cleaned up before Commit leaves nothing, and
// one committed cannot be committed again.
func TestPending(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "b.dump")
	p, err := New(path)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Cleanup()
	if filepath.Dir(p.Name()) != dir || p.Name() == path {
		t.Fatalf("temporary file %q, want another name in %q", p.Name(), dir)
	}
	if err := os.WriteFile(p.Name(), []byte("by name"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(path); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("target exists before Commit: %v", err)
	}
	if err := p.Commit(); err != nil {
		t.Fatal(err)
	}
	if got, err := os.ReadFile(path); err != nil || string(got) != "by name" {
		t.Fatalf("content %q, %v", got, err)
	}
	if err := p.Commit(); err == nil {
		t.Fatal("a second Commit succeeded")
	}
	p.Cleanup()
	if got, err := os.ReadFile(path); err != nil || string(got) != "by name" {
		t.Fatalf("Cleanup after Commit changed the target: %q, %v", got, err)
	}

	q, err := New(filepath.Join(dir, "other"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := q.Write([]byte("never")); err != nil {
		t.Fatal(err)
	}
	q.Cleanup()
	q.Cleanup()
	if n := names(t, dir); !slices.Equal(n, []string{"b.dump"}) {
		t.Fatalf("directory holds %v after Cleanup", n)
	}
}
