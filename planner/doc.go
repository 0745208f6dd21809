// Package planner compares the declared configuration with the recorded
// state and the observed live world and returns the ordered steps of a
// release (or a rollback), each with its compensation. It is a plain
// function of its inputs: no I/O, no globals.
//
// Every plan keeps one rule wherever a container leaves: nothing is stopped
// or removed while a route still sends it requests, in its file or in what
// nginx serves now (providers.Serving, observed, never assumed). A traffic
// step takes it out first, a drain (plan.Step.Drains, or the Drain of a
// compensating traffic step in an undo) lets nginx finish what it sent and
// drop its keep-alive connections, and only then does it stop or go. After
// a crash: traffic, drain, remove, then any start that reuses the
// interrupted release's names. Hotfix alone stops first, by design, and its
// plan says so. TestRecoveryDrainsBeforeRemoving checks the rule over
// generated plans.
package planner
