// Package cli is slipway's command line: each command parses its flags
// and arguments into an operation.Operation, calls operation.Run with the
// providers' factory, renders the Result with the views, and maps how it
// ended to an exit code; results go to stdout, everything else to stderr
// as "slipway: error: ..." and "slipway: hint: ...". The exit codes follow
// the one table of docs/exit-codes.md and are decided here, never deeper
// (docs/architecture.md says where everything else is).
package cli
