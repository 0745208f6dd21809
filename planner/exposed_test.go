package planner_test

import (
	"testing"

	"github.com/slipwayhq/slipway/state"
)

// TestExposedPortWarning checks that a service started on a port its
// image does not declare gets a warning, and nothing else changes.
func TestExposedPortWarning(t *testing.T) {
	cfg := load(t, serviceHCL(1, "")) // port 8080
	prior := state.New("shop", "")
	for _, tc := range []struct {
		name    string
		exposed []int
		want    string
	}{
		{"declared", []int{8080}, ""},
		{"declared among others", []int{443, 8080}, ""},
		{"declares nothing", nil, ""},
		{"other port", []int{8000}, "service.web: the image demo:v1 exposes port 8000, not port 8080; if the application listens on 8000, set port = 8000, or the health gate waits for its whole deadline (1m0s) and fails."},
		{"other ports", []int{8000, 9000}, "service.web: the image demo:v1 exposes ports 8000, 9000, not port 8080; if the application listens on one of them, set port to it, or the health gate waits for its whole deadline (1m0s) and fails."},
	} {
		t.Run(tc.name, func(t *testing.T) {
			obs := world(prior)
			obs.ExposedPorts = map[string][]int{"demo:v1": tc.exposed}
			p := mustPlan(t, testOpts(), cfg, prior, obs)
			var want []string
			if tc.want != "" {
				want = []string{tc.want}
			}
			diffLines(t, "warnings", p.Warnings, want)
			if !p.Changed() {
				t.Error("the warning stopped the release")
			}
		})
	}

	// A service the plan does not start has no health gate to wait on.
	s1 := released(t, cfg)
	obs := world(s1)
	obs.ExposedPorts = map[string][]int{"demo:v1": {8000}}
	if p := mustPlan(t, testOpts(), cfg, s1, obs); len(p.Warnings) != 0 {
		t.Errorf("unchanged service warned: %v", p.Warnings)
	}
}
