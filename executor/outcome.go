package executor

import "fmt"

// Outcome is how an operation ended; it maps one to one onto the exit
// codes of docs/exit-codes.md (ExitCode).
type Outcome int

// The outcomes.
const (
	Succeeded         Outcome = iota // exit 0
	Refused                          // exit 1: failed before anything changed
	RolledBack                       // exit 2: failed after changes, previous release restored
	NeedsIntervention                // exit 3: failed and could not restore the previous release
	Paused                           // exit 4: stopped at an approval gate
)

var outcomeNames = [...]string{"succeeded", "refused", "rolled_back", "needs_intervention", "paused"}

func (o Outcome) String() string {
	if o < 0 || int(o) >= len(outcomeNames) {
		return fmt.Sprintf("Outcome(%d)", int(o))
	}
	return outcomeNames[o]
}

// ExitCode is the process exit code of the outcome.
func (o Outcome) ExitCode() int {
	return int(o)
}

// Error is returned by Apply when an operation did not succeed.
type Error struct {
	Outcome Outcome
	Step    string // id of the step that failed, "" if none
	Err     error  // why it failed
	Undo    []error
}

func (e *Error) Error() string {
	msg := e.Err.Error()
	if e.Step != "" {
		msg = fmt.Sprintf("step %s: %s", e.Step, msg)
	}
	switch e.Outcome {
	case RolledBack:
		msg += "; rolled back to the previous release"
	case NeedsIntervention:
		if len(e.Undo) == 0 {
			msg += "; manual intervention needed"
			break
		}
		msg += fmt.Sprintf("; rolling back failed too (%d errors): manual intervention needed", len(e.Undo))
	}
	return msg
}

func (e *Error) Unwrap() error { return e.Err }
