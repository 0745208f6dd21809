package state

import (
	"reflect"
	"slices"
	"testing"
	"time"
)

func sample() *State {
	s := New("thebot", "staging")
	s.Lineage = "5f1c0000-0000-4000-8000-000000000000"
	s.Serial = 7
	s.Release = 3
	s.Services["backend"] = &Service{
		Name: "backend", Strategy: StrategyCanary, Image: "thebot/backend:1.3.0",
		Weights:    map[string]int{"stable": 75, "candidate": 25},
		Containers: []Container{{ID: "c1", Name: "thebot-backend-r3-1", Release: 3, Index: 1}},
		Previous: &Previous{Release: 2, Kept: KeptRunning,
			Containers: []Container{{ID: "c0", Name: "thebot-backend-r2-1", Release: 2, Index: 1}}},
	}
	s.Databases["main"] = &Database{
		Name:       "main",
		Migrations: []Migration{{Version: "0001", Name: "0001_init.sql", AppliedAt: time.Unix(0, 0).UTC()}},
		LastBackup: &Backup{Path: "b.dump", Release: 3},
	}
	s.Secrets["var.secret_key"] = "ab"
	return s
}

func TestNewHasEmptyMaps(t *testing.T) {
	s := New("p", "")
	if s.Services == nil || s.Databases == nil || s.Secrets == nil {
		t.Fatalf("New left a nil map: %+v", s)
	}
	if s.Lineage != "" || s.Serial != 0 || s.Release != 0 {
		t.Fatalf("New is not empty: %+v", s)
	}
}

func TestDeepCopySharesNothing(t *testing.T) {
	orig := sample()
	c := orig.DeepCopy()
	if !reflect.DeepEqual(orig, c) {
		t.Fatalf("copy differs:\n%+v\n%+v", orig, c)
	}
	// Mutate every reachable part of the copy; the original must not move.
	want := sample()
	c.Services["backend"].Weights["stable"] = 0
	c.Services["backend"].Containers[0].ID = "x"
	c.Services["backend"].Previous.Containers[0].ID = "x"
	c.Services["backend"].Previous.Release = 99
	c.Services["new"] = &Service{}
	c.Databases["main"].Migrations[0].Name = "x"
	c.Databases["main"].LastBackup.Path = "x"
	c.Secrets["var.other"] = "cd"
	if !reflect.DeepEqual(orig, want) {
		t.Fatalf("mutating the copy changed the original:\n%+v", orig)
	}
	if (*State)(nil).DeepCopy() != nil {
		t.Fatal("DeepCopy(nil) != nil")
	}
}

func TestJournalSteps(t *testing.T) {
	e := func(step int, phase string) JournalEntry { return JournalEntry{Step: step, Phase: phase} }
	tests := []struct {
		name        string
		entries     []JournalEntry
		finished    []int
		inFlight    []int
		lastOfStep0 string
	}{
		{name: "empty"},
		{name: "intent only", entries: []JournalEntry{e(0, PhaseIntent)}, inFlight: []int{0}, lastOfStep0: PhaseIntent},
		{name: "done steps sorted",
			entries:  []JournalEntry{e(2, PhaseIntent), e(2, PhaseDone), e(0, PhaseIntent), e(0, PhaseDone)},
			finished: []int{0, 2}, lastOfStep0: PhaseDone},
		{name: "failed is not finished",
			entries:  []JournalEntry{e(0, PhaseIntent), e(0, PhaseDone), e(1, PhaseIntent), e(1, PhaseFailed)},
			finished: []int{0}, lastOfStep0: PhaseDone},
		{name: "compensated is not finished",
			entries: []JournalEntry{e(0, PhaseIntent), e(0, PhaseDone), e(1, PhaseIntent), e(1, PhaseDone),
				e(1, PhaseCompensateIntent), e(1, PhaseCompensated)},
			finished: []int{0}, lastOfStep0: PhaseDone},
		{name: "compensation under way is still finished and in flight",
			entries:  []JournalEntry{e(0, PhaseIntent), e(0, PhaseDone), e(0, PhaseCompensateIntent)},
			finished: []int{0}, inFlight: []int{0}, lastOfStep0: PhaseCompensateIntent},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			j := &Journal{Entries: tt.entries}
			if got := j.Finished(); !slices.Equal(got, tt.finished) {
				t.Errorf("Finished() = %v, want %v", got, tt.finished)
			}
			if got := j.InFlight(); !slices.Equal(got, tt.inFlight) {
				t.Errorf("InFlight() = %v, want %v", got, tt.inFlight)
			}
			if got := j.LastPhase(0); got != tt.lastOfStep0 {
				t.Errorf("LastPhase(0) = %q, want %q", got, tt.lastOfStep0)
			}
		})
	}
}
