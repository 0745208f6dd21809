package planner_test

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"slices"
	"strings"
	"testing"

	"github.com/slipwayhq/slipway/planner"
	"github.com/slipwayhq/slipway/planner/plan"
	"github.com/slipwayhq/slipway/providers"
	"github.com/slipwayhq/slipway/state"
)

func driftLines(p *plan.Plan) []string {
	var out []string
	for _, d := range p.Drift {
		out = append(out, d.Address+": "+d.Detail)
	}
	return out
}

// TestDrift changes the live world of a released service behind slipway's
// back and checks the drift lines and the repair steps.
func TestDrift(t *testing.T) {
	tests := []struct {
		name      string
		edit      func(obs *providers.Observations)
		wantDrift []string
		wantSteps []string
	}{
		{
			name: "container removed",
			edit: func(obs *providers.Observations) {
				obs.Containers = slices.DeleteFunc(obs.Containers, func(c providers.Container) bool { return c.Name == "shop-web-r1-2" })
			},
			wantDrift: []string{"service.web: container shop-web-r1-2 was removed outside slipway"},
			wantSteps: []string{
				"start create shop-web-r1-2",
				"health shop-web-r1-2",
				"traffic update [shop-web-r1-1 shop-web-r1-2]",
			},
		},
		{
			name:      "container stopped",
			edit:      func(obs *providers.Observations) { obs.Containers[0].State = "exited" },
			wantDrift: []string{"service.web: container shop-web-r1-1 is exited, not running"},
			wantSteps: []string{
				"start create shop-web-r1-1",
				"health shop-web-r1-1",
				"traffic update [shop-web-r1-1 shop-web-r1-2]",
			},
		},
		{
			name:      "route edited",
			edit:      func(obs *providers.Observations) { obs.Routes[0].Actual = "edited" },
			wantDrift: []string{"service.web: nginx file conf.d/shop-web.conf was edited outside slipway"},
			wantSteps: []string{"traffic update [shop-web-r1-1 shop-web-r1-2]"},
		},
		{
			name: "route rewritten",
			edit: func(obs *providers.Observations) {
				obs.Routes[0].Release, obs.Routes[0].Checksum, obs.Routes[0].Actual = 2, "sum-r2", "sum-r2"
			},
			wantDrift: []string{"service.web: nginx file conf.d/shop-web.conf is slipway's routing of release #2, not the one the state records (an interrupted or undone operation wrote it)"},
			wantSteps: []string{"traffic update [shop-web-r1-1 shop-web-r1-2]"},
		},
		{
			// The file is right, but nginx answers with another tag: a
			// reload interrupted after the file was restored.
			name:      "route served otherwise",
			edit:      func(obs *providers.Observations) { obs.Routes[0].Serving = &providers.Serving{Tag: "2/abc"} },
			wantDrift: []string{"service.web: nginx serves a routing other than its file's (release tag 2/abc; a switch was interrupted): every container of the service may receive requests"},
			wantSteps: []string{"traffic update [shop-web-r1-1 shop-web-r1-2]"},
		},
		{
			// The file is right, but nginx's live table sends half the
			// requests elsewhere: a dynamic switch interrupted between
			// restoring the file and the table.
			name: "live table differs",
			edit: func(obs *providers.Observations) {
				s := *obs.Routes[0].Serving
				s.Peers = append(slices.Clone(s.Peers), "127.0.0.1:1")
				obs.Routes[0].Serving = &s
			},
			wantSteps: []string{"traffic update [shop-web-r1-1 shop-web-r1-2]"},
		},
		{
			name:      "route removed",
			edit:      func(obs *providers.Observations) { obs.Routes = nil },
			wantDrift: []string{"service.web: nginx file conf.d/shop-web.conf was removed outside slipway"},
			wantSteps: []string{"traffic update [shop-web-r1-1 shop-web-r1-2]"},
		},
		{
			name:      "container restarted on another port",
			edit:      func(obs *providers.Observations) { obs.Containers[1].HostAddr = "127.0.0.1:45678" },
			wantDrift: []string{"service.web: container shop-web-r1-2 answers on 127.0.0.1:45678, not on " + addr("shop-web-r1-2") + " where nginx sends it requests (restarted on another port)"},
			wantSteps: []string{"traffic update [shop-web-r1-1 shop-web-r1-2]"},
		},
		{
			name: "orphan container",
			edit: func(obs *providers.Observations) {
				obs.Containers = append(obs.Containers, providers.Container{Name: "shop-web-r7-1", Project: "shop", Service: "web",
					Release: 7, ImageID: idV2, ConfigHash: "other", State: "running"})
			},
			wantDrift: []string{"service.web: container shop-web-r7-1 is not in the state (left by an interrupted apply, or made by hand)"},
			wantSteps: []string{"remove delete shop-web-r7-1"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := load(t, serviceHCL(2, ""))
			s1 := released(t, cfg)
			obs := world(s1)
			tt.edit(obs)
			p := mustPlan(t, testOpts(), cfg, s1, obs)
			diffLines(t, "drift", driftLines(p), tt.wantDrift)
			diffLines(t, "steps", kinds(p), tt.wantSteps)
			if r := p.Resources[0]; r.Unchanged || len(r.Steps) != len(p.Steps) {
				t.Errorf("resource %+v does not own the repair steps", r)
			}
			for _, s := range p.Steps {
				for _, c := range s.Containers {
					if c.Release != 1 || c.ImageID != idV1 || c.ConfigHash != s1.Services["web"].ConfigHash {
						t.Errorf("repair recreates %s as release %d from %s (hash %s), want release 1 as it was", c.Name, c.Release, c.ImageID, c.ConfigHash)
					}
				}
			}
		})
	}
}

func TestDriftKeptContainerRemoved(t *testing.T) {
	s1 := released(t, load(t, serviceHCL(1, "")))
	cfg2 := load(t, serviceHCL(1, ""), "version=v2")
	s2 := settle(mustPlan(t, testOpts(), cfg2, s1, world(s1)), s1)
	obs := world(s2)
	obs.Containers = slices.DeleteFunc(obs.Containers, func(c providers.Container) bool { return c.Name == "shop-web-r1-1" })
	p := mustPlan(t, testOpts(), cfg2, s2, obs)
	diffLines(t, "drift", driftLines(p), []string{
		"service.web: kept container shop-web-r1-1 of release #1 was removed outside slipway (rollback will recreate it)",
	})
	if p.Changed() {
		t.Errorf("a missing kept container is repaired by a release: %v", kinds(p))
	}
}

// TestOrphanAdopted resumes an interrupted release: a leftover container
// that is exactly one the plan starts is kept, one that differs is removed
// before anything starts.
func TestOrphanAdopted(t *testing.T) {
	src := serviceHCL(2, "")
	s1 := released(t, load(t, src))
	cfg2 := load(t, src, "version=v2")
	clean := mustPlan(t, testOpts(), cfg2, s1, world(s1))
	spec := clean.Steps[0].Containers[0]

	tests := []struct {
		name      string
		imageID   string
		hash      string
		wantFirst string
	}{
		{"same", spec.ImageID, spec.ConfigHash, "start create shop-web-r2-1 shop-web-r2-2"},
		{"other config", spec.ImageID, "0000", "remove delete shop-web-r2-1"},
		{"other image", idV3, spec.ConfigHash, "remove delete shop-web-r2-1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			obs := world(s1)
			obs.Containers = append(obs.Containers, providers.Container{Name: spec.Name, Project: "shop", Service: "web",
				Release: 2, Index: 1, ImageID: tt.imageID, ConfigHash: tt.hash, State: "running", HostAddr: "127.0.0.1:40000"})
			p := mustPlan(t, testOpts(), cfg2, s1, obs)
			got := kinds(p)
			if got[0] != tt.wantFirst {
				t.Errorf("first step = %q, want %q (all: %v)", got[0], tt.wantFirst, got)
			}
			if tt.wantFirst == "start create shop-web-r2-1 shop-web-r2-2" {
				diffLines(t, "steps", got, kinds(clean))
			} else {
				diffLines(t, "steps after the cleanup", got[1:], kinds(clean))
				if p.Steps[0].ID != "service.web.cleanup" || p.Steps[0].Index != 0 || !slices.Contains(p.Resources[0].Steps, 0) {
					t.Errorf("cleanup step %+v is not the resource's first step %v", p.Steps[0], p.Resources[0].Steps)
				}
			}
			for i, s := range p.Steps {
				if s.Index != i {
					t.Errorf("step %s has Index %d at %d", s.ID, s.Index, i)
				}
			}
		})
	}
}

const secretHCL = `
variable "secret" {
  type      = string
  sensitive = true
}
`

// TestSensitiveEnv checks that the plan keeps HMACs, not values, and that
// a changed sensitive value alone makes a new release.
func TestSensitiveEnv(t *testing.T) {
	const a = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	const b = "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
	src := serviceHCL(1, "env = {\n    SECRET = var.secret\n    MODE   = var.mode\n  }") + secretHCL + `
variable "mode" {
  type    = string
  default = "fast"
}
`
	opts := testOpts()
	cfgA := load(t, src, "secret="+a)
	prior := state.New("shop", "")
	p1 := mustPlan(t, opts, cfgA, prior, world(prior))
	m := hmac.New(sha256.New, opts.SecretKey)
	m.Write([]byte(a))
	if got, want := p1.Secrets["service.web.env.SECRET"], hex.EncodeToString(m.Sum(nil)); got != want {
		t.Errorf("secret HMAC = %q, want %q", got, want)
	}
	if _, ok := p1.Secrets["service.web.env.MODE"]; ok {
		t.Errorf("a plain value has an HMAC")
	}
	for id, v := range p1.Secrets {
		if strings.Contains(v, a) {
			t.Errorf("Secrets[%s] holds the value", id)
		}
	}
	s1 := settle(p1, prior)
	if strings.Contains(s1.Services["web"].ConfigHash, a) {
		t.Errorf("config hash holds the value")
	}

	tests := []struct {
		name        string
		vars        []string
		wantRelease bool
	}{
		{"same secret", []string{"secret=" + a}, false},
		{"changed secret", []string{"secret=" + b}, true},
		{"changed plain value", []string{"secret=" + a, "mode=slow"}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := mustPlan(t, opts, load(t, src, tt.vars...), s1, world(s1))
			if p.Changed() != tt.wantRelease {
				t.Fatalf("changed = %v, want %v: %v", p.Changed(), tt.wantRelease, kinds(p))
			}
			if tt.wantRelease && (p.Steps[0].Kind != plan.KindStart || p.Services["web"].ConfigHash == s1.Services["web"].ConfigHash) {
				t.Errorf("release does not start new containers with a new config hash: %v", kinds(p))
			}
		})
	}

	// Another key gives other HMACs (and so other hashes) for one value.
	other := opts
	other.SecretKey = []byte("another-key")
	if p := mustPlan(t, other, cfgA, prior, world(prior)); p.Secrets["service.web.env.SECRET"] == p1.Secrets["service.web.env.SECRET"] {
		t.Errorf("the HMAC does not depend on the key")
	}
}

func TestFingerprint(t *testing.T) {
	s1 := released(t, load(t, serviceHCL(2, "")))
	base := planner.Fingerprint(world(s1))
	if base == "" || planner.Fingerprint(nil) != "" {
		t.Fatalf("Fingerprint = %q, of nil %q", base, planner.Fingerprint(nil))
	}
	tests := []struct {
		name string
		edit func(obs *providers.Observations)
		same bool
	}{
		{"nothing", func(*providers.Observations) {}, true},
		{"containers reordered", func(o *providers.Observations) { slices.Reverse(o.Containers) }, true},
		{"container stopped", func(o *providers.Observations) { o.Containers[0].State = "exited" }, false},
		{"container recreated", func(o *providers.Observations) { o.Containers[0].ID = "other" }, false},
		{"container image", func(o *providers.Observations) { o.Containers[0].ImageID = idV3 }, false},
		{"container address", func(o *providers.Observations) { o.Containers[0].HostAddr = "127.0.0.1:1" }, false},
		{"container removed", func(o *providers.Observations) { o.Containers = o.Containers[1:] }, false},
		{"route edited", func(o *providers.Observations) { o.Routes[0].Actual = "edited" }, false},
		{"route removed", func(o *providers.Observations) { o.Routes = nil }, false},
		{"image moved", func(o *providers.Observations) { o.Images["demo:v1"] = idV3 }, false},
	}
	for _, tt := range tests {
		obs := world(s1)
		tt.edit(obs)
		if got := planner.Fingerprint(obs); (got == base) != tt.same {
			t.Errorf("%s: fingerprint unchanged = %v, want %v", tt.name, got == base, tt.same)
		}
	}
}
