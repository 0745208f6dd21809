package local

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/slipwayhq/slipway/internal/safedir"
)

// ErrUnsafeFile is wrapped when a file in the state directory is not a
// regular file of the running user's with one name: a symbolic link, a
// hard link to another file, a device, or a file of another user. slipway
// neither reads nor writes through it.
var ErrUnsafeFile = errors.New("unsafe file in the state directory")

// ensureDir creates, with mode 0700, the state directory and each
// directory from it down to dir that is missing, and checks every one of
// them as safedir.Make does: a real directory of the running user's that
// neither group nor others can write, whose parents others cannot replace.
// Nothing is created in a directory that fails the check.
func (b *Backend) ensureDir(dir string) error { return b.eachDir(dir, safedir.Make) }

// checkDir checks what ensureDir(dir) would, creating nothing.
func (b *Backend) checkDir(dir string) error { return b.eachDir(dir, safedir.Check) }

// eachDir calls fn on the state directory and on each directory from it
// down to dir, in that order, stopping at the first error.
func (b *Backend) eachDir(dir string, fn func(dir, what string) error) error {
	rel, err := filepath.Rel(b.root, dir)
	if err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
		return fmt.Errorf("state directory: %q is not inside %q", dir, b.root)
	}
	p := b.root
	if err := fn(p, "state directory"); err != nil {
		return err
	}
	if rel == "." {
		return nil
	}
	for _, name := range strings.Split(rel, string(filepath.Separator)) {
		p = filepath.Join(p, name)
		if err := fn(p, "state directory"); err != nil {
			return err
		}
	}
	return nil
}

// UnsafeFileError reports a file in the state directory that slipway
// refuses to read or write, with what fixes it. It matches ErrUnsafeFile.
type UnsafeFileError struct {
	What    string // e.g. "lock file"
	Path    string
	Problem string // e.g. "is a symbolic link"
	Fix     string // e.g. "remove it"
}

// Error reads "lock file /x/.slipway/.lock is a symbolic link, ...: fix".
func (e *UnsafeFileError) Error() string {
	return fmt.Sprintf("%s %s %s: %s", e.What, e.Path, e.Problem, e.Fix)
}

// Is matches ErrUnsafeFile.
func (e *UnsafeFileError) Is(target error) bool { return target == ErrUnsafeFile }

// checkFile refuses a file slipway reads that is not a regular file, and
// one it rewrites in place (rewrite) that is not also owned by the running
// user with a single link.
func checkFile(f *os.File, what string, rewrite bool) error {
	fi, err := f.Stat()
	if err != nil {
		return fmt.Errorf("%s %s: %w", what, f.Name(), err)
	}
	uid, nlink := -1, uint64(0)
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		uid, nlink = int(st.Uid), uint64(st.Nlink)
	}
	unsafe := func(problem, fix string) error {
		return &UnsafeFileError{What: what, Path: f.Name(), Problem: problem, Fix: fix}
	}
	switch {
	case !fi.Mode().IsRegular():
		return unsafe("is not a regular file", "move it away")
	case !rewrite:
	case uid != os.Geteuid():
		return unsafe(fmt.Sprintf("is owned by uid %d, not by uid %d running slipway", uid, os.Geteuid()),
			fmt.Sprintf("run 'chown %d %s'", os.Geteuid(), f.Name()))
	case nlink != 1:
		return unsafe(fmt.Sprintf("has %d hard links, and rewriting it would change the other names too", nlink),
			"remove it while no slipway runs (the next one makes a new one)")
	}
	return nil
}

// openNoFollow opens path with flag|O_NOFOLLOW and checks it with
// checkFile (as a file rewritten in place when flag opens it for writing);
// a symbolic link at path is refused, never followed.
func openNoFollow(path string, flag int, what string) (*os.File, error) {
	f, err := os.OpenFile(path, flag|syscall.O_NOFOLLOW, 0o600)
	if errors.Is(err, syscall.ELOOP) {
		return nil, &UnsafeFileError{What: what, Path: path, Problem: "is a symbolic link, and slipway never reads or writes through one",
			Fix: "replace the link with the file it points to, or remove it"}
	}
	if err != nil {
		return nil, err
	}
	if err := checkFile(f, what, flag&(os.O_WRONLY|os.O_RDWR) != 0); err != nil {
		f.Close()
		return nil, err
	}
	return f, nil
}

// checkExisting refuses, as openNoFollow would for writing, a file at path
// that is not a regular file of ours with one name; a missing file is
// fine. Lock uses it to refuse early what a locked operation would only
// meet when it stores its result.
func checkExisting(path, what string) error {
	f, err := openNoFollow(path, os.O_RDONLY, what)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	defer f.Close()
	return checkFile(f, what, true)
}

// readFile returns the content of the regular file at path without
// following a symbolic link; a missing file is an error matching
// fs.ErrNotExist.
func readFile(path, what string) ([]byte, error) {
	f, err := openNoFollow(path, os.O_RDONLY, what)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return io.ReadAll(f)
}
