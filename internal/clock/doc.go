// Package clock is how slipway waits on the wall clock: SleepUntil, the one
// sleep every loop that paces itself uses (the analysis windows, the load
// generator), ends early when its context ends. Code that needs a fake
// clock in its tests takes SleepUntil as a hook.
package clock
