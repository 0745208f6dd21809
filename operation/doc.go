// Package operation is slipway's application layer: Run(ctx, Operation,
// World) performs one operation from start to end.
//
// An Operation is plain data: its kind (plan, apply, rollback, promote,
// abort, watch, check, status, history, show, force-unlock, db resolve),
// the configuration directory, environment and variables, a saved plan
// file, a rollback target, a reason, and a UI. Run owns the sequence the
// command layer used to drive: load and validate the configuration, open
// and lock the state, complete what an interrupted operation left,
// observe the live world through the World's providers, plan (or read a
// saved plan and refuse it when it is stale), confirm through the UI,
// execute, commit the new state, its snapshot and the record, prune,
// notify, and watch.
//
// It never prints and never exits: everything people see goes through the
// UI (the plan, questions, progress, lines of a watch), and how the
// operation ended is the Result, or an *Error whose Outcome the command
// maps to an exit code. The World is where the providers come from
// (providers/factory in the shipped binary), so a test can drive a whole
// operation against a fake one.
package operation
