package atomicfile

import (
	"errors"
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
		name    string
		op      func() error
		want    string
		wantErr error
	}{
		{"create new", func() error { return Create(dir, "f", []byte("one")) }, "one", nil},
		{"create refuses existing", func() error { return Create(dir, "f", []byte("two")) }, "one", ErrExists},
		{"replace existing", func() error { return Replace(dir, "f", []byte("three")) }, "three", nil},
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
			if fi.Mode().Perm() != 0o600 {
				t.Fatalf("mode %04o, want 0600", fi.Mode().Perm())
			}
			if n := names(t, dir); !slices.Equal(n, []string{"f"}) {
				t.Fatalf("directory holds %v (temporary files left?)", n)
			}
		})
	}
	if err := Remove(dir, "f"); err != nil {
		t.Fatal(err)
	}
	if err := Remove(dir, "f"); err != nil {
		t.Fatalf("Remove of a missing file: %v", err)
	}
	if err := Replace(filepath.Join(dir, "missing"), "f", nil); err == nil {
		t.Fatal("Replace into a missing directory succeeded")
	}
}
