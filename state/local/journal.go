package local

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"

	"github.com/slipwayhq/slipway/internal/atomicfile"
	"github.com/slipwayhq/slipway/state"
	"github.com/slipwayhq/slipway/state/statefile"
)

// JournalPath returns the path of the journal file.
func (b *Backend) JournalPath() string { return filepath.Join(b.dir, JournalFile) }

// WriteJournal stores j as the journal of the operation in progress,
// replacing the previous version atomically and durably (fsync of file and
// directory) before it returns.
func (b *Backend) WriteJournal(j *state.Journal) error {
	var buf bytes.Buffer
	if err := statefile.WriteJournal(&buf, j); err != nil {
		return err
	}
	if err := b.ensureDir(b.dir); err != nil {
		return fmt.Errorf("write journal: %w", err)
	}
	if err := atomicfile.Replace(b.JournalPath(), buf.Bytes()); err != nil {
		return fmt.Errorf("write journal: %w", err)
	}
	return nil
}

// ReadJournal returns the journal of an operation that has not finished,
// or nil, nil if there is none. A corrupt journal is an error naming it.
func (b *Backend) ReadJournal() (*state.Journal, error) {
	data, err := readFile(b.JournalPath(), "journal")
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if errors.Is(err, ErrUnsafeFile) {
		return nil, err // it names the file
	}
	if err != nil {
		return nil, fmt.Errorf("read journal: %w", err)
	}
	j, err := statefile.ReadJournal(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("read journal %q: %w", b.JournalPath(), err)
	}
	return j, nil
}

// SaveJournalPlan stores data (an encoded plan) as journal-plan.json, mode
// 0600, atomically, and returns its path for Journal.PlanPath.
func (b *Backend) SaveJournalPlan(data []byte) (path string, err error) {
	if err := b.ensureDir(b.dir); err != nil {
		return "", fmt.Errorf("save journal plan: %w", err)
	}
	path = filepath.Join(b.dir, JournalPlanFile)
	if err := atomicfile.Replace(path, data); err != nil {
		return "", fmt.Errorf("save journal plan: %w", err)
	}
	return path, nil
}

// ClearJournal removes the journal and its plan once the operation has
// finished; it is not an error if there are none. The journal goes first:
// once it is gone the operation counts as finished, and a plan file left by
// an interrupted clear is harmless.
func (b *Backend) ClearJournal() error {
	if err := atomicfile.Remove(b.JournalPath()); err != nil {
		return fmt.Errorf("clear journal: %w", err)
	}
	if err := atomicfile.Remove(filepath.Join(b.dir, JournalPlanFile)); err != nil {
		return fmt.Errorf("clear journal: %w", err)
	}
	return nil
}
