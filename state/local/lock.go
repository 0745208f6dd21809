package local

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/user"
	"path/filepath"
	"runtime/debug"
	"strconv"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/slipwayhq/slipway/internal/safedir"
	"golang.org/x/sys/unix"
)

// lockRetry is how often Lock retries while it waits.
const lockRetry = 100 * time.Millisecond

// Sentinel errors of the lock; *LockedError matches ErrLocked.
var (
	// ErrLocked reports a lock held by another process or open file.
	ErrLocked = errors.New("state is locked")
	// ErrNotLocked reports a ForceUnlock with no lock info to clear.
	ErrNotLocked = errors.New("state is not locked")
	// ErrLockIDMismatch reports a ForceUnlock whose id is not the recorded one.
	ErrLockIDMismatch = errors.New("lock id does not match")
	// ErrLockInfoUnreadable reports a ForceUnlock given an id while the
	// lock info does not parse or records no id: no id can match it, and
	// only ForceUnlockUnreadable clears it.
	ErrLockInfoUnreadable = errors.New("lock info does not parse")
)

// LockInfo describes the holder of the state lock. It is written into the
// lock file once the lock is acquired and cleared on unlock.
type LockInfo struct {
	ID        string    `json:"id"`        // a UUID naming this hold
	Operation string    `json:"operation"` // apply, rollback, plan, ...
	Who       string    `json:"who"`       // user@host
	PID       int       `json:"pid"`
	Created   time.Time `json:"created"`
	Version   string    `json:"version,omitempty"` // slipway's version
}

// NewLockInfo returns the LockInfo of this process for operation: a new
// UUID, user@host, the pid, the current time and the module version (the
// CLI may replace Version with its own).
func NewLockInfo(operation string) LockInfo {
	info := LockInfo{
		ID:        uuid.NewString(),
		Operation: operation,
		Who:       whoAmI(),
		PID:       os.Getpid(),
		Created:   time.Now().UTC().Truncate(time.Second),
	}
	if bi, ok := debug.ReadBuildInfo(); ok {
		info.Version = bi.Main.Version
	}
	return info
}

// whoAmI returns user@host, falling back to $USER or the uid.
func whoAmI() string {
	name := os.Getenv("USER")
	if u, err := user.Current(); err == nil && u.Username != "" {
		name = u.Username
	}
	if name == "" {
		name = "uid" + strconv.Itoa(os.Getuid())
	}
	host, err := os.Hostname()
	if err != nil || host == "" {
		host = "unknown-host"
	}
	return name + "@" + host
}

// LockedError reports that the state lock is held by someone else.
type LockedError struct {
	Info LockInfo // the holder's info; zero if it could not be read
	Path string   // the lock file
}

// Error names the holder and the lock id.
func (e *LockedError) Error() string {
	if e.Info.ID == "" {
		return fmt.Sprintf("state is locked by another process (no lock info in %s)", e.Path)
	}
	return fmt.Sprintf("state is locked by %s (pid %d, %s, since %s), lock id %s",
		e.Info.Who, e.Info.PID, e.Info.Operation, e.Info.Created.Format(time.RFC3339), e.Info.ID)
}

// Is matches ErrLocked.
func (e *LockedError) Is(target error) bool { return target == ErrLocked }

// LockPath returns the path of the lock file.
func (b *Backend) LockPath() string { return filepath.Join(b.dir, LockFile) }

// Lock takes the exclusive state lock: flock(2) on <dir>/.lock, which then
// holds info as JSON. The state directories are checked first (see
// ensureDir), and the lock file is opened without following a symbolic
// link and refused unless it is a regular file of the running user's with
// one name, since it is rewritten in place. If another process (or another open of the file in
// this process) holds it, Lock returns a *LockedError with the holder's
// info at once when timeout <= 0, or retries every 100ms until timeout
// passes or ctx is done. The kernel releases the lock when its holder dies,
// so a killed apply never leaves it behind. The returned unlock clears the
// info and releases the lock; calling it again does nothing.
func (b *Backend) Lock(ctx context.Context, info LockInfo, timeout time.Duration) (unlock func() error, err error) {
	// The directories, and those a locked operation writes into later,
	// are checked now, before anything changes; their errors name them.
	if err := b.ensureDir(b.dir); err != nil {
		return nil, err
	}
	for _, sub := range []string{SnapshotsDir, RecordsDirName} {
		if err := safedir.Check(filepath.Join(b.dir, sub), "state directory"); err != nil {
			return nil, err
		}
	}
	if err := checkExisting(filepath.Join(b.dir, WriteLockFile), "write lock file"); err != nil {
		return nil, err
	}
	var deadline <-chan time.Time
	if timeout > 0 {
		t := time.NewTimer(timeout)
		defer t.Stop()
		deadline = t.C
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("lock state: %w", err)
	}
	for {
		unlock, err := b.tryLock(info)
		var locked *LockedError
		if !errors.As(err, &locked) {
			return unlock, err
		}
		if timeout <= 0 {
			return nil, err
		}
		if ctx.Err() != nil {
			return nil, fmt.Errorf("wait for state lock: %w: %w", ctx.Err(), err)
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("wait for state lock: %w: %w", ctx.Err(), err)
		case <-deadline:
			return nil, fmt.Errorf("state lock not acquired within %s: %w", timeout, err)
		case <-time.After(lockRetry):
		}
	}
}

// tryLock makes one attempt at the lock.
func (b *Backend) tryLock(info LockInfo) (func() error, error) {
	f, err := openNoFollow(b.LockPath(), os.O_RDWR|os.O_CREATE, "lock file")
	if errors.Is(err, ErrUnsafeFile) {
		return nil, err // it names the file
	}
	if err != nil {
		return nil, fmt.Errorf("open lock file: %w", err)
	}
	if err := flock(f, unix.LOCK_EX|unix.LOCK_NB); err != nil {
		defer f.Close()
		if errors.Is(err, unix.EWOULDBLOCK) {
			return nil, &LockedError{Info: readHolder(f), Path: f.Name()}
		}
		return nil, fmt.Errorf("lock %q: %w", f.Name(), err)
	}
	data, err := json.Marshal(info)
	if err == nil {
		err = writeInfo(f, append(data, '\n'))
	}
	if err != nil {
		flock(f, unix.LOCK_UN)
		f.Close()
		return nil, fmt.Errorf("write lock info %q: %w", f.Name(), err)
	}
	var once sync.Once
	var unlockErr error
	return func() error {
		once.Do(func() {
			err := writeInfo(f, nil)
			unlockErr = errors.Join(err, flock(f, unix.LOCK_UN), f.Close())
			if unlockErr != nil {
				unlockErr = fmt.Errorf("unlock state: %w", unlockErr)
			}
		})
		return unlockErr
	}, nil
}

// flock calls flock(2), retrying on EINTR.
func flock(f *os.File, how int) error {
	for {
		err := unix.Flock(int(f.Fd()), how)
		if err != unix.EINTR {
			return err
		}
	}
}

// writeInfo replaces the content of the lock file with data and fsyncs it.
// The file is rewritten in place: replacing it would replace the inode the
// lock is on.
func writeInfo(f *os.File, data []byte) error {
	if err := f.Chmod(0o600); err != nil {
		return err
	}
	if err := f.Truncate(0); err != nil {
		return err
	}
	if _, err := f.WriteAt(data, 0); err != nil {
		return err
	}
	return f.Sync()
}

// readHolder reads the holder's info, retrying briefly in case the holder
// is between truncating and writing it. It returns the zero LockInfo if
// there is none.
func readHolder(f *os.File) LockInfo {
	for range 5 {
		data, err := io.ReadAll(io.NewSectionReader(f, 0, 1<<20))
		var info LockInfo
		if err == nil && len(bytes.TrimSpace(data)) > 0 && json.Unmarshal(data, &info) == nil {
			return info
		}
		time.Sleep(10 * time.Millisecond)
	}
	return LockInfo{}
}

// ForceUnlock clears the lock info left by a holder that is gone, if its id
// is id. It cannot break a lock that is still held (flock(2) belongs to the
// holder's open file): then it returns an error wrapping the *LockedError,
// and the holder must be stopped instead. With no info recorded it returns
// ErrNotLocked; with another id, ErrLockIDMismatch; with info that does not
// parse or records no id, ErrLockInfoUnreadable (whatever id is given).
func (b *Backend) ForceUnlock(id string) error { return b.forceUnlock(id, false) }

// ForceUnlockUnreadable is ForceUnlock for lock info that does not parse or
// records no id: it clears only such info. Info that records an id is left
// as it is, with an error wrapping ErrLockIDMismatch that names the id.
func (b *Backend) ForceUnlockUnreadable() error { return b.forceUnlock("", true) }

// forceUnlock clears the lock info when it records id, or when unreadable
// and it records none.
func (b *Backend) forceUnlock(id string, unreadable bool) error {
	if err := b.checkDir(b.dir); err != nil {
		return fmt.Errorf("force-unlock: %w", err)
	}
	f, err := openNoFollow(b.LockPath(), os.O_RDWR, "lock file")
	if errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("force-unlock: %w", ErrNotLocked)
	}
	if err != nil {
		return fmt.Errorf("force-unlock: open lock file: %w", err)
	}
	defer f.Close()
	if err := flock(f, unix.LOCK_EX|unix.LOCK_NB); err != nil {
		if errors.Is(err, unix.EWOULDBLOCK) {
			locked := &LockedError{Info: readHolder(f), Path: f.Name()}
			return fmt.Errorf("force-unlock: the lock is still held by a running process, which must be stopped first: %w", locked)
		}
		return fmt.Errorf("force-unlock: lock %q: %w", f.Name(), err)
	}
	defer flock(f, unix.LOCK_UN)
	data, err := io.ReadAll(f)
	if err != nil {
		return fmt.Errorf("force-unlock: read lock info: %w", err)
	}
	if len(bytes.TrimSpace(data)) == 0 {
		return fmt.Errorf("force-unlock: %w", ErrNotLocked)
	}
	var info LockInfo
	readable := json.Unmarshal(data, &info) == nil && info.ID != ""
	switch {
	case !readable && !unreadable:
		return fmt.Errorf("force-unlock: %w: %s records no lock id, so %q cannot match it", ErrLockInfoUnreadable, f.Name(), id)
	case readable && unreadable:
		return fmt.Errorf("force-unlock: %w: the lock info parses and records %q", ErrLockIDMismatch, info.ID)
	case readable && info.ID != id:
		return fmt.Errorf("force-unlock: %w: %q was given but the lock file records %q", ErrLockIDMismatch, id, info.ID)
	}
	if err := writeInfo(f, nil); err != nil {
		return fmt.Errorf("force-unlock: clear lock info: %w", err)
	}
	return nil
}
