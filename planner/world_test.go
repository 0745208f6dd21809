package planner_test

import (
	"context"
	"fmt"
	"hash/fnv"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/hcl/v2"
	"github.com/slipwayhq/slipway/config"
	"github.com/slipwayhq/slipway/planner"
	"github.com/slipwayhq/slipway/planner/plan"
	"github.com/slipwayhq/slipway/providers"
	"github.com/slipwayhq/slipway/state"
)

// Image ids of the two versions the tests release.
const (
	idV1 = "sha256:1111111111111111111111111111111111111111111111111111111111111111"
	idV2 = "sha256:2222222222222222222222222222222222222222222222222222222222222222"
	idV3 = "sha256:3333333333333333333333333333333333333333333333333333333333333333"
)

// images maps every reference the tests use to its id.
var images = map[string]string{"demo:v1": idV1, "demo:v2": idV2, "demo:v3": idV3}

// testOpts are deterministic planner options.
func testOpts() planner.Options {
	return planner.Options{Now: time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC), SecretKey: []byte("test-secret-key-0123456789abcdef")}
}

// serviceHCL is a configuration of one routed service "web" of project
// "shop" running demo:${var.version}; strategy is the body of the service
// after its route (a strategy block and anything else).
func serviceHCL(replicas int, strategy string) string {
	return fmt.Sprintf(`project "shop" {}

nginx {
  config_dir = "conf.d"
}

variable "version" {
  type    = string
  default = "v1"
}

analysis "standard" {
  interval     = "10s"
  min_requests = 20
  error_rate {
    warn     = "1%%"
    fail     = "5%%"
    warn_for = "30s"
  }
}

service "web" {
  image    = "demo:${var.version}"
  port     = 8080
  replicas = %d
  route {
    listen      = 8081
    server_name = "shop.example.com"
  }
  %s
}
`, replicas, strategy)
}

// load writes src as main.hcl into a temporary directory and loads it with
// the given -var options.
func load(t *testing.T, src string, vars ...string) *config.Config {
	t.Helper()
	dir := t.TempDir()
	if err := os.Mkdir(filepath.Join(dir, "conf.d"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "main.hcl"), []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg, diags := config.Load(dir, config.LoadOptions{Vars: vars, Environ: []string{}})
	if diags.HasErrors() {
		t.Fatalf("load config: %s", diags.Error())
	}
	return cfg
}

// mustPlan plans and fails the test on error diagnostics.
func mustPlan(t *testing.T, opts planner.Options, cfg *config.Config, prior *state.State, obs *providers.Observations) *plan.Plan {
	t.Helper()
	p, diags := planner.Plan(context.Background(), opts, cfg, prior, obs)
	if diags.HasErrors() {
		t.Fatalf("plan: %s", diags.Error())
	}
	return p
}

// settle returns the state a successful apply of p leaves after prior, as
// the executor builds it: the plan's services with container ids,
// addresses and route files filled in.
func settle(p *plan.Plan, prior *state.State) *state.State {
	next := prior.DeepCopy()
	if next.Lineage == "" {
		next.Lineage = "5f1c0000-0000-4000-8000-000000000000"
	}
	next.Serial++
	next.Release = p.Release
	next.ConfigHash = p.ConfigHash
	for name, s := range p.Services {
		if s == nil {
			delete(next.Services, name)
			continue
		}
		c := s.DeepCopy()
		for i := range c.Containers {
			ct := &c.Containers[i]
			ct.ID = "id-" + ct.Name
			ct.HostAddr = addr(ct.Name)
		}
		for _, st := range p.Steps {
			if st.Traffic != nil && st.Traffic.Route.Service == name && !st.Traffic.Remove {
				c.RouteFile = "conf.d/shop-" + name + ".conf"
				c.RouteChecksum = fmt.Sprintf("sum-r%d", p.Release)
			}
		}
		next.Services[name] = c
	}
	return next
}

// addr is the made-up published address of a container, one per name.
func addr(name string) string {
	h := fnv.New32a()
	h.Write([]byte(name))
	return "127.0.0.1:" + fmt.Sprint(20000+h.Sum32()%40000)
}

// world returns observations in which st is exactly live: its containers
// running, kept previous containers running or stopped as recorded, its
// route files as rendered, routing to its containers, and nginx serving
// them.
func world(st *state.State) *providers.Observations {
	obs := &providers.Observations{Images: map[string]string{}, ImageIDs: map[string]bool{}}
	for ref, id := range images {
		obs.Images[ref] = id
		obs.ImageIDs[id] = true
	}
	for _, name := range slices.Sorted(maps.Keys(st.Services)) {
		s := st.Services[name]
		for _, c := range s.Containers {
			obs.Containers = append(obs.Containers, live(st, s, c, s.ConfigHash, "running"))
		}
		if pp := s.Previous; pp != nil {
			status := "running"
			if pp.Kept == state.KeptStopped {
				status = "exited"
			}
			for _, c := range pp.Containers {
				obs.Containers = append(obs.Containers, live(st, s, c, "old", status))
			}
		}
		if s.RouteFile != "" {
			var peers []string
			for _, c := range s.Containers {
				peers = append(peers, addr(c.Name))
			}
			slices.Sort(peers)
			obs.Routes = append(obs.Routes, providers.RouteFile{Project: st.Project, Env: st.Env, Service: name,
				Path: s.RouteFile, Release: s.Release, Checksum: s.RouteChecksum, Actual: s.RouteChecksum,
				Peers: peers, Serving: &providers.Serving{Known: true, Tag: fmt.Sprintf("%d/test", s.Release), Peers: peers}})
		}
	}
	return obs
}

func live(st *state.State, s *state.Service, c state.Container, hash, status string) providers.Container {
	return providers.Container{ID: "id-" + c.Name, Name: c.Name, Project: st.Project, Env: st.Env, Service: s.Name,
		Release: c.Release, Color: c.Color, Index: c.Index, ConfigHash: hash, ImageID: c.ImageID, State: status,
		HostAddr: addr(c.Name)}
}

// released plans and settles cfg's first release from an empty state.
func released(t *testing.T, cfg *config.Config) *state.State {
	t.Helper()
	prior := state.New("shop", "")
	return settle(mustPlan(t, testOpts(), cfg, prior, world(prior)), prior)
}

// kinds lists each step as "kind action" or "kind" for no-op steps, with
// its target, for comparisons that read like the plan.
func kinds(p *plan.Plan) []string {
	out := make([]string, len(p.Steps))
	for i, s := range p.Steps {
		out[i] = stepLine(s)
	}
	return out
}

func stepLine(s *plan.Step) string {
	line := s.Kind.String()
	if s.Action != plan.NoOp {
		line += " " + s.Action.String()
	}
	if s.Traffic != nil {
		if s.Traffic.Remove {
			return line + " remove-route"
		}
		line += " [" + strings.Join(s.Traffic.Stable, " ") + "]"
		if len(s.Traffic.Candidate) > 0 {
			line += fmt.Sprintf(" %d%%[%s]", s.Traffic.CandidateWeight, strings.Join(s.Traffic.Candidate, " "))
		}
		return line
	}
	if len(s.Containers) > 0 {
		var n []string
		for _, c := range s.Containers {
			n = append(n, c.Name)
		}
		return line + " " + strings.Join(n, " ")
	}
	if len(s.Names) > 0 {
		return line + " " + strings.Join(s.Names, " ")
	}
	return line
}

// compLine renders a step's compensation, "" when it has none.
func compLine(s *plan.Step) string {
	if s.Compensation == nil {
		return ""
	}
	return stepLine(s.Compensation)
}

// hasDiag reports whether diags hold an error with summary.
func hasDiag(diags hcl.Diagnostics, summary string) bool {
	for _, d := range diags {
		if d.Severity == hcl.DiagError && d.Summary == summary {
			return true
		}
	}
	return false
}

// diffLines fails the test with both lists when they differ.
func diffLines(t *testing.T, what string, got, want []string) {
	t.Helper()
	if !slices.Equal(got, want) {
		t.Errorf("%s:\ngot:\n  %s\nwant:\n  %s", what, strings.Join(got, "\n  "), strings.Join(want, "\n  "))
	}
}
