//go:build slipway_faults

package executor

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"

	"github.com/slipwayhq/slipway/internal/panics"
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
// SLIPWAY_FAULT=panic:POINT (or panic:#N) panics there instead, and
// SLIPWAY_FAULT=gopanic:POINT panics in a goroutine started there the way
// slipway starts its goroutines, while the point waits for it as their
// callers do: a test proves that a panic becomes an internal error with
// the exit code the table allows, never Go's exit 2.
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
	at := func(want string) bool { return want == point || want == "#"+strconv.FormatInt(n, 10) }
	want := os.Getenv("SLIPWAY_FAULT")
	switch {
	case want == "":
	case at(want):
		_ = syscall.Kill(os.Getpid(), syscall.SIGKILL)
		select {} // the signal is on its way
	case strings.HasPrefix(want, "panic:") && at(strings.TrimPrefix(want, "panic:")):
		panic("injected panic at fault point " + point)
	case strings.HasPrefix(want, "gopanic:") && at(strings.TrimPrefix(want, "gopanic:")):
		done := make(chan struct{})
		go func() {
			defer close(done)
			defer panics.Recover()
			panic("injected panic in a goroutine at fault point " + point)
		}()
		<-done
	}
}
