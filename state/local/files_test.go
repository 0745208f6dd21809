package local

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/slipwayhq/slipway/internal/safedir"
	"github.com/slipwayhq/slipway/state"
)

// victim is a file outside the state directory that a planted link points
// at; intact reports whether it is still exactly as made.
type victim struct {
	path string
	data []byte
	mode os.FileMode
}

func newVictim(t *testing.T) *victim {
	t.Helper()
	v := &victim{path: filepath.Join(t.TempDir(), "victim"), data: []byte("precious, not slipway's\n"), mode: 0o644}
	if err := os.WriteFile(v.path, v.data, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(v.path, v.mode); err != nil {
		t.Fatal(err)
	}
	return v
}

func (v *victim) intact(t *testing.T) {
	t.Helper()
	data, err := os.ReadFile(v.path)
	if err != nil {
		t.Fatalf("victim: %v", err)
	}
	if !bytes.Equal(data, v.data) {
		t.Fatalf("victim changed: %q, want %q", data, v.data)
	}
	if p := perm(t, v.path); p != v.mode {
		t.Fatalf("victim mode changed to %04o, want %04o", p, v.mode)
	}
}

// plant makes path a symbolic link to target, creating its directory.
func plant(t *testing.T, path, target string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(target, path); err != nil {
		t.Fatal(err)
	}
}

func isLink(t *testing.T, path string) bool {
	t.Helper()
	fi, err := os.Lstat(path)
	return err == nil && fi.Mode()&os.ModeSymlink != 0
}

// TestNoWriteThroughLinks plants a link to a victim at each file the
// backend writes and runs what writes there: each is refused, or replaces
// the link with a file of its own; the victim never changes.
func TestNoWriteThroughLinks(t *testing.T) {
	st := state.New("shop", "")
	st.Release = 1
	tests := []struct {
		name string
		file string // relative to the namespace directory
		run  func(b *Backend) error
		// replaced: the operation succeeds and a regular file took the
		// link's place; otherwise it must fail matching ErrUnsafeFile.
		replaced bool
	}{
		{name: "lock", file: LockFile, run: func(b *Backend) error {
			unlock, err := b.Lock(context.Background(), NewLockInfo("plan"), 0)
			if err == nil {
				unlock()
			}
			return err
		}},
		{name: "force-unlock", file: LockFile, run: func(b *Backend) error { return b.ForceUnlock("x") }},
		{name: "write lock", file: WriteLockFile, run: func(b *Backend) error { return b.Write(state.New("shop", "")) }},
		{name: "write lock, at lock time", file: WriteLockFile, run: func(b *Backend) error {
			unlock, err := b.Lock(context.Background(), NewLockInfo("apply"), 0)
			if err == nil {
				unlock()
			}
			return err
		}},
		{name: "state read", file: StateFile, run: func(b *Backend) error { _, err := b.Read(); return err }},
		{name: "state write", file: StateFile, run: func(b *Backend) error { return b.Write(state.New("shop", "")) }},
		{name: "secret key", file: SecretKeyFile, run: func(b *Backend) error { _, err := b.SecretKey(); return err }},
		{name: "journal read", file: JournalFile, run: func(b *Backend) error { _, err := b.ReadJournal(); return err }},
		{name: "journal write", file: JournalFile, replaced: true, run: func(b *Backend) error {
			return b.WriteJournal(&state.Journal{OperationID: "op", Operation: "apply", Release: 1})
		}},
		{name: "journal plan", file: JournalPlanFile, replaced: true, run: func(b *Backend) error {
			_, err := b.SaveJournalPlan([]byte("{}"))
			return err
		}},
		{name: "snapshot write", file: "snapshots/1.json", run: func(b *Backend) error { _, err := b.WriteSnapshot(st); return err }},
		{name: "snapshot read", file: "snapshots/1.json", run: func(b *Backend) error { _, err := b.Snapshot(1); return err }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := open(t, "")
			v := newVictim(t)
			path := filepath.Join(b.Dir(), tt.file)
			plant(t, path, v.path)
			err := tt.run(b)
			v.intact(t)
			if tt.replaced {
				if err != nil || isLink(t, path) {
					t.Fatalf("error %v, link still there: %v; want the link replaced", err, isLink(t, path))
				}
				return
			}
			if !errors.Is(err, ErrUnsafeFile) {
				t.Fatalf("error = %v, want ErrUnsafeFile", err)
			}
			if !strings.Contains(err.Error(), path+" is a symbolic link") {
				t.Fatalf("error %q does not name the link", err)
			}
			if !isLink(t, path) {
				t.Fatal("the link was removed")
			}
		})
	}
}

// TestLockRefusesHardLink: the lock file is rewritten in place, so a
// second name for it would have that file emptied.
func TestLockRefusesHardLink(t *testing.T) {
	b := open(t, "")
	v := newVictim(t)
	if err := os.MkdirAll(b.Dir(), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.Link(v.path, b.LockPath()); err != nil {
		t.Fatal(err)
	}
	_, err := b.Lock(context.Background(), NewLockInfo("plan"), 0)
	if !errors.Is(err, ErrUnsafeFile) || !strings.Contains(err.Error(), "has 2 hard links") {
		t.Fatalf("Lock: %v, want a hard link refused", err)
	}
	if err := b.ForceUnlock("x"); !errors.Is(err, ErrUnsafeFile) {
		t.Fatalf("ForceUnlock: %v, want a hard link refused", err)
	}
	v.intact(t)
}

// TestUnsafeStateDirectory: a state directory that is a link or that
// others could write is refused before anything is created or written.
func TestUnsafeStateDirectory(t *testing.T) {
	lock := func(b *Backend) error {
		unlock, err := b.Lock(context.Background(), NewLockInfo("plan"), 0)
		if err == nil {
			unlock()
		}
		return err
	}
	write := func(b *Backend) error { return b.Write(state.New("shop", b.Env())) }
	tests := []struct {
		name  string
		env   string
		setup func(t *testing.T, root, elsewhere string) // elsewhere: an empty directory
		want  string                                     // in the error; ROOT is replaced
	}{
		{"state directory is a link", "", func(t *testing.T, root, elsewhere string) { plant(t, root, elsewhere) },
			"state directory ROOT is a symbolic link to "},
		{"env directory is a link", "prod", func(t *testing.T, root, elsewhere string) { plant(t, filepath.Join(root, "env", "prod"), elsewhere) },
			"state directory ROOT/env/prod is a symbolic link to "},
		{"snapshots is a link", "", func(t *testing.T, root, elsewhere string) { plant(t, filepath.Join(root, SnapshotsDir), elsewhere) },
			"state directory ROOT/snapshots is a symbolic link to "},
		{"records is a link", "", func(t *testing.T, root, elsewhere string) { plant(t, filepath.Join(root, RecordsDirName), elsewhere) },
			"state directory ROOT/records is a symbolic link to "},
		{"writable by group", "", func(t *testing.T, root, elsewhere string) {
			if err := os.Mkdir(root, 0o700); err != nil {
				t.Fatal(err)
			}
			if err := os.Chmod(root, 0o770); err != nil {
				t.Fatal(err)
			}
		}, "state directory ROOT is writable by group: run 'chmod 700 ROOT'"},
		{"parent writable by others", "", func(t *testing.T, root, elsewhere string) {
			if err := os.Chmod(filepath.Dir(root), 0o707); err != nil {
				t.Fatal(err)
			}
		}, "state directory ROOT: its parent " + "PARENT is writable by others: run 'chmod o-w PARENT'"},
	}
	for _, tt := range tests {
		for name, op := range map[string]func(*Backend) error{"lock": lock, "write": write} {
			if strings.Contains(tt.name, "snapshots") || strings.Contains(tt.name, "records") {
				if name == "write" {
					continue // only Lock looks at them before they are used
				}
			}
			t.Run(tt.name+"/"+name, func(t *testing.T) {
				b := open(t, tt.env)
				root := filepath.Dir(b.LockPath())
				if tt.env != "" {
					root = filepath.Dir(filepath.Dir(root))
				}
				elsewhere := t.TempDir()
				tt.setup(t, root, elsewhere)
				err := op(b)
				want := strings.ReplaceAll(strings.ReplaceAll(tt.want, "ROOT", root), "PARENT", filepath.Dir(root))
				if !errors.Is(err, safedir.ErrUnsafe) || !strings.Contains(err.Error(), want) {
					t.Fatalf("error = %v\nwant one containing %q", err, want)
				}
				if names := listDir(t, elsewhere); len(names) != 0 {
					t.Fatalf("the link's target now holds %v", names)
				}
			})
		}
	}
}

func TestReadAs(t *testing.T) {
	write := func(t *testing.T, b *Backend, s *state.State) {
		t.Helper()
		if err := b.Write(s); err != nil {
			t.Fatal(err)
		}
	}
	t.Run("no state", func(t *testing.T) {
		b := open(t, "prod")
		s, err := b.ReadAs("shop")
		if err != nil || s.Project != "shop" || s.Env != "prod" || s.Serial != 0 {
			t.Fatalf("ReadAs = %+v, %v", s, err)
		}
	})
	t.Run("own state", func(t *testing.T) {
		b := open(t, "prod")
		write(t, b, state.New("shop", "prod"))
		if s, err := b.ReadAs("shop"); err != nil || s.Serial != 1 {
			t.Fatalf("ReadAs = %+v, %v", s, err)
		}
	})
	t.Run("another project", func(t *testing.T) {
		b := open(t, "")
		write(t, b, state.New("a", ""))
		_, err := b.ReadAs("b")
		want := `state.json at ` + b.StatePath() + ` belongs to project "a" with no -env; this configuration is project "b" with no -env: point project.state.path elsewhere`
		if !errors.Is(err, ErrForeignState) || err.Error() != want {
			t.Fatalf("error =\n  %v\nwant\n  %s", err, want)
		}
		// Nor can a write of the other project's state replace it.
		other := state.New("b", "")
		other.Serial = 1
		if err := b.Write(other); !errors.Is(err, ErrForeignState) {
			t.Fatalf("Write of another project's state: %v", err)
		}
	})
	t.Run("another env", func(t *testing.T) {
		b := open(t, "")
		// A file copied from env/prod into the default environment.
		write(t, b, state.New("shop", "prod"))
		_, err := b.ReadAs("shop")
		want := `belongs to project "shop" env "prod"; this configuration is project "shop" with no -env`
		if !errors.Is(err, ErrForeignState) || !strings.Contains(err.Error(), want) {
			t.Fatalf("error = %v, want one containing %q", err, want)
		}
	})
	t.Run("older file without a project", func(t *testing.T) {
		b := open(t, "staging")
		write(t, b, state.New("", ""))
		s, err := b.ReadAs("shop")
		if err != nil || s.Project != "shop" || s.Env != "staging" {
			t.Fatalf("ReadAs = %+v, %v; want project and env filled in", s, err)
		}
		write(t, b, s)
		again, err := b.Read()
		if err != nil || again.Project != "shop" || again.Env != "staging" {
			t.Fatalf("after the first write: %+v, %v; want project and env recorded", again, err)
		}
	})
}
