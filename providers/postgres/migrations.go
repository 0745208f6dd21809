package postgres

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"

	"github.com/slipwayhq/slipway/providers"
)

// ErrBadMigrationName is returned by LoadMigrations for a .sql file whose
// name is not NNNN_name.sql or NNNN_name.down.sql.
var ErrBadMigrationName = errors.New("migration file name is not NNNN_name.sql")

// ErrDuplicateVersion is returned by LoadMigrations when two files share a
// version.
var ErrDuplicateVersion = errors.New("duplicate migration version")

// ErrOutsideDir is returned by LoadMigrations for a file that is a symbolic
// link leading outside the migrations directory, or not a regular file.
var ErrOutsideDir = errors.New("migration file is not a regular file inside the migrations directory")

// ErrOrphanDown is returned by LoadMigrations for a down file without its
// up file.
var ErrOrphanDown = errors.New("down migration without its migration")

// noTransactionMarker, as the first line of a migration, runs it outside a
// transaction.
const noTransactionMarker = "-- slipway:no-transaction"

// migrationName matches NNNN_name.sql and NNNN_name.down.sql.
var migrationName = regexp.MustCompile(`^([0-9]+)_([A-Za-z0-9][A-Za-z0-9_.-]*?)(\.down)?\.sql$`)

// ChecksumError means the file of an applied migration changed since it
// was applied.
type ChecksumError struct {
	Name string // the migration's file name
	Want string // the checksum recorded when it was applied
	Got  string // the file's checksum now
}

func (e *ChecksumError) Error() string {
	return fmt.Sprintf("applied migration %s changed: recorded checksum %s, file now %s", e.Name, e.Want, e.Got)
}

// VanishedError means the file of an applied migration is gone.
type VanishedError struct {
	Name string
}

func (e *VanishedError) Error() string {
	return fmt.Sprintf("applied migration %s has no file any more", e.Name)
}

// DirtyError means a migration that runs without a transaction failed part
// way; nothing migrates until it is resolved as applied or pending.
type DirtyError struct {
	Version string
	Name    string
}

func (e *DirtyError) Error() string {
	return fmt.Sprintf("migration %s failed part way (dirty): fix the database by hand, then mark it with 'slipway db resolve %s -applied' or '-pending'", e.Name, e.Name)
}

// LoadMigrations reads the migrations in dir, sorted by version: every
// NNNN_name.sql file with its checksum, whether it runs without a
// transaction, and its NNNN_name.down.sql companion if any. Other files
// and subdirectories are ignored; a .sql file with another name, two files
// with one version, a down file without its migration and a symbolic link
// out of dir are errors.
func LoadMigrations(dir string) ([]providers.Migration, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("load migrations from %q: %w", dir, err)
	}
	root, err := filepath.EvalSymlinks(dir)
	if err != nil {
		return nil, fmt.Errorf("load migrations from %q: %w", dir, err)
	}
	if root, err = filepath.Abs(root); err != nil {
		return nil, fmt.Errorf("load migrations from %q: %w", dir, err)
	}
	var out []providers.Migration
	byVersion := map[string]int{} // numeric version -> index in out
	downs := map[string]string{}  // numeric version -> down file name
	for _, e := range entries {
		name := e.Name()
		if strings.HasPrefix(name, ".") || !strings.HasSuffix(name, ".sql") {
			continue
		}
		if e.IsDir() {
			continue
		}
		m := migrationName.FindStringSubmatch(name)
		if m == nil {
			return nil, fmt.Errorf("load migration %q: %w", name, ErrBadMigrationName)
		}
		path := filepath.Join(dir, name)
		if err := checkInside(root, path); err != nil {
			return nil, fmt.Errorf("load migration %q: %w", name, err)
		}
		key := numericVersion(m[1])
		if m[3] != "" {
			if prev, ok := downs[key]; ok {
				return nil, fmt.Errorf("load migration %q: %w: %s", name, ErrDuplicateVersion, prev)
			}
			downs[key] = name
			continue
		}
		if i, ok := byVersion[key]; ok {
			return nil, fmt.Errorf("load migration %q: %w: %s", name, ErrDuplicateVersion, out[i].Name)
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return nil, fmt.Errorf("load migration %q: %w", name, err)
		}
		byVersion[key] = len(out)
		out = append(out, providers.Migration{
			Version:       m[1],
			Name:          name,
			Path:          path,
			Checksum:      checksum(b),
			NoTransaction: noTransaction(string(b)),
		})
	}
	for key, name := range downs {
		i, ok := byVersion[key]
		if !ok || strings.TrimSuffix(name, ".down.sql") != strings.TrimSuffix(out[i].Name, ".sql") {
			return nil, fmt.Errorf("load migration %q: %w", name, ErrOrphanDown)
		}
		out[i].Down = filepath.Join(dir, name)
	}
	sort.Slice(out, func(i, j int) bool { return versionLess(out[i].Version, out[j].Version) })
	return out, nil
}

// checkInside returns ErrOutsideDir unless path, symbolic links resolved,
// is a regular file inside root.
func checkInside(root, path string) error {
	real, err := filepath.EvalSymlinks(path)
	if err != nil {
		return err
	}
	if real, err = filepath.Abs(real); err != nil {
		return err
	}
	rel, err := filepath.Rel(root, real)
	if err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
		return ErrOutsideDir
	}
	fi, err := os.Stat(real)
	if err != nil {
		return err
	}
	if !fi.Mode().IsRegular() {
		return ErrOutsideDir
	}
	return nil
}

// checksum is "sha256:<hex>" of b.
func checksum(b []byte) string {
	sum := sha256.Sum256(b)
	return "sha256:" + hex.EncodeToString(sum[:])
}

// noTransaction reports whether the first non-blank line of a migration is
// the no-transaction marker.
func noTransaction(src string) bool {
	src = strings.TrimPrefix(src, "\ufeff")
	for _, line := range strings.Split(src, "\n") {
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		return line == noTransactionMarker || strings.HasPrefix(line, noTransactionMarker+" ")
	}
	return false
}

// numericVersion returns a version without its leading zeros ("0" for zero).
func numericVersion(v string) string {
	v = strings.TrimLeft(v, "0")
	if v == "" {
		return "0"
	}
	return v
}

// versionLess compares versions as numbers of any length.
func versionLess(a, b string) bool {
	a, b = numericVersion(a), numericVersion(b)
	if len(a) != len(b) {
		return len(a) < len(b)
	}
	return a < b
}

// Pending returns the files not yet applied, in file order. It refuses with
// errors that errors.As finds, all of them joined: *DirtyError for a dirty
// row, *VanishedError for an applied migration whose file is gone, and
// *ChecksumError for one whose file changed. Versions match as numbers.
func Pending(files []providers.Migration, applied []providers.AppliedMigration) ([]providers.Migration, error) {
	byVersion := map[string]providers.Migration{}
	for _, f := range files {
		byVersion[numericVersion(f.Version)] = f
	}
	done := map[string]bool{}
	var errs []error
	for _, a := range applied {
		key := numericVersion(a.Version)
		done[key] = true
		if a.Dirty {
			errs = append(errs, &DirtyError{Version: a.Version, Name: a.Name})
			continue
		}
		f, ok := byVersion[key]
		if !ok {
			errs = append(errs, &VanishedError{Name: a.Name})
			continue
		}
		if f.Checksum != a.Checksum {
			errs = append(errs, &ChecksumError{Name: f.Name, Want: a.Checksum, Got: f.Checksum})
		}
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	var pending []providers.Migration
	for _, f := range files {
		if !done[numericVersion(f.Version)] {
			pending = append(pending, f)
		}
	}
	return pending, nil
}
