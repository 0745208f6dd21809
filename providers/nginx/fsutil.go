package nginx

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/slipwayhq/slipway/internal/safedir"
)

// writeAtomic replaces path with content: a temporary file in the same
// directory (named so that an include of *.conf never reads it), fsync,
// rename, fsync of the directory.
func writeAtomic(path string, content []byte, mode fs.FileMode) error {
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return fmt.Errorf("write route file %q: %w", path, err)
	}
	name := tmp.Name()
	ok := false
	defer func() {
		if !ok {
			_ = tmp.Close()
			_ = os.Remove(name)
		}
	}()
	if _, err := tmp.Write(content); err != nil {
		return fmt.Errorf("write route file %q: %w", path, err)
	}
	if err := tmp.Chmod(mode); err != nil {
		return fmt.Errorf("write route file %q: %w", path, err)
	}
	if err := tmp.Sync(); err != nil {
		return fmt.Errorf("write route file %q: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("write route file %q: %w", path, err)
	}
	if err := os.Rename(name, path); err != nil {
		return fmt.Errorf("write route file %q: %w", path, err)
	}
	ok = true
	return syncDir(dir)
}

// checkConfigDir refuses a config_dir that others than its owner can
// write, or whose owner is neither root nor the running user (see
// safedir.CheckShared): whoever can write there decides what nginx serves,
// and could replace slipway's files between its writes and nginx's reload.
// A root-owned /etc/nginx/conf.d, or one of the deploy user's, with mode
// 0755, is what it expects.
func checkConfigDir(dir string) error {
	return safedir.CheckShared(dir, "nginx config_dir")
}

// notRegular is the ErrNotManaged error of a route file's name that holds
// something other than a regular file: a symbolic link is neither read nor
// replaced.
func notRegular(path string, fi fs.FileInfo) error {
	what := "is not a regular file"
	if fi.Mode()&fs.ModeSymlink != 0 {
		what = "is a symbolic link"
	}
	return fmt.Errorf("%w: %q %s, and slipway writes only its own regular files there: remove it", ErrNotManaged, path, what)
}

// syncDir makes a rename or removal in dir durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("sync directory %q: %w", dir, err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("sync directory %q: %w", dir, err)
	}
	return nil
}
