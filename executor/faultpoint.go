//go:build slipway_faults

package executor

import (
	"fmt"
	"os"
	"strconv"
	"sync/atomic"
	"syscall"
)

// faultsMet counts the fault points this process met. It is the one
// process-wide counter of the test build: the points are met once per
// process, whatever run of the executor meets them.
var faultsMet atomic.Int64

// FaultsEnabled reports whether this binary was built with the
// slipway_faults tag, so that crash tests can refuse a binary without it.
const FaultsEnabled = true

// Faultpoint is a named point where a test build may die. When the
// environment variable SLIPWAY_FAULT names point, the process kills itself
// with SIGKILL there: no deferred function runs and no buffer is flushed,
// as when a machine loses power or an operator runs kill -9. When
// SLIPWAY_FAULT_TRACE names a file, every point reached is appended to it
// first (one line each), so that a sweep can list the points of a run.
//
// SLIPWAY_FAULT=#N names the N-th point the process meets, whatever its
// name, so that a sweep can walk a release whose step ids it does not
// know in advance.
//
// Only binaries built with -tags slipway_faults contain this; the shipped
// binary's Faultpoint does nothing.
func Faultpoint(point string) {
	n := faultsMet.Add(1)
	if trace := os.Getenv("SLIPWAY_FAULT_TRACE"); trace != "" {
		if f, err := os.OpenFile(trace, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600); err == nil {
			fmt.Fprintln(f, point)
			f.Close()
		}
	}
	if want := os.Getenv("SLIPWAY_FAULT"); want != "" && (want == point || want == "#"+strconv.FormatInt(n, 10)) {
		_ = syscall.Kill(os.Getpid(), syscall.SIGKILL)
		select {} // the signal is on its way
	}
}
