package statefile

import (
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/slipwayhq/slipway/state"
)

// journalV1 is the on-disk shape of a journal, format version 1.
type journalV1 struct {
	FormatVersion int              `json:"format_version"`
	OperationID   string           `json:"operation_id"`
	Operation     string           `json:"operation"`
	Release       int              `json:"release"`
	PriorRelease  int              `json:"prior_release"`
	Started       time.Time        `json:"started,omitzero"`
	PlanPath      string           `json:"plan_path,omitempty"`
	Entries       []journalEntryV1 `json:"entries"`
}

type journalEntryV1 struct {
	Step   int       `json:"step"`
	StepID string    `json:"step_id"`
	Phase  string    `json:"phase"`
	Time   time.Time `json:"time,omitzero"`
	Detail string    `json:"detail,omitempty"`
}

// ReadJournal decodes a journal file. Errors follow Read's rules.
func ReadJournal(r io.Reader) (*state.Journal, error) {
	var f journalV1
	if err := decode(r, &f); err != nil {
		return nil, err
	}
	j := &state.Journal{
		OperationID: f.OperationID, Operation: f.Operation, Release: f.Release,
		PriorRelease: f.PriorRelease, PlanPath: f.PlanPath,
	}
	var err error
	if j.Started, err = utc(f.Started, "started"); err != nil {
		return nil, corruptf("%v", err)
	}
	for _, e := range f.Entries {
		at, err := utc(e.Time, "entry time")
		if err != nil {
			return nil, corruptf("%v", err)
		}
		j.Entries = append(j.Entries, state.JournalEntry{Step: e.Step, StepID: e.StepID, Phase: e.Phase, Time: at, Detail: e.Detail})
	}
	return j, nil
}

// WriteJournal encodes j as a journal file of FormatVersion.
func WriteJournal(w io.Writer, j *state.Journal) error {
	if j == nil {
		return errors.New("write journal: nil journal")
	}
	f := journalV1{
		FormatVersion: FormatVersion, OperationID: j.OperationID, Operation: j.Operation,
		Release: j.Release, PriorRelease: j.PriorRelease, PlanPath: j.PlanPath,
		Entries: []journalEntryV1{},
	}
	var err error
	if f.Started, err = utc(j.Started, "started"); err != nil {
		return fmt.Errorf("write journal: %w", err)
	}
	for _, e := range j.Entries {
		at, err := utc(e.Time, "entry time")
		if err != nil {
			return fmt.Errorf("write journal: %w", err)
		}
		f.Entries = append(f.Entries, journalEntryV1{Step: e.Step, StepID: e.StepID, Phase: e.Phase, Time: at, Detail: e.Detail})
	}
	return encode(w, f)
}
