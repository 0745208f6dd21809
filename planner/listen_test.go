package planner_test

import (
	"testing"

	"github.com/hashicorp/hcl/v2"
	"github.com/slipwayhq/slipway/planner"
	"github.com/slipwayhq/slipway/providers"
	"github.com/slipwayhq/slipway/state"
)

// TestListenPortInUse checks that a route whose port another program
// holds is refused before any change, naming the program when known, and
// that a port nginx holds itself, a free one, or one nobody checked, is
// fine.
func TestListenPortInUse(t *testing.T) {
	cfg := load(t, serviceHCL(1, ""))
	prior := state.New("shop", "")
	for _, tc := range []struct {
		name   string
		listen map[int]providers.ListenPort
		detail string // "" when the plan succeeds
	}{
		{"not checked", nil, ""},
		{"free", map[int]providers.ListenPort{8081: {Address: "127.0.0.1:8081"}}, ""},
		{"nginx's", map[int]providers.ListenPort{8081: {Address: "127.0.0.1:8081", Taken: true, Router: true, PID: 7, Command: "nginx"}}, ""},
		{"another port taken", map[int]providers.ListenPort{9999: {Address: "127.0.0.1:9999", Taken: true}}, ""},
		{"another program", map[int]providers.ListenPort{8081: {Address: "127.0.0.1:8081", Taken: true, PID: 1234, Command: "python3"}},
			"The route of service.web listens on 127.0.0.1:8081, which another program (pid 1234 python3) already uses: pick another port or stop it. Nothing was changed."},
		{"unknown program", map[int]providers.ListenPort{8081: {Address: "0.0.0.0:8081", Taken: true}},
			"The route of service.web listens on 0.0.0.0:8081, which another program already uses: pick another port or stop it. Nothing was changed."},
	} {
		t.Run(tc.name, func(t *testing.T) {
			obs := world(prior)
			obs.Listen = tc.listen
			p, diags := planner.Plan(t.Context(), testOpts(), cfg, prior, obs)
			if tc.detail == "" {
				if diags.HasErrors() || p == nil {
					t.Fatalf("plan failed: %v", diags)
				}
				return
			}
			if p != nil || len(diags) != 1 || diags[0].Severity != hcl.DiagError || diags[0].Summary != "Listen Port In Use" {
				t.Fatalf("plan = %v, diagnostics %v; want one Listen Port In Use error", p, diags)
			}
			if diags[0].Detail != tc.detail {
				t.Errorf("detail:\n got %s\nwant %s", diags[0].Detail, tc.detail)
			}
			if s := diags[0].Subject; s == nil || s.Filename == "" || s.Start.Line == 0 {
				t.Errorf("diagnostic does not point at the route block: %v", s)
			}
		})
	}
}
