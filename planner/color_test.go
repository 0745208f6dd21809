package planner_test

import "testing"

// TestCanaryColorsAlternate: each canary release's containers take the
// other color than the ones serving, so stable and candidate never share
// one (in labels, SLIPWAY_COLOR, or plan text), release after release.
func TestCanaryColorsAlternate(t *testing.T) {
	src := serviceHCL(1, canaryHCL)
	st := released(t, load(t, src))
	want := []string{"green", "blue", "green"}
	for i, version := range []string{"v2", "v3", "v2"} {
		cfg := load(t, src, "version="+version)
		p := mustPlan(t, testOpts(), cfg, st, world(st))
		old := st.Services["web"].Containers[0].Color
		got := p.Services["web"].Containers[0].Color
		if got != want[i] || got == old {
			t.Errorf("release of %s: candidate color %q beside stable %q, want %q", version, got, old, want[i])
		}
		st = settle(p, st)
	}
}
