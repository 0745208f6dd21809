package local

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"testing"

	"github.com/slipwayhq/slipway/state"
)

func released(n int) *state.State {
	s := state.New("thebot", "")
	s.Lineage = "5f1c2b3a-0000-4000-8000-000000000001"
	s.Serial = uint64(n * 2)
	s.Release = n
	s.Services["web"] = &state.Service{Name: "web", Image: "web:" + string(rune('0'+n)), Release: n}
	return s
}

func TestSnapshots(t *testing.T) {
	b := open(t, "")
	if got, err := b.Snapshots(); err != nil || got != nil {
		t.Fatalf("Snapshots of nothing = %v, %v", got, err)
	}
	for _, n := range []int{3, 1, 2} {
		path, err := b.WriteSnapshot(released(n))
		if err != nil {
			t.Fatal(err)
		}
		if path != filepath.Join(b.Dir(), "snapshots", []string{"", "1", "2", "3"}[n]+".json") {
			t.Fatalf("snapshot path %q", path)
		}
		if p := perm(t, path); p != 0o600 {
			t.Fatalf("snapshot mode %04o, want 0600", p)
		}
	}
	if p := perm(t, filepath.Join(b.Dir(), "snapshots")); p != 0o700 {
		t.Fatalf("snapshots directory mode %04o, want 0700", p)
	}
	// Files that are not snapshots are ignored.
	for _, name := range []string{"notes.txt", "01.json", "x.json", "0.json"} {
		os.WriteFile(filepath.Join(b.Dir(), "snapshots", name), nil, 0o600)
	}
	got, err := b.Snapshots()
	if err != nil || !slices.Equal(got, []int{1, 2, 3}) {
		t.Fatalf("Snapshots() = %v, %v, want [1 2 3]", got, err)
	}
	s, err := b.Snapshot(2)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(s, released(2)) {
		t.Fatalf("Snapshot(2) = %+v", s)
	}
	if _, err := b.Snapshot(9); !errors.Is(err, ErrNoSnapshot) {
		t.Fatalf("Snapshot(9): error %v, want ErrNoSnapshot", err)
	}
}

func TestSnapshotIsImmutable(t *testing.T) {
	b := open(t, "")
	path, err := b.WriteSnapshot(released(1))
	if err != nil {
		t.Fatal(err)
	}
	before, _ := os.ReadFile(path)
	if _, err := b.WriteSnapshot(released(1)); err != nil {
		t.Fatalf("rewriting the same snapshot: %v", err)
	}
	changed := released(1)
	changed.Services["web"].Image = "web:evil"
	if _, err := b.WriteSnapshot(changed); !errors.Is(err, ErrSnapshotExists) {
		t.Fatalf("overwriting a snapshot: error %v, want ErrSnapshotExists", err)
	}
	after, _ := os.ReadFile(path)
	if string(before) != string(after) {
		t.Fatal("a snapshot changed")
	}
	if names := listDir(t, filepath.Dir(path)); !slices.Equal(names, []string{"1.json"}) {
		t.Fatalf("snapshots directory holds %v (temporary files left?)", names)
	}
	if _, err := b.WriteSnapshot(state.New("p", "")); err == nil {
		t.Fatal("WriteSnapshot of release 0 succeeded")
	}
}

func TestPruneSnapshots(t *testing.T) {
	tests := []struct {
		keep    int
		want    []int
		wantErr bool
	}{
		{keep: 0, want: []int{1, 2, 3, 4}, wantErr: true},
		{keep: 1, want: []int{4}},
		{keep: 2, want: []int{3, 4}},
		{keep: 4, want: []int{1, 2, 3, 4}},
		{keep: 10, want: []int{1, 2, 3, 4}},
	}
	for _, tt := range tests {
		b := open(t, "")
		for n := 1; n <= 4; n++ {
			if _, err := b.WriteSnapshot(released(n)); err != nil {
				t.Fatal(err)
			}
		}
		err := b.PruneSnapshots(tt.keep)
		if (err != nil) != tt.wantErr {
			t.Fatalf("PruneSnapshots(%d) error = %v", tt.keep, err)
		}
		if got, _ := b.Snapshots(); !slices.Equal(got, tt.want) {
			t.Fatalf("after PruneSnapshots(%d): %v, want %v", tt.keep, got, tt.want)
		}
	}
}
