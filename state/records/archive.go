package records

import (
	"fmt"
	"path/filepath"
	"regexp"

	"github.com/slipwayhq/slipway/internal/atomicfile"
	"github.com/slipwayhq/slipway/internal/safedir"
)

// ArchiveDir is the directory that holds what was archived for the
// incident report of record id: <recordsDir>/<id>-archive. Characters that
// may not appear in a file name are replaced.
func ArchiveDir(recordsDir, id string) string {
	return filepath.Join(recordsDir, unsafeName.ReplaceAllString(id, "_")+"-archive")
}

// WriteArchive stores data as the file name in dir (created 0700 if
// missing; refused, as safedir.Make refuses, when it is a symbolic link or
// others could write it), 0600 and atomically, replacing a file of that name, and
// returns its path. Characters that may not appear in a file name (a path
// separator among them) are replaced in name, so it cannot leave dir.
func WriteArchive(dir, name string, data []byte) (string, error) {
	base := unsafeArchiveName.ReplaceAllString(name, "_")
	if base == "" || base == "." || base == ".." {
		return "", fmt.Errorf("archive %q: not a file name", name)
	}
	if err := safedir.Make(dir, "archive directory"); err != nil {
		return "", fmt.Errorf("archive %q: %w", name, err)
	}
	path := filepath.Join(dir, base)
	if err := atomicfile.Replace(path, data); err != nil {
		return "", fmt.Errorf("archive %q: %w", name, err)
	}
	return path, nil
}

// ForRelease returns the record that made release n: the last one that
// succeeded, or else the last one of that release (a failed attempt). It
// returns nil when no record names release n. recs are oldest first, as
// List returns them.
func ForRelease(recs []*Record, n int) *Record {
	var last *Record
	for i := len(recs) - 1; i >= 0; i-- {
		r := recs[i]
		if r.Release != n {
			continue
		}
		if r.Result == ResultSucceeded {
			return r
		}
		if last == nil {
			last = r
		}
	}
	return last
}

// unsafeArchiveName matches what may not appear in an archived file's name.
var unsafeArchiveName = regexp.MustCompile(`[^A-Za-z0-9._-]+`)
