package local

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"time"

	"github.com/google/uuid"
	"github.com/slipwayhq/slipway/internal/atomicfile"
	"github.com/slipwayhq/slipway/state"
	"github.com/slipwayhq/slipway/state/statefile"
	"golang.org/x/sys/unix"
)

// Names of the files in a namespace directory.
const (
	StateFile       = "state.json"
	LockFile        = ".lock"
	WriteLockFile   = ".write.lock"
	SnapshotsDir    = "snapshots"
	JournalFile     = "journal.json"
	JournalPlanFile = "journal-plan.json"
	SecretKeyFile   = "secret.key"
	RecordsDirName  = "records"
)

// Sentinel errors; the typed errors below match them with errors.Is.
var (
	// ErrInvalidEnv reports an environment name that cannot name a directory.
	ErrInvalidEnv = errors.New("invalid environment name")
	// ErrSerialMismatch reports a write from a state that is no longer the
	// one on disk (see *SerialMismatchError).
	ErrSerialMismatch = errors.New("state serial mismatch")
	// ErrLineageMismatch reports a write of a state from another lineage.
	ErrLineageMismatch = errors.New("state lineage mismatch")
	// ErrForeignState reports a state file of another project or
	// environment (see *ForeignStateError).
	ErrForeignState = errors.New("state of another project or environment")
)

// envName is what an environment name may look like: it names a directory.
var envName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$`)

// SerialMismatchError reports that the state on disk changed since the
// caller read it: another slipway wrote it in between.
type SerialMismatchError struct {
	Path   string
	Have   uint64 // the serial of the state being written
	OnDisk uint64 // the serial of the state on disk
}

// Error describes both serials and the likely cause.
func (e *SerialMismatchError) Error() string {
	return fmt.Sprintf("state serial mismatch: writing from serial %d but %s is at serial %d; another slipway changed the state since it was read",
		e.Have, e.Path, e.OnDisk)
}

// Is matches ErrSerialMismatch.
func (e *SerialMismatchError) Is(target error) bool { return target == ErrSerialMismatch }

// ForeignStateError reports a state file that records another project or
// environment than the one reading or writing it: a state.json copied from
// another checkout, or a state path two projects share.
type ForeignStateError struct {
	Path                 string
	Project, Env         string // what the file records
	WantProject, WantEnv string // what the configuration is
}

// Error names both projects and environments and what to do.
func (e *ForeignStateError) Error() string {
	return fmt.Sprintf("state.json at %s belongs to project %q %s; this configuration is project %q %s: point project.state.path elsewhere",
		e.Path, e.Project, envPhrase(e.Env), e.WantProject, envPhrase(e.WantEnv))
}

// Is matches ErrForeignState.
func (e *ForeignStateError) Is(target error) bool { return target == ErrForeignState }

// envPhrase names an environment in a sentence.
func envPhrase(env string) string {
	if env == "" {
		return "with no -env"
	}
	return fmt.Sprintf("env %q", env)
}

// Backend stores one namespace of state: <dir>/ for the default
// environment, <dir>/env/<name>/ for -env NAME. Its methods may be called
// from several goroutines, but concurrent writers must be serialised with
// Lock.
type Backend struct {
	root string // the state directory
	dir  string // the namespace directory: root, or root/env/<env>
	env  string
	// now is the clock; tests replace it.
	now func() time.Time
}

// Open returns the backend of environment env ("" for the default) under
// the state directory dir. It creates nothing: directories are made on the
// first write or lock.
func Open(dir, env string) (*Backend, error) {
	if dir == "" {
		return nil, errors.New("open state: empty state directory")
	}
	root, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("open state %q: %w", dir, err)
	}
	abs := root
	if env != "" {
		if !envName.MatchString(env) {
			return nil, fmt.Errorf("open state: %w %q: use letters, digits, '_', '-' or '.', starting with a letter or digit", ErrInvalidEnv, env)
		}
		abs = filepath.Join(root, "env", env)
	}
	return &Backend{root: root, dir: abs, env: env, now: time.Now}, nil
}

// Dir returns the absolute namespace directory.
func (b *Backend) Dir() string { return b.dir }

// Env returns the environment name, "" for the default.
func (b *Backend) Env() string { return b.env }

// StatePath returns the path of the state file.
func (b *Backend) StatePath() string { return filepath.Join(b.dir, StateFile) }

// RecordsDir returns the directory of operation records, <dir>/records.
// state/records.Write creates it (0700) on demand.
func (b *Backend) RecordsDir() string { return filepath.Join(b.dir, RecordsDirName) }

// Read returns the stored state. With no state file it returns
// state.New("", env) with serial 0 (the caller fills in the project). A
// corrupt or unsupported file is an error naming its path; Read never
// writes.
func (b *Backend) Read() (*state.State, error) {
	s, _, err := b.read()
	if err != nil {
		return nil, err
	}
	if s == nil {
		return state.New("", b.env), nil
	}
	return s, nil
}

// ReadAs returns the stored state of project in the backend's
// environment, as Read does, but refuses with a *ForeignStateError a file
// that records another project or environment. With no state file it
// returns state.New(project, env). A file that records no project (written
// before slipway kept it) is taken as this project's: Project and Env are
// filled in, and the next Write records them.
func (b *Backend) ReadAs(project string) (*state.State, error) {
	s, _, err := b.read()
	if err != nil {
		return nil, err
	}
	if s == nil {
		return state.New(project, b.env), nil
	}
	if s.Project == "" {
		s.Project, s.Env = project, b.env
	}
	if s.Project != project || s.Env != b.env {
		return nil, &ForeignStateError{Path: b.StatePath(), Project: s.Project, Env: s.Env, WantProject: project, WantEnv: b.env}
	}
	return s, nil
}

// read returns the state on disk and its bytes, or nil, nil, nil if none.
func (b *Backend) read() (*state.State, []byte, error) {
	path := b.StatePath()
	data, err := readFile(path, "state file")
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil, nil
	}
	if err != nil {
		return nil, nil, fmt.Errorf("read state: %w", err)
	}
	s, err := statefile.Read(bytes.NewReader(data))
	if err != nil {
		return nil, nil, fmt.Errorf("read state %q: %w", path, err)
	}
	return s, data, nil
}

// Write stores s if the serial on disk equals s.Serial (0 when there is no
// state file yet), else it returns a *SerialMismatchError. It writes
// s.Serial+1, sets a new UUID lineage if s has none, stamps UpdatedAt, and
// on success updates s.Serial, s.Lineage and s.UpdatedAt to what it wrote;
// on failure s is unchanged. A state of another lineage is refused with
// ErrLineageMismatch, one of another project or environment than the file
// records with a *ForeignStateError, and an unreadable state file is never
// overwritten.
func (b *Backend) Write(s *state.State) error {
	if s == nil {
		return errors.New("write state: nil state")
	}
	if err := b.ensureDir(b.dir); err != nil {
		return fmt.Errorf("write state: %w", err)
	}
	release, err := b.writeLock()
	if err != nil {
		return fmt.Errorf("write state: %w", err)
	}
	defer release()
	onDisk, _, err := b.read()
	if err != nil {
		return fmt.Errorf("write state: %w", err)
	}
	var diskSerial uint64
	diskLineage := ""
	if onDisk != nil {
		diskSerial, diskLineage = onDisk.Serial, onDisk.Lineage
	}
	if s.Serial != diskSerial {
		return &SerialMismatchError{Path: b.StatePath(), Have: s.Serial, OnDisk: diskSerial}
	}
	if s.Lineage != "" && diskLineage != "" && s.Lineage != diskLineage {
		return fmt.Errorf("write state %q: %w: writing lineage %s over %s", b.StatePath(), ErrLineageMismatch, s.Lineage, diskLineage)
	}
	if onDisk != nil && onDisk.Project != "" && (onDisk.Project != s.Project || onDisk.Env != s.Env) {
		return fmt.Errorf("write state: %w", &ForeignStateError{Path: b.StatePath(), Project: onDisk.Project, Env: onDisk.Env, WantProject: s.Project, WantEnv: s.Env})
	}
	next := s.DeepCopy()
	next.Serial++
	switch {
	case next.Lineage != "":
	case diskLineage != "":
		next.Lineage = diskLineage
	default:
		next.Lineage = uuid.NewString()
	}
	next.UpdatedAt = b.now().UTC()
	var buf bytes.Buffer
	if err := statefile.Write(&buf, next); err != nil {
		return err
	}
	if err := atomicfile.Replace(filepath.Join(b.dir, StateFile), buf.Bytes()); err != nil {
		return fmt.Errorf("write state: %w", err)
	}
	s.Serial, s.Lineage, s.UpdatedAt = next.Serial, next.Lineage, next.UpdatedAt
	return nil
}

// writeLock serialises the compare-and-swap of Write across processes and
// goroutines: a blocking flock(2) on <dir>/.write.lock, held only for the
// read, compare and rename. It is a separate file from the state lock so
// that a process holding the state lock can still write.
func (b *Backend) writeLock() (release func(), err error) {
	f, err := openNoFollow(filepath.Join(b.dir, WriteLockFile), os.O_RDWR|os.O_CREATE, "write lock file")
	if err != nil {
		return nil, fmt.Errorf("open write lock: %w", err)
	}
	if err := flock(f, unix.LOCK_EX); err != nil {
		f.Close()
		return nil, fmt.Errorf("lock %q: %w", f.Name(), err)
	}
	return func() {
		flock(f, unix.LOCK_UN)
		f.Close()
	}, nil
}
