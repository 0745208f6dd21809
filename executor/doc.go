// Package executor performs a plan through the providers: each step in
// order, its intent and completion persisted in a journal before and after
// it runs, and on failure the compensations of the finished steps, newest
// first. It never prints; it reports through a Hook that the CLI's views
// render, and it fills the operation record as it goes.
package executor
