package records

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/slipwayhq/slipway/internal/safedir"
)

// linkTo plants a symbolic link at path to a new victim file and returns a
// check that the victim is byte-identical.
func linkTo(t *testing.T, path string) (intact func()) {
	t.Helper()
	victim := filepath.Join(t.TempDir(), "victim")
	want := []byte("precious, not slipway's\n")
	if err := os.WriteFile(victim, want, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(victim, path); err != nil {
		t.Fatal(err)
	}
	return func() {
		t.Helper()
		if got, err := os.ReadFile(victim); err != nil || !bytes.Equal(got, want) {
			t.Fatalf("victim now %q, %v; want %q", got, err, want)
		}
	}
}

// TestRecordFilesNeverWrittenThroughLinks: links at a record's own names
// are replaced or passed over, never written through.
func TestRecordFilesNeverWrittenThroughLinks(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "records")
	jsonIntact := linkTo(t, filepath.Join(dir, "20250304T050607Z-r43-apply.json"))
	mdIntact := linkTo(t, filepath.Join(dir, "20250304T050607Z-r43-apply.md"))
	r := rolledBack()
	jsonPath, mdPath, err := Write(dir, r)
	if err != nil {
		t.Fatal(err)
	}
	// Rewritten as the operation goes on.
	if _, _, err := Write(dir, r); err != nil {
		t.Fatal(err)
	}
	jsonIntact()
	mdIntact()
	for _, p := range []string{jsonPath, mdPath} {
		if fi, err := os.Lstat(p); err != nil || !fi.Mode().IsRegular() {
			t.Fatalf("%s: %v, %v; want a regular file", p, fi, err)
		}
	}
	if got, err := Load(jsonPath); err != nil || got.ID != r.ID {
		t.Fatalf("Load = %v, %v", got, err)
	}
}

func TestArchiveNeverWrittenThroughLinks(t *testing.T) {
	dir := ArchiveDir(filepath.Join(t.TempDir(), "records"), "rec-1")
	intact := linkTo(t, filepath.Join(dir, "route-web.conf"))
	p, err := WriteArchive(dir, "route-web.conf", []byte("new"))
	if err != nil {
		t.Fatal(err)
	}
	intact()
	if fi, err := os.Lstat(p); err != nil || !fi.Mode().IsRegular() {
		t.Fatalf("%s: %v, %v; want a regular file", p, fi, err)
	}
}

// TestLinkedDirectoriesRefused: a records or archive directory that is a
// link gets nothing written into the directory it points to.
func TestLinkedDirectoriesRefused(t *testing.T) {
	base := t.TempDir()
	elsewhere := t.TempDir()
	records := filepath.Join(base, "records")
	if err := os.Symlink(elsewhere, records); err != nil {
		t.Fatal(err)
	}
	if _, _, err := Write(records, rolledBack()); !errors.Is(err, safedir.ErrUnsafe) {
		t.Fatalf("Write into a linked records directory: %v", err)
	}
	archive := filepath.Join(base, "rec-1-archive")
	if err := os.Symlink(elsewhere, archive); err != nil {
		t.Fatal(err)
	}
	if _, err := WriteArchive(archive, "route-web.conf", []byte("new")); !errors.Is(err, safedir.ErrUnsafe) {
		t.Fatalf("WriteArchive into a linked directory: %v", err)
	}
	if entries, _ := os.ReadDir(elsewhere); len(entries) != 0 {
		t.Fatalf("the link's target now holds %v", entries)
	}
}
