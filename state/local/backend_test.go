package local

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/slipwayhq/slipway/state"
	"github.com/slipwayhq/slipway/state/statefile"
)

// open returns a backend in a fresh directory with a fixed clock.
func open(t *testing.T, env string) *Backend {
	t.Helper()
	b, err := Open(filepath.Join(t.TempDir(), ".slipway"), env)
	if err != nil {
		t.Fatal(err)
	}
	b.now = func() time.Time { return time.Date(2025, 3, 4, 5, 6, 7, 0, time.UTC) }
	return b
}

// listDir returns the names in dir, sorted.
func listDir(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	return names
}

func perm(t *testing.T, path string) fs.FileMode {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Mode().Perm()
}

func TestOpen(t *testing.T) {
	root := t.TempDir()
	tests := []struct {
		env     string
		wantDir string
		wantErr bool
	}{
		{env: "", wantDir: root},
		{env: "staging", wantDir: filepath.Join(root, "env", "staging")},
		{env: "prod-eu_1.a", wantDir: filepath.Join(root, "env", "prod-eu_1.a")},
		{env: "..", wantErr: true},
		{env: ".hidden", wantErr: true},
		{env: "a/b", wantErr: true},
		{env: "a b", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.env, func(t *testing.T) {
			b, err := Open(root, tt.env)
			if tt.wantErr {
				if !errors.Is(err, ErrInvalidEnv) {
					t.Fatalf("Open(%q) error = %v, want ErrInvalidEnv", tt.env, err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if b.Dir() != tt.wantDir {
				t.Fatalf("Dir() = %q, want %q", b.Dir(), tt.wantDir)
			}
		})
	}
	if _, err := Open("", ""); err == nil {
		t.Fatal("Open of an empty directory name succeeded")
	}
}

func TestReadMissingCreatesNothing(t *testing.T) {
	b := open(t, "staging")
	s, err := b.Read()
	if err != nil {
		t.Fatal(err)
	}
	if want := state.New("", "staging"); !reflect.DeepEqual(s, want) {
		t.Fatalf("Read of nothing = %+v, want %+v", s, want)
	}
	if _, err := os.Stat(filepath.Dir(filepath.Dir(filepath.Dir(b.Dir())))); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Dir(filepath.Dir(b.Dir()))); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("Open or Read created the state directory: %v", err)
	}
}

func TestWriteReadRoundTrip(t *testing.T) {
	b := open(t, "")
	s, err := b.Read()
	if err != nil {
		t.Fatal(err)
	}
	s.Project = "thebot"
	s.Release = 1
	s.Services["web"] = &state.Service{Name: "web", Image: "web:1"}
	if err := b.Write(s); err != nil {
		t.Fatal(err)
	}
	if s.Serial != 1 || s.Lineage == "" || !s.UpdatedAt.Equal(b.now()) {
		t.Fatalf("Write did not update serial, lineage and time: %+v", s)
	}
	lineage := s.Lineage
	got, err := b.Read()
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, s) {
		t.Fatalf("Read after Write:\n got %+v\nwant %+v", got, s)
	}
	if err := b.Write(got); err != nil {
		t.Fatal(err)
	}
	if got.Serial != 2 || got.Lineage != lineage {
		t.Fatalf("second write: serial %d lineage %q, want 2 %q", got.Serial, got.Lineage, lineage)
	}
	if p := perm(t, b.StatePath()); p != 0o600 {
		t.Fatalf("state file mode %04o, want 0600", p)
	}
	if p := perm(t, b.Dir()); p != 0o700 {
		t.Fatalf("state directory mode %04o, want 0700", p)
	}
	if names := listDir(t, b.Dir()); !reflect.DeepEqual(names, []string{WriteLockFile, StateFile}) {
		t.Fatalf("state directory holds %v, want only %s and %s (no temporary files)", names, WriteLockFile, StateFile)
	}
}

func TestWriteEnvDirsAre0700(t *testing.T) {
	b := open(t, "staging")
	if err := b.Write(state.New("p", "staging")); err != nil {
		t.Fatal(err)
	}
	root := filepath.Dir(filepath.Dir(b.Dir()))
	for _, dir := range []string{root, filepath.Join(root, "env"), b.Dir()} {
		if p := perm(t, dir); p != 0o700 {
			t.Errorf("%s mode %04o, want 0700", dir, p)
		}
	}
}

func TestWriteSerialMismatch(t *testing.T) {
	b := open(t, "")
	first, _ := b.Read()
	stale, _ := b.Read()
	if err := b.Write(first); err != nil {
		t.Fatal(err)
	}
	before, _ := os.ReadFile(b.StatePath())
	stale.Release = 9
	err := b.Write(stale)
	var mm *SerialMismatchError
	if !errors.As(err, &mm) || !errors.Is(err, ErrSerialMismatch) {
		t.Fatalf("Write of a stale state: error %v, want *SerialMismatchError", err)
	}
	if mm.Have != 0 || mm.OnDisk != 1 {
		t.Fatalf("serials have %d on disk %d, want 0 and 1", mm.Have, mm.OnDisk)
	}
	if stale.Serial != 0 || stale.Lineage != "" {
		t.Fatalf("a failed Write changed its argument: %+v", stale)
	}
	after, _ := os.ReadFile(b.StatePath())
	if string(before) != string(after) {
		t.Fatal("a refused Write changed the state file")
	}
}

func TestConcurrentWritersOnlyOneWins(t *testing.T) {
	b := open(t, "")
	const writers = 8
	errs := make(chan error, writers)
	var start sync.WaitGroup
	start.Add(1)
	for i := range writers {
		go func() {
			s := state.New("p", "")
			s.Release = i
			start.Wait()
			errs <- b.Write(s)
		}()
	}
	start.Done()
	won := 0
	for range writers {
		err := <-errs
		switch {
		case err == nil:
			won++
		case !errors.Is(err, ErrSerialMismatch):
			t.Errorf("unexpected error: %v", err)
		}
	}
	if won != 1 {
		t.Fatalf("%d writers from serial 0 succeeded, want exactly 1", won)
	}
	if s, _ := b.Read(); s.Serial != 1 {
		t.Fatalf("serial %d after one successful write, want 1", s.Serial)
	}
}

func TestWriteLineageMismatch(t *testing.T) {
	b := open(t, "")
	s, _ := b.Read()
	if err := b.Write(s); err != nil {
		t.Fatal(err)
	}
	other := s.DeepCopy()
	other.Lineage = "00000000-0000-4000-8000-000000000000"
	if err := b.Write(other); !errors.Is(err, ErrLineageMismatch) {
		t.Fatalf("Write of another lineage: error %v, want ErrLineageMismatch", err)
	}
}

func TestCorruptStateIsNeverRewritten(t *testing.T) {
	tests := []struct {
		name    string
		content string
		check   func(error) bool
	}{
		{"truncated json", `{"format_version": 1, "lineage": "x", "ser`, func(err error) bool { return errors.Is(err, statefile.ErrCorrupt) }},
		{"newer version", `{"format_version": 7}`, func(err error) bool {
			var uv *statefile.UnsupportedVersionError
			return errors.As(err, &uv)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := open(t, "")
			if err := os.MkdirAll(b.Dir(), 0o700); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(b.StatePath(), []byte(tt.content), 0o600); err != nil {
				t.Fatal(err)
			}
			_, err := b.Read()
			if err == nil || !tt.check(err) || !strings.Contains(err.Error(), b.StatePath()) {
				t.Fatalf("Read error = %v, want one of the right kind naming %s", err, b.StatePath())
			}
			if err := b.Write(state.New("p", "")); err == nil || !tt.check(err) {
				t.Fatalf("Write over a bad file: error %v", err)
			}
			got, _ := os.ReadFile(b.StatePath())
			if string(got) != tt.content {
				t.Fatalf("the bad file changed:\n%s", got)
			}
			if names := listDir(t, b.Dir()); !reflect.DeepEqual(names, []string{WriteLockFile, StateFile}) {
				t.Fatalf("directory holds %v", names)
			}
		})
	}
}

func TestWriteRefusesRawSecret(t *testing.T) {
	b := open(t, "")
	s, _ := b.Read()
	s.Secrets["var.secret_key"] = "the-secret-itself"
	if err := b.Write(s); err == nil {
		t.Fatal("Write stored a secret that is not an HMAC")
	}
	if _, err := os.Stat(b.StatePath()); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("a refused Write left a state file: %v", err)
	}
}
