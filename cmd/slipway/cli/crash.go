package cli

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/slipwayhq/slipway/internal/panics"
	"github.com/slipwayhq/slipway/state/local"
)

// underway is what Main needs to report a panic: the state backend once
// the command opened it (its records directory keeps the stack trace), the
// mask of sensitive values once the configuration loaded, and whether the
// command started an operation that changes the world (apply, rollback,
// promote, abort). Its methods may be called on nil, and from any
// goroutine.
type underway struct {
	mu        sync.Mutex
	backend   *local.Backend
	mask      func(string) string
	operation bool
}

// Opened records the state backend the command opened.
func (u *underway) Opened(b *local.Backend) {
	if u != nil {
		u.mu.Lock()
		u.backend = b
		u.mu.Unlock()
	}
}

// Masking records how sensitive values are hidden.
func (u *underway) Masking(mask func(string) string) {
	if u != nil {
		u.mu.Lock()
		u.mask = mask
		u.mu.Unlock()
	}
}

// Started records that an operation began: from here on, its journal
// says whether it stopped half-way.
func (u *underway) Started() {
	if u != nil {
		u.mu.Lock()
		u.operation = true
		u.mu.Unlock()
	}
}

// report prints a panic as an internal error, writes its stack trace to a
// file (0600) under the state's records directory, or os.TempDir() before
// the state is known, and returns the exit code: 3 when an operation this
// command started left its journal (the next plan explains it), 1
// otherwise. It leaves the journal, the state and the lock file as they
// are.
func (u *underway) report(w io.Writer, p *panics.Panic) int {
	u.mu.Lock()
	b, mask, operation := u.backend, u.mask, u.operation
	u.mu.Unlock()
	value := fmt.Sprint(p.Value)
	if mask != nil {
		value = mask(value)
	}
	dirs := []string{os.TempDir()}
	if b != nil {
		dirs = append([]string{b.RecordsDir()}, dirs...)
	}
	var path string
	var err error
	for _, dir := range dirs {
		if path, err = writeTrace(dir, value, p.Stack); err == nil {
			break
		}
	}
	code, hint := 1, "please report this bug with it"
	if operation && b != nil {
		j, jerr := b.ReadJournal()
		switch {
		case jerr != nil:
			code, hint = 3, fmt.Sprintf("an operation was under way (its journal: %v): run 'slipway plan' to see what is left and what to do", jerr)
		case j != nil:
			code, hint = 3, fmt.Sprintf("the %s of release #%d stopped half-way and its journal is kept: run 'slipway plan' to see what is left and what to do, and please report this bug with the trace", j.Operation, j.Release)
		}
	}
	fmt.Fprintf(w, "slipway: internal error: %s\n", strings.ReplaceAll(value, "\n", "\n  "))
	if err != nil {
		fmt.Fprintf(w, "slipway: hint: the stack trace could not be written (%v), it follows; %s\n%s", err, hint, p.Stack)
		return code
	}
	fmt.Fprintf(w, "slipway: hint: the stack trace is in %s; %s\n", path, hint)
	return code
}

// writeTrace writes the panic's value and stack to a new file in dir,
// readable by its owner only, and returns its path.
func writeTrace(dir, value string, stack []byte) (string, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", err
	}
	// CreateTemp opens with O_EXCL, mode 0600: never through a link.
	f, err := os.CreateTemp(dir, "slipway-panic-"+time.Now().UTC().Format("20060102T150405Z")+"-*.txt")
	if err != nil {
		return "", err
	}
	_, err = fmt.Fprintf(f, "slipway %s (%s %s/%s): internal error: %s\n\n%s", Version, runtime.Version(), runtime.GOOS, runtime.GOARCH, value, stack)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return "", err
	}
	return filepath.Abs(f.Name())
}
