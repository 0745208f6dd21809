// Package planner compares the declared configuration with the recorded
// state and the observed live world and returns the ordered steps of a
// release (or a rollback), each with its compensation. It is a plain
// function of its inputs: no I/O, no globals.
package planner
