package executor

import (
	"time"

	"github.com/slipwayhq/slipway/planner/plan"
)

// Hook receives the executor's progress. Implementations must be quick;
// they run on the executor's goroutine.
type Hook interface {
	// StepStarted is called before a step runs.
	StepStarted(s *plan.Step)
	// StepFinished is called after it, with its error if it failed.
	StepFinished(s *plan.Step, d time.Duration, err error)
	// CompensationStarted is called before a step is undone.
	CompensationStarted(s *plan.Step)
	// CompensationFinished is called after it.
	CompensationFinished(s *plan.Step, d time.Duration, err error)
	// Progress reports something worth showing during a long step:
	// waiting for health, a pause ticking, a prober count.
	Progress(s *plan.Step, msg string)
}

// NoopHook implements Hook with methods that do nothing; embed it to
// implement only some of them.
type NoopHook struct{}

// StepStarted does nothing.
func (NoopHook) StepStarted(*plan.Step) {}

// StepFinished does nothing.
func (NoopHook) StepFinished(*plan.Step, time.Duration, error) {}

// CompensationStarted does nothing.
func (NoopHook) CompensationStarted(*plan.Step) {}

// CompensationFinished does nothing.
func (NoopHook) CompensationFinished(*plan.Step, time.Duration, error) {}

// Progress does nothing.
func (NoopHook) Progress(*plan.Step, string) {}

var _ Hook = NoopHook{}
