package nginx

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/slipwayhq/slipway/internal/safedir"
)

// TestRouteFileLinkIsNeverFollowed: a link at a route file's name is
// refused by Observe, Apply and Remove, with the victim intact and the link
// left for its owner to look at; another project's link is passed over.
func TestRouteFileLinkIsNeverFollowed(t *testing.T) {
	n, fake, spec := newFake(t)
	ctx := context.Background()
	victim := filepath.Join(t.TempDir(), "victim")
	want := []byte("# precious, not slipway's\n")
	if err := os.WriteFile(victim, want, 0o644); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(fake.dir, fake.file)
	if err := os.Symlink(victim, path); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(victim, filepath.Join(fake.dir, FileName("other", "", "web"))); err != nil {
		t.Fatal(err)
	}
	_, obsErr := n.Observe(ctx, spec.Project, spec.Env)
	_, applyErr := n.Apply(ctx, spec)
	removeErr := n.Remove(ctx, spec.Project, spec.Env, spec.Service)
	for name, err := range map[string]error{"Observe": obsErr, "Apply": applyErr, "Remove": removeErr} {
		if !errors.Is(err, ErrNotManaged) || !strings.Contains(err.Error(), "is a symbolic link") {
			t.Errorf("%s: %v, want the link refused", name, err)
		}
	}
	if got, err := os.ReadFile(victim); err != nil || !bytes.Equal(got, want) {
		t.Fatalf("victim now %q, %v", got, err)
	}
	if fi, err := os.Lstat(path); err != nil || fi.Mode()&os.ModeSymlink == 0 {
		t.Fatalf("the link is gone: %v, %v", fi, err)
	}
	if fake.count() != 0 {
		t.Fatal("nginx was reloaded")
	}
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	if files, err := n.Observe(ctx, spec.Project, spec.Env); err != nil || len(files) != 0 {
		t.Fatalf("Observe with only another project's link: %v, %v", files, err)
	}
}

// TestConfigDirOthersCanWrite: a config_dir that group or others can write
// is refused before any file is written there.
func TestConfigDirOthersCanWrite(t *testing.T) {
	n, fake, spec := newFake(t)
	ctx := context.Background()
	if err := os.Chmod(fake.dir, 0o777); err != nil {
		t.Fatal(err)
	}
	want := "nginx config_dir " + fake.dir + " is writable by group and others: run 'chmod go-w " + fake.dir + "'"
	_, obsErr := n.Observe(ctx, spec.Project, spec.Env)
	_, applyErr := n.Apply(ctx, spec)
	removeErr := n.Remove(ctx, spec.Project, spec.Env, spec.Service)
	for name, err := range map[string]error{"Observe": obsErr, "Apply": applyErr, "Remove": removeErr} {
		if !errors.Is(err, safedir.ErrUnsafe) || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v, want %q", name, err, want)
		}
	}
	if entries, _ := os.ReadDir(fake.dir); len(entries) != 0 {
		t.Fatalf("config_dir holds %v", entries)
	}
	if err := os.Chmod(fake.dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if _, err := n.Apply(ctx, spec); err != nil {
		t.Fatalf("Apply once the mode is right: %v", err)
	}
}
