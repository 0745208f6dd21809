package planner_test

import (
	"slices"
	"testing"

	"github.com/slipwayhq/slipway/planner"
	"github.com/slipwayhq/slipway/providers"
	"github.com/slipwayhq/slipway/state"
)

// leftover is a running container of release rel of web that an
// interrupted apply started from image id.
func leftover(name string, rel int, id string) providers.Container {
	return providers.Container{ID: "id-" + name, Name: name, Project: "shop", Service: "web", Release: rel, Index: 1,
		ImageID: id, ConfigHash: "interrupted", State: "running", HostAddr: addr(name)}
}

// routeTo makes the route of web in obs send requests to names, in its
// file and in what nginx serves, as an interrupted switch leaves it.
func routeTo(obs *providers.Observations, names ...string) {
	var peers []string
	for _, n := range names {
		peers = append(peers, addr(n))
	}
	slices.Sort(peers)
	r := &obs.Routes[0]
	r.Release, r.Checksum, r.Actual = 9, "sum-interrupted", "sum-interrupted"
	r.Peers = peers
	r.Serving = &providers.Serving{Known: true, Tag: "9/test", Peers: peers}
}

// TestOrphanRouted recovers from interrupted applies whose leftover
// containers nginx still sends requests to: the plan takes them out of the
// routing, drains them, and only then removes them.
func TestOrphanRouted(t *testing.T) {
	const r1, r2 = "shop-web-r1-1 shop-web-r1-2", "shop-web-r2-1 shop-web-r2-2"
	cand := []string{"shop-web-r2-1", "shop-web-r2-2"}
	src := serviceHCL(2, canaryHCL)
	cfg1 := load(t, src)
	s1 := released(t, cfg1)
	// A canary of v2 killed at 50%: its candidate serves half the
	// requests.
	killed := func() *providers.Observations {
		obs := world(s1)
		for _, n := range cand {
			obs.Containers = append(obs.Containers, leftover(n, 2, idV2))
		}
		routeTo(obs, "shop-web-r1-1", "shop-web-r1-2", "shop-web-r2-1", "shop-web-r2-2")
		return obs
	}

	t.Run("rollback", func(t *testing.T) {
		p, diags := planner.Rollback(t.Context(), testOpts(), cfg1, s1, s1, killed())
		if diags.HasErrors() {
			t.Fatal(diags.Error())
		}
		diffLines(t, "steps", kinds(p), []string{"traffic update [" + r1 + "]", "pause", "remove delete " + r2})
		if !p.Steps[1].Drains() || p.Steps[2].ID != "service.web.cleanup.drained" {
			t.Errorf("steps %q, %q: want a drain, then the cleanup", p.Steps[1].Detail, p.Steps[2].ID)
		}
	})

	// The same release resumed adopts the candidate, nothing is removed,
	// and the candidate's share comes back to stable first: the plan's
	// undo removes what it started, and its gates give the share again.
	t.Run("resume", func(t *testing.T) {
		cfg2 := load(t, src, "version=v2")
		obs := killed()
		clean := mustPlan(t, testOpts(), cfg2, s1, world(s1))
		for i, c := range clean.Steps[0].Containers {
			obs.Containers[len(obs.Containers)-2+i].ConfigHash = c.ConfigHash
		}
		p := mustPlan(t, testOpts(), cfg2, s1, obs)
		diffLines(t, "steps", kinds(p), append([]string{"traffic update [" + r1 + "]", "pause"}, kinds(clean)...))
		if !p.Steps[1].Drains() {
			t.Errorf("step after the share came back = %q, want a drain", p.Steps[1].Detail)
		}
	})

	// Another version takes the candidate's names: the candidate leaves
	// the routing and goes before anything starts.
	t.Run("other version", func(t *testing.T) {
		p := mustPlan(t, testOpts(), load(t, src, "version=v3"), s1, killed())
		got := kinds(p)
		diffLines(t, "first steps", got[:4], []string{"traffic update [" + r1 + "]", "pause", "remove delete " + r2, "start create " + r2})
		for i, s := range p.Steps[:3] {
			if s.Compensation != nil {
				t.Errorf("step %d (%s) has a compensation: the release it returns to is the safe state", i, s.ID)
			}
		}
	})

	// A stable replica the interrupted release had stopped is started and
	// health-gated before traffic returns to it.
	t.Run("stable stopped", func(t *testing.T) {
		obs := killed()
		obs.Containers[0].State = "exited"
		p := mustPlan(t, testOpts(), load(t, src, "version=v3"), s1, obs)
		diffLines(t, "first steps", kinds(p)[:5], []string{
			"start create shop-web-r1-1", "health shop-web-r1-1", "traffic update [" + r1 + "]", "pause", "remove delete " + r2})
	})

	// When nginx serves a routing that cannot be read back, every running
	// container of the service may receive requests.
	t.Run("serving unknown", func(t *testing.T) {
		obs := world(s1)
		for _, n := range cand {
			obs.Containers = append(obs.Containers, leftover(n, 2, idV2))
		}
		obs.Routes[0].Serving = &providers.Serving{Tag: "2/abc"}
		p, diags := planner.Rollback(t.Context(), testOpts(), cfg1, s1, s1, obs)
		if diags.HasErrors() {
			t.Fatal(diags.Error())
		}
		diffLines(t, "steps", kinds(p), []string{"traffic update [" + r1 + "]", "pause", "remove delete " + r2})
	})

	// A first release killed once routed: nothing to return to, so its
	// route goes first.
	t.Run("first release", func(t *testing.T) {
		empty := state.New("shop", "")
		obs := world(empty)
		obs.Containers = append(obs.Containers, leftover("shop-web-r1-1", 1, idV1))
		obs.Routes = []providers.RouteFile{{Project: "shop", Service: "web", Path: "conf.d/shop-web.conf", Release: 1, Checksum: "x", Actual: "x"}}
		routeTo(obs, "shop-web-r1-1")
		p, diags := planner.Rollback(t.Context(), testOpts(), cfg1, empty, empty, obs)
		if diags.HasErrors() {
			t.Fatal(diags.Error())
		}
		diffLines(t, "steps", kinds(p), []string{"traffic delete remove-route", "pause", "remove delete shop-web-r1-1"})
		if r := p.Resources; len(r) != 1 || r[0].Address != "service.web" || len(r[0].Steps) != 3 {
			t.Errorf("resources %+v: want service.web owning the three steps", r)
		}
	})

	// A leftover no route sends requests to goes first, as before.
	t.Run("not routed", func(t *testing.T) {
		obs := killed()
		routeTo(obs, "shop-web-r1-1", "shop-web-r1-2")
		p, diags := planner.Rollback(t.Context(), testOpts(), cfg1, s1, s1, obs)
		if diags.HasErrors() {
			t.Fatal(diags.Error())
		}
		diffLines(t, "steps", kinds(p), []string{"remove delete " + r2, "traffic update [" + r1 + "]"})
	})
}
