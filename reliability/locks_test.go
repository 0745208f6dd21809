package reliability

import (
	"fmt"
	"regexp"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/slipwayhq/slipway/state/local"
	"github.com/slipwayhq/slipway/state/records"
)

const locksHCL = `project "${PROJECT}" {}
` + routeHCL + `
variable "n" {
  type    = string
  default = "0"
}

service "web" {
  image    = "slipway-demo:v1"
  port     = 8080
  env = {
    RUN = var.n
  }
  health {
    interval = "200ms"
  }
  route {
    listen = ${PORT}
  }
  blue_green {}
}
`

// applyAtOnce starts one apply per value of n at the same moment, each a
// release of its own (n changes the container's environment), and returns
// how each ended.
func applyAtOnce(w *world, extra ...string) []result {
	var wg sync.WaitGroup
	start := make(chan struct{})
	out := make([]result, 5)
	for i := range out {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			out[i] = w.run(nil, append([]string{"apply", "-auto-approve", "-var", fmt.Sprintf("n=%d", i+1)}, extra...)...)
		}()
	}
	close(start)
	wg.Wait()
	return out
}

// TestLocksFiveApplies starts five applies at once against one state:
// without -lock-timeout exactly one runs and the others fail at once with
// the holder's lock info; with it they all run, one after another, and
// the history is one line: each release follows the one before, with a
// snapshot each and state serials that only grow.
func TestLocksFiveApplies(t *testing.T) {
	w := newWorld(t, locksHCL, worldOpts{})
	w.must(0, "apply", "-auto-approve")

	t.Run("fail at once", func(t *testing.T) {
		rs := applyAtOnce(w)
		ran := 0
		for _, r := range rs {
			switch {
			case r.code == 0:
				ran++
			case r.code == 1 && strings.Contains(r.stderr, "the state is locked by another slipway") &&
				regexp.MustCompile(`ID: +\S+`).MatchString(r.stderr) && regexp.MustCompile(`PID: +[1-9]`).MatchString(r.stderr) &&
				strings.Contains(r.stderr, "-lock-timeout"):
				if strings.Contains(r.stdout, "Release #") {
					t.Errorf("a refused apply printed a release:\n%s", r)
				}
			default:
				t.Errorf("neither ran nor was refused with the lock info:\n%s", r)
			}
		}
		if ran != 1 {
			t.Fatalf("%d of 5 applies ran, want exactly 1", ran)
		}
		st, err := w.readState()
		if err != nil || st.Release != 2 {
			t.Fatalf("after one of five: release %d (%v), want 2", st.Release, err)
		}
	})

	t.Run("wait in turn", func(t *testing.T) {
		for _, r := range applyAtOnce(w, "-lock-timeout", "5m") {
			if r.code != 0 {
				t.Fatalf("an apply that waited for the lock failed:\n%s", r)
			}
		}
		st, err := w.readState()
		if err != nil {
			t.Fatal(err)
		}
		// Each waiting apply planned only once it held the lock, so each
		// made a release of its own (or found its n live already).
		if st.Release < 6 || st.Release > 7 {
			t.Fatalf("release %d after 1 + 1 + 5 applies", st.Release)
		}
		checkLinearHistory(t, w, st.Release)
	})
}

// checkLinearHistory proves that releases 1..last form one line: a
// snapshot for each, serials that grow with the release, and one apply
// record per release whose prior release is the one before it.
func checkLinearHistory(t *testing.T, w *world, last int) {
	t.Helper()
	b, err := local.Open(w.stateDir(), "")
	if err != nil {
		t.Fatal(err)
	}
	snaps, err := b.Snapshots()
	if err != nil {
		t.Fatal(err)
	}
	if len(snaps) != last {
		t.Fatalf("snapshots %v, want 1..%d", snaps, last)
	}
	var serial uint64
	for i, n := range snaps {
		if n != i+1 {
			t.Fatalf("snapshots %v skip or repeat a release", snaps)
		}
		s, err := b.Snapshot(n)
		if err != nil {
			t.Fatal(err)
		}
		if s.Release != n || s.Serial <= serial && i > 0 {
			t.Fatalf("snapshot %d: release %d serial %d after serial %d", n, s.Release, s.Serial, serial)
		}
		serial = s.Serial
	}
	recs, err := records.List(b.RecordsDir())
	if err != nil {
		t.Fatal(err)
	}
	byRelease := map[int]*records.Record{}
	for _, r := range recs {
		if r.Result != "succeeded" {
			continue
		}
		if prev, ok := byRelease[r.Release]; ok {
			t.Fatalf("release %d was made twice: %s and %s (a fork)", r.Release, prev.ID, r.ID)
		}
		byRelease[r.Release] = r
	}
	rels := make([]int, 0, len(byRelease))
	for n, r := range byRelease {
		if r.PriorRelease != n-1 {
			t.Fatalf("release %d follows %d, not %d (a fork)", n, r.PriorRelease, n-1)
		}
		rels = append(rels, n)
	}
	sort.Ints(rels)
	if len(rels) != last {
		t.Fatalf("succeeded records for releases %v, want 1..%d", rels, last)
	}
}
