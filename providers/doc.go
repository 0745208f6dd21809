// Package providers declares the capabilities slipway drives the live world
// through: a runtime that runs containers, a router that sends requests to
// them, databases and metric sources. The planner and the executor depend on
// these interfaces only; implementations live in the docker, nginx and
// postgres subpackages and are listed in one explicit map by the CLI.
package providers
