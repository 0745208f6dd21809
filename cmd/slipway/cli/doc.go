// Package cli wires slipway's commands: flags parse into plain structs,
// configuration, state and providers are loaded, and the planner and the
// executor run; results go to stdout, everything else to stderr as
// "slipway: error: ..." and "slipway: hint: ...". Exit codes follow the one
// table of DESIGN.md and are decided here, never deep inside.
package cli
