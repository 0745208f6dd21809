package local

import (
	"errors"
	"os"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/slipwayhq/slipway/state"
	"github.com/slipwayhq/slipway/state/statefile"
)

func TestJournal(t *testing.T) {
	b := open(t, "")
	if j, err := b.ReadJournal(); j != nil || err != nil {
		t.Fatalf("ReadJournal of nothing = %v, %v", j, err)
	}
	planPath, err := b.SaveJournalPlan([]byte(`{"steps":[]}`))
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2025, 3, 4, 5, 6, 7, 0, time.UTC)
	j := &state.Journal{OperationID: "op", Operation: "apply", Release: 2, PriorRelease: 1, Started: at, PlanPath: planPath}
	for _, phase := range []string{state.PhaseIntent, state.PhaseDone} {
		j.Entries = append(j.Entries, state.JournalEntry{Step: 0, StepID: "start.web", Phase: phase, Time: at})
		if err := b.WriteJournal(j); err != nil {
			t.Fatal(err)
		}
		got, err := b.ReadJournal()
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, j) {
			t.Fatalf("ReadJournal:\n got %+v\nwant %+v", got, j)
		}
	}
	for _, path := range []string{b.JournalPath(), planPath} {
		if p := perm(t, path); p != 0o600 {
			t.Fatalf("%s mode %04o, want 0600", path, p)
		}
	}
	if names := listDir(t, b.Dir()); !slices.Equal(names, []string{JournalPlanFile, JournalFile}) {
		t.Fatalf("directory holds %v", names)
	}
	if err := b.ClearJournal(); err != nil {
		t.Fatal(err)
	}
	if names := listDir(t, b.Dir()); len(names) != 0 {
		t.Fatalf("ClearJournal left %v", names)
	}
	if err := b.ClearJournal(); err != nil {
		t.Fatalf("ClearJournal with nothing to clear: %v", err)
	}
}

func TestCorruptJournal(t *testing.T) {
	b := open(t, "")
	os.MkdirAll(b.Dir(), 0o700)
	os.WriteFile(b.JournalPath(), []byte(`{"format_version": 1, "entr`), 0o600)
	if _, err := b.ReadJournal(); !errors.Is(err, statefile.ErrCorrupt) {
		t.Fatalf("ReadJournal of a torn file: error %v, want ErrCorrupt", err)
	}
}
