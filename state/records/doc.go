// Package records holds operation records: one per apply, rollback,
// promote or abort, saying who ran it, when, from which config commit, the
// plan, every step with its start, end and outcome, check evidence,
// analysis readings, prober counts and the result. The executor fills a
// Record from the start of an operation and writes it as it goes; Write
// stores it as JSON (the data) and markdown (a readable report, with an
// incident section whenever the operation failed, was rolled back, or was a
// rollback).
//
// Records hold no secrets: the plan they embed is already secret-free, and
// the key of secret HMACs never enters them.
package records
