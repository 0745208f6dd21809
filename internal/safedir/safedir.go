package safedir

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"syscall"
)

// ErrUnsafe is matched by every *UnsafeError.
var ErrUnsafe = errors.New("unsafe directory")

// UnsafeError reports a directory slipway refuses to write into, or a
// parent of one, with the command that fixes it.
type UnsafeError struct {
	What    string // what the directory is for, e.g. "state directory"
	Dir     string // the directory slipway would write into
	Path    string // the directory at fault: Dir or one of its parents
	Problem string // e.g. "is writable by group"
	Fix     string // e.g. "run 'chmod 700 /x/.slipway'"
}

// Error reads "state directory /x/.slipway is writable by group: run
// 'chmod 700 /x/.slipway'", naming the parent at fault when it is one.
func (e *UnsafeError) Error() string {
	if e.Path == e.Dir {
		return fmt.Sprintf("%s %s %s: %s", e.What, e.Dir, e.Problem, e.Fix)
	}
	return fmt.Sprintf("%s %s: its parent %s %s: %s", e.What, e.Dir, e.Path, e.Problem, e.Fix)
}

// Is matches ErrUnsafe.
func (e *UnsafeError) Is(target error) bool { return target == ErrUnsafe }

// Make creates dir and its missing parents with mode 0700, each only after
// the directory it is made in passed its check, then checks dir as a
// directory of slipway's own (see the package doc). what names the
// directory in errors ("state directory"). Nothing is created in an unsafe
// directory.
func Make(dir, what string) error {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return fmt.Errorf("%s %s: %w", what, dir, err)
	}
	c := checker{what: what, dir: abs}
	return c.make(abs)
}

// Check reports whether Make(dir, what) would pass, without creating
// anything: dir is checked as a directory of slipway's own when it
// exists, else its nearest existing parent is checked as a parent.
func Check(dir, what string) error {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return fmt.Errorf("%s %s: %w", what, dir, err)
	}
	c := checker{what: what, dir: abs}
	for p := abs; ; {
		fi, err := os.Lstat(p)
		if err == nil {
			if p == abs {
				if err := c.own(abs, fi); err != nil {
					return err
				}
				return c.parents(filepath.Dir(abs))
			}
			return c.parents(p)
		}
		if !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("%s %s: %w", what, abs, err)
		}
		parent := filepath.Dir(p)
		if parent == p {
			return fmt.Errorf("%s %s: %w", what, abs, err)
		}
		p = parent
	}
}

// CheckShared checks dir as a directory slipway writes into beside others,
// such as nginx's config_dir: it must exist, be owned by the running user
// or by root and be writable by neither group nor others; a symbolic link
// to it is followed. Its parents are checked as Make checks them.
func CheckShared(dir, what string) error {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return fmt.Errorf("%s %s: %w", what, dir, err)
	}
	real, err := filepath.EvalSymlinks(abs)
	if err != nil {
		return fmt.Errorf("%s %s: %w", what, abs, err)
	}
	c := checker{what: what, dir: abs}
	fi, err := os.Lstat(real)
	if err != nil {
		return fmt.Errorf("%s %s: %w", what, abs, err)
	}
	uid, mode := owner(fi), fi.Mode()
	switch {
	case !fi.IsDir():
		return c.unsafe(real, "is not a directory", "name a directory")
	case uid != me() && uid != 0:
		return c.unsafe(real, fmt.Sprintf("is owned by %s, %s", userName(uid), notUs()),
			fmt.Sprintf("run 'chown %s %s'", chownName(me()), real))
	case mode.Perm()&0o022 != 0:
		return c.unsafe(real, "is writable by "+writers(mode), fmt.Sprintf("run 'chmod %s %s'", minusWrite(mode), real))
	}
	return c.parents(filepath.Dir(real))
}

// checker checks one directory and its parents.
type checker struct {
	what string // what the directory is for
	dir  string // the absolute directory asked about
}

func (c checker) unsafe(path, problem, fix string) error {
	return &UnsafeError{What: c.what, Dir: c.dir, Path: path, Problem: problem, Fix: fix}
}

// make creates dir (and missing parents) if needed and checks it.
func (c checker) make(dir string) error {
	fi, err := os.Lstat(dir)
	if errors.Is(err, fs.ErrNotExist) {
		parent := filepath.Dir(dir)
		if parent == dir {
			return fmt.Errorf("%s %s: %w", c.what, c.dir, err)
		}
		_, perr := os.Lstat(parent)
		switch {
		case errors.Is(perr, fs.ErrNotExist):
			// A missing parent is made as a directory of our own.
			if err := c.make(parent); err != nil {
				return err
			}
		case perr != nil:
			return fmt.Errorf("%s %s: %w", c.what, c.dir, perr)
		default:
			if err := c.parents(parent); err != nil {
				return err
			}
		}
		if err := os.Mkdir(dir, 0o700); err != nil && !errors.Is(err, fs.ErrExist) {
			return fmt.Errorf("create %s %s: %w", c.what, dir, err)
		}
		// Whatever is there now, made by us or in a race, is checked.
		if fi, err = os.Lstat(dir); err != nil {
			return fmt.Errorf("create %s %s: %w", c.what, dir, err)
		}
		return c.own(dir, fi)
	}
	if err != nil {
		return fmt.Errorf("%s %s: %w", c.what, c.dir, err)
	}
	if err := c.own(dir, fi); err != nil {
		return err
	}
	return c.parents(filepath.Dir(dir))
}

// own checks dir (whose Lstat is fi) as a directory of slipway's own.
func (c checker) own(dir string, fi fs.FileInfo) error {
	uid, mode := owner(fi), fi.Mode()
	switch {
	case mode&fs.ModeSymlink != 0:
		target, err := filepath.EvalSymlinks(dir)
		if err != nil {
			return c.unsafe(dir, "is a symbolic link", "replace the link with a directory")
		}
		return c.unsafe(dir, "is a symbolic link to "+target,
			fmt.Sprintf("name %s itself in the configuration, or replace the link with a directory", target))
	case !fi.IsDir():
		return c.unsafe(dir, "is not a directory", "move it away")
	case uid != me():
		return c.unsafe(dir, fmt.Sprintf("is owned by %s, not by %s, who runs slipway", userName(uid), userName(me())),
			fmt.Sprintf("run 'chown %s %s'", chownName(me()), dir))
	case mode.Perm()&0o022 != 0:
		return c.unsafe(dir, "is writable by "+writers(mode), fmt.Sprintf("run 'chmod 700 %s'", dir))
	}
	return nil
}

// parents checks dir and the directories above it on its real path, up to
// and including the first one the running user owns.
func (c checker) parents(dir string) error {
	real, err := filepath.EvalSymlinks(dir)
	if err != nil {
		return fmt.Errorf("%s %s: %w", c.what, c.dir, err)
	}
	for p := real; ; p = filepath.Dir(p) {
		fi, err := os.Lstat(p)
		if err != nil {
			return fmt.Errorf("%s %s: %w", c.what, c.dir, err)
		}
		uid, mode := owner(fi), fi.Mode()
		sticky := mode&fs.ModeSticky != 0 && uid == 0
		switch {
		case uid != me() && uid != 0:
			return c.unsafe(p, fmt.Sprintf("is owned by %s, %s, and %s could replace what it holds", userName(uid), notUs(), userName(uid)),
				fmt.Sprintf("run 'chown %s %s', or choose a directory elsewhere", chownName(me()), p))
		case mode.Perm()&0o022 != 0 && !sticky:
			return c.unsafe(p, "is writable by "+writers(mode), fmt.Sprintf("run 'chmod %s %s'", minusWrite(mode), p))
		}
		if uid == me() || filepath.Dir(p) == p {
			return nil
		}
	}
}

// owner returns the uid owning the file fi describes.
func owner(fi fs.FileInfo) int {
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		return int(st.Uid)
	}
	return -1
}

// me is the user slipway runs as; a variable so that tests can pretend to
// be someone else.
var me = os.Geteuid

// notUs says who may own a directory slipway shares or passes through:
// root, or the user running slipway.
func notUs() string {
	if me() == 0 {
		return "not by root, who runs slipway"
	}
	return "not by root or by " + userName(me()) + ", who runs slipway"
}

// userName names uid in a sentence: its user name, or "uid N" when it has
// none.
func userName(uid int) string {
	if u, err := user.LookupId(strconv.Itoa(uid)); err == nil && u.Username != "" {
		return u.Username
	}
	return "uid " + strconv.Itoa(uid)
}

// chownName names uid for chown: its user name, or the number.
func chownName(uid int) string {
	if u, err := user.LookupId(strconv.Itoa(uid)); err == nil && u.Username != "" {
		return u.Username
	}
	return strconv.Itoa(uid)
}

// writers says who besides the owner may write: "group", "others" or
// "group and others".
func writers(mode fs.FileMode) string {
	switch mode.Perm() & 0o022 {
	case 0o020:
		return "group"
	case 0o002:
		return "others"
	}
	return "group and others"
}

// minusWrite is the chmod mode that takes away the write bits writers names.
func minusWrite(mode fs.FileMode) string {
	switch mode.Perm() & 0o022 {
	case 0o020:
		return "g-w"
	case 0o002:
		return "o-w"
	}
	return "go-w"
}
