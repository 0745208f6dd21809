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

// Replace writes data to dir/name atomically, replacing any existing
// file: a 0600 temporary file in dir, fsync, rename, fsync of dir.
func Replace(dir, name string, data []byte) error {
	tmp, err := writeTemp(dir, name, data)
	if err != nil {
		return err
	}
	if err := os.Rename(tmp, filepath.Join(dir, name)); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("rename %q: %w", tmp, err)
	}
	return SyncDir(dir)
}

// Create writes data to dir/name atomically unless it exists, in which
// case it returns ErrExists and leaves the file alone: the temporary file is
// hard-linked into place, which fails rather than replaces.
func Create(dir, name string, data []byte) error {
	tmp, err := writeTemp(dir, name, data)
	if err != nil {
		return err
	}
	defer os.Remove(tmp)
	err = os.Link(tmp, filepath.Join(dir, name))
	if errors.Is(err, fs.ErrExist) {
		return ErrExists
	}
	if err != nil {
		return fmt.Errorf("link %q: %w", tmp, err)
	}
	if err := os.Remove(tmp); err != nil {
		return fmt.Errorf("remove %q: %w", tmp, err)
	}
	return SyncDir(dir)
}

// writeTemp writes data to a new 0600 temporary file in dir, fsyncs it and
// returns its path. On error nothing is left behind.
func writeTemp(dir, name string, data []byte) (string, error) {
	f, err := os.CreateTemp(dir, "."+name+".tmp-*")
	if err != nil {
		return "", fmt.Errorf("create temporary file: %w", err)
	}
	fail := func(err error) (string, error) {
		f.Close()
		os.Remove(f.Name())
		return "", err
	}
	if err := f.Chmod(0o600); err != nil {
		return fail(fmt.Errorf("chmod %q: %w", f.Name(), err))
	}
	if _, err := f.Write(data); err != nil {
		return fail(fmt.Errorf("write %q: %w", f.Name(), err))
	}
	if err := f.Sync(); err != nil {
		return fail(fmt.Errorf("sync %q: %w", f.Name(), err))
	}
	if err := f.Close(); err != nil {
		os.Remove(f.Name())
		return "", fmt.Errorf("close %q: %w", f.Name(), err)
	}
	return f.Name(), nil
}

// SyncDir fsyncs a directory so that renames and links in it are durable.
func SyncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("open directory %q: %w", dir, err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("sync directory %q: %w", dir, err)
	}
	return nil
}

// Remove removes dir/name if present and fsyncs dir.
func Remove(dir, name string) error {
	err := os.Remove(filepath.Join(dir, name))
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	return SyncDir(dir)
}
