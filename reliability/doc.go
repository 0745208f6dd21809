// Package reliability holds the proofs that slipway loses nothing: crash
// sweeps that kill a test build of the binary (built with -tags
// slipway_faults) with SIGKILL at every fault point of a release and then
// recover it, concurrent applies against one state, and a soak of many
// releases under load. The tests drive real Docker, nginx and PostgreSQL
// on loopback; the package has no code of its own.
//
// `make test` runs a seeded sample of the kill points; `make reliability`
// (SLIPWAY_RELIABILITY=1) runs every point of every strategy and the soak.
// docs/reliability.md holds the figures.
package reliability
