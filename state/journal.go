package state

import (
	"slices"
	"time"
)

// Phases of a JournalEntry, in the order a step goes through them.
const (
	PhaseIntent           = "intent"            // about to run the step
	PhaseDone             = "done"              // the step finished
	PhaseFailed           = "failed"            // the step failed
	PhaseCompensateIntent = "compensate-intent" // about to undo the step
	PhaseCompensated      = "compensated"       // the step was undone
)

// Journal is the write-ahead record of the operation in progress. The
// executor persists an entry before each action (intent) and after it (done
// or failed), so that after Ctrl-C, kill -9 or a crash the next command can
// compare it with the live world and resume or roll back.
type Journal struct {
	OperationID string
	Operation   string // apply, rollback, promote, abort
	// Release is the release the operation is making and PriorRelease the
	// one that was live when it began.
	Release      int
	PriorRelease int
	Started      time.Time
	// PlanPath is the copy of the plan saved in the state directory
	// (journal-plan.json), so recovery sees the very steps that ran.
	PlanPath string
	Entries  []JournalEntry
}

// JournalEntry is one persisted transition of one step.
type JournalEntry struct {
	Step   int    // index of the step in the plan
	StepID string // the step's stable id
	Phase  string // one of the Phase constants
	Time   time.Time
	Detail string
}

// Finished returns, sorted, the indexes of the steps whose last transition
// is done, or whose compensation has begun but not completed: the steps
// whose effects are in the world and have not been undone. A step that was
// compensated is not finished.
func (j *Journal) Finished() []int {
	return j.stepsWhere(func(phase string) bool {
		return phase == PhaseDone || phase == PhaseCompensateIntent
	})
}

// InFlight returns, sorted, the indexes of the steps whose last transition
// is an intent (to run or to compensate) with no outcome after it: the steps
// that were running when the operation stopped, whose effects are unknown
// until the world is observed.
func (j *Journal) InFlight() []int {
	return j.stepsWhere(func(phase string) bool {
		return phase == PhaseIntent || phase == PhaseCompensateIntent
	})
}

// LastPhase returns the phase of the last entry of step, or "" if the
// journal holds none.
func (j *Journal) LastPhase(step int) string {
	if j == nil {
		return ""
	}
	for i := len(j.Entries) - 1; i >= 0; i-- {
		if j.Entries[i].Step == step {
			return j.Entries[i].Phase
		}
	}
	return ""
}

// stepsWhere returns the sorted steps whose last phase satisfies keep.
func (j *Journal) stepsWhere(keep func(phase string) bool) []int {
	if j == nil {
		return nil
	}
	last := map[int]string{}
	for _, e := range j.Entries {
		last[e.Step] = e.Phase
	}
	var out []int
	for step, phase := range last {
		if keep(phase) {
			out = append(out, step)
		}
	}
	slices.Sort(out)
	return out
}
