package atomicfile

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// ErrExists is returned by Create when the target already exists.
var ErrExists = errors.New("file exists")

// Option adjusts how a file is written.
type Option func(*options)

type options struct {
	mode fs.FileMode
}

// Mode sets the permission bits of the file written (0600 by default), as
// they are: the umask does not apply.
func Mode(perm fs.FileMode) Option {
	return func(o *options) { o.mode = perm.Perm() }
}

// Replace writes data to path, replacing any file there, a symbolic link
// included (the link, not its target).
func Replace(path string, data []byte, opts ...Option) error {
	p, err := holding(path, data, opts)
	if err != nil {
		return err
	}
	defer p.Cleanup()
	return p.Commit()
}

// Create writes data to path unless something is there (a file, a
// directory, a symbolic link), in which case it returns ErrExists and
// leaves it alone: the temporary file is hard-linked into place, which
// fails rather than replaces.
func Create(path string, data []byte, opts ...Option) error {
	p, err := holding(path, data, opts)
	if err != nil {
		return err
	}
	defer p.Cleanup()
	if err := p.sync(); err != nil {
		return err
	}
	err = os.Link(p.f.Name(), path)
	if errors.Is(err, fs.ErrExist) {
		return ErrExists
	}
	if err != nil {
		return fmt.Errorf("link into place: %w", err)
	}
	if err := os.Remove(p.f.Name()); err != nil {
		return fmt.Errorf("remove temporary file: %w", err)
	}
	p.done = true
	return SyncDir(filepath.Dir(path))
}

// holding returns a Pending for path that holds data.
func holding(path string, data []byte, opts []Option) (*Pending, error) {
	p, err := New(path, opts...)
	if err != nil {
		return nil, err
	}
	if _, err := p.Write(data); err != nil {
		p.Cleanup()
		return nil, err
	}
	return p, nil
}

// Pending is a new file that takes the place of its target only when
// Commit succeeds. Its methods are not safe for concurrent use.
type Pending struct {
	f    *os.File
	path string
	done bool // committed or cleaned up
}

// New creates the temporary file of a write to path, with the mode the
// options give. The caller writes to it (Write, or another program to
// Name), then calls Commit; a deferred Cleanup removes it whenever Commit
// was not reached or failed.
func New(path string, opts ...Option) (*Pending, error) {
	o := options{mode: 0o600}
	for _, opt := range opts {
		opt(&o)
	}
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return nil, fmt.Errorf("create temporary file: %w", err)
	}
	p := &Pending{f: f, path: path}
	if err := f.Chmod(o.mode); err != nil {
		p.Cleanup()
		return nil, fmt.Errorf("set mode of temporary file: %w", err)
	}
	return p, nil
}

// Name returns the path of the temporary file, for a program that writes
// the content itself (pg_dump --file). Commit fsyncs what it wrote.
func (p *Pending) Name() string { return p.f.Name() }

// Write appends b to the temporary file.
func (p *Pending) Write(b []byte) (int, error) {
	n, err := p.f.Write(b)
	if err != nil {
		return n, fmt.Errorf("write temporary file: %w", err)
	}
	return n, nil
}

// Commit fsyncs the temporary file, renames it over the target (replacing
// any file or symbolic link there) and fsyncs the directory. Once the
// rename is done, the target has the new content even if Commit then fails
// to fsync the directory.
func (p *Pending) Commit() error {
	if p.done {
		return errors.New("commit: the file was already committed or cleaned up")
	}
	if err := p.sync(); err != nil {
		return err
	}
	if err := os.Rename(p.f.Name(), p.path); err != nil {
		return fmt.Errorf("rename into place: %w", err)
	}
	p.done = true
	return SyncDir(filepath.Dir(p.path))
}

// Cleanup closes and removes the temporary file unless Commit moved it
// into place. It may be called any number of times.
func (p *Pending) Cleanup() {
	if p.done {
		return
	}
	p.done = true
	p.f.Close()
	os.Remove(p.f.Name())
}

// sync flushes and closes the temporary file: fsync covers what any
// descriptor of the file wrote, a program's writes to Name included.
func (p *Pending) sync() error {
	if err := p.f.Sync(); err != nil {
		return fmt.Errorf("sync temporary file: %w", err)
	}
	if err := p.f.Close(); err != nil {
		return fmt.Errorf("close temporary file: %w", err)
	}
	return nil
}

// SyncDir fsyncs a directory so that renames, links and removals in it are
// durable.
func SyncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("sync directory: %w", err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("sync directory: %w", err)
	}
	return nil
}

// Remove removes path if present and fsyncs its directory. A missing path
// is not an error.
func Remove(path string) error {
	err := os.Remove(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	return SyncDir(filepath.Dir(path))
}
