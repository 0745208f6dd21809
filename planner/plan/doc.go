// Package plan is the model of a release plan: an ordered list of steps,
// each with the provider, target and action it takes and the compensation
// that undoes it, plus the drift and checks a reviewer needs to see. It
// holds no I/O; the planfile package stores plans and the planner builds
// them.
package plan
