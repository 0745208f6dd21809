package local

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/slipwayhq/slipway/internal/atomicfile"
	"github.com/slipwayhq/slipway/state"
	"github.com/slipwayhq/slipway/state/statefile"
)

// Sentinel errors of snapshots.
var (
	// ErrSnapshotExists reports a snapshot that already exists with other
	// content; snapshots are never replaced.
	ErrSnapshotExists = errors.New("snapshot already exists with different content")
	// ErrNoSnapshot reports a release with no snapshot.
	ErrNoSnapshot = errors.New("no snapshot of release")
)

// SnapshotPath returns the path of the snapshot of release.
func (b *Backend) SnapshotPath(release int) string {
	return filepath.Join(b.dir, SnapshotsDir, strconv.Itoa(release)+".json")
}

// WriteSnapshot stores s as the snapshot of release s.Release (which must
// be at least 1) in snapshots/<release>.json, mode 0600, and returns its
// path. Snapshots are immutable: writing the same bytes again succeeds,
// different bytes fail with ErrSnapshotExists and leave the file as it was.
func (b *Backend) WriteSnapshot(s *state.State) (path string, err error) {
	if s == nil || s.Release < 1 {
		return "", errors.New("write snapshot: the state has no finished release")
	}
	var buf bytes.Buffer
	if err := statefile.Write(&buf, s); err != nil {
		return "", fmt.Errorf("write snapshot: %w", err)
	}
	dir := filepath.Join(b.dir, SnapshotsDir)
	if err := b.ensureDir(dir); err != nil {
		return "", fmt.Errorf("write snapshot: %w", err)
	}
	path = b.SnapshotPath(s.Release)
	err = atomicfile.Create(path, buf.Bytes())
	if err == nil {
		return path, nil
	}
	if !errors.Is(err, atomicfile.ErrExists) {
		return "", fmt.Errorf("write snapshot %q: %w", path, err)
	}
	old, err := readFile(path, "snapshot")
	if err != nil {
		return "", fmt.Errorf("write snapshot: %w", err)
	}
	if !bytes.Equal(old, buf.Bytes()) {
		return "", fmt.Errorf("write snapshot %q: %w", path, ErrSnapshotExists)
	}
	return path, nil
}

// Snapshot reads the snapshot of release; a missing one is an error
// wrapping ErrNoSnapshot.
func (b *Backend) Snapshot(release int) (*state.State, error) {
	path := b.SnapshotPath(release)
	data, err := readFile(path, "snapshot")
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("read snapshot: %w %d", ErrNoSnapshot, release)
	}
	if err != nil {
		return nil, fmt.Errorf("read snapshot: %w", err)
	}
	s, err := statefile.Read(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("read snapshot %q: %w", path, err)
	}
	return s, nil
}

// Snapshots returns the release numbers that have snapshots, ascending.
// Other files in the directory are ignored.
func (b *Backend) Snapshots() ([]int, error) {
	entries, err := os.ReadDir(filepath.Join(b.dir, SnapshotsDir))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("list snapshots: %w", err)
	}
	var out []int
	for _, e := range entries {
		num, ok := strings.CutSuffix(e.Name(), ".json")
		if !ok || !e.Type().IsRegular() || strings.HasPrefix(num, "0") {
			continue
		}
		if n, err := strconv.Atoi(num); err == nil && n > 0 {
			out = append(out, n)
		}
	}
	slices.Sort(out)
	return out, nil
}

// PruneSnapshots removes all but the newest keep snapshots (keep >= 1).
func (b *Backend) PruneSnapshots(keep int) error {
	if keep < 1 {
		return fmt.Errorf("prune snapshots: keep must be at least 1, got %d", keep)
	}
	releases, err := b.Snapshots()
	if err != nil {
		return fmt.Errorf("prune snapshots: %w", err)
	}
	if len(releases) <= keep {
		return nil
	}
	for _, r := range releases[:len(releases)-keep] {
		if err := os.Remove(b.SnapshotPath(r)); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("prune snapshots: %w", err)
		}
	}
	if err := atomicfile.SyncDir(filepath.Join(b.dir, SnapshotsDir)); err != nil {
		return fmt.Errorf("prune snapshots: %w", err)
	}
	return nil
}
