package nginx

import (
	"fmt"
	"io/fs"

	"github.com/slipwayhq/slipway/internal/atomicfile"
	"github.com/slipwayhq/slipway/internal/safedir"
)

// writeRouteFile replaces path with content, mode perm, through
// atomicfile.Replace: the temporary file's name never matches an include
// of *.conf, and a symbolic link at path is replaced, never written
// through (the callers refuse one before they get here).
func writeRouteFile(path string, content []byte, perm fs.FileMode) error {
	if err := atomicfile.Replace(path, content, atomicfile.Mode(perm)); err != nil {
		return fmt.Errorf("write route file %q: %w", path, err)
	}
	return nil
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
