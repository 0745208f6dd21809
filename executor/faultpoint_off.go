//go:build !slipway_faults

package executor

// FaultsEnabled reports whether this binary was built with the
// slipway_faults tag; the shipped binary never is.
const FaultsEnabled = false

// Faultpoint is a named point where a test build (-tags slipway_faults)
// may kill itself to prove crash recovery. In this build it does nothing.
func Faultpoint(string) {}
