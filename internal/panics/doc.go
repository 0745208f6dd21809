// Package panics carries a panic from any goroutine slipway starts to the
// one place that reports it, cli.Main.
//
// Go ends the process with exit code 2 when a panic is not recovered, in
// whichever goroutine it happens, and 2 means something else in slipway's
// exit-code table ("changes present", "failed and rolled back safely").
// So every goroutine slipway starts defers Recover, and Main, which runs
// each command under Catch, turns the panic into an internal error with
// the exit code the table allows (1 when nothing was under way, 3 when an
// operation was).
//
// A recovered goroutine never returns: whoever waits for it (a WaitGroup,
// a channel) waits on, and never takes the result it did not produce for
// a success. The process ends when Main returns. Without a Catch (a test,
// another program) Recover panics again, as if it were not there.
//
// TestEveryGoroutineRecovers proves that every go statement of the
// packages linked into cmd/slipway defers Recover before anything else.
package panics
