package planner_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/slipwayhq/slipway/config"
	"github.com/slipwayhq/slipway/planner"
	"github.com/slipwayhq/slipway/providers"
	"github.com/slipwayhq/slipway/state"
)

// benchServices is the size of the generated configuration.
const benchServices = 50

// benchStrategies cycles through the four strategies, so every tenth
// service uses the same one and half the services of each strategy change.
var benchStrategies = []string{
	"blue_green {}",
	"canary {\n    steps    = [5, 25, 50, 100]\n    pause    = \"1m\"\n    analysis = \"standard\"\n  }",
	"rolling {\n    batch_size = 1\n    drain      = \"2s\"\n  }",
	"hotfix {\n    reason = \"bench\"\n  }",
	"blue_green {}",
}

// benchConfig writes a configuration of n routed services with mixed
// strategies, each running slipway-demo:v2, and returns its directory.
func benchConfig(b *testing.B, n int) string {
	b.Helper()
	dir := b.TempDir()
	if err := os.Mkdir(filepath.Join(dir, "conf.d"), 0o755); err != nil {
		b.Fatal(err)
	}
	var sb strings.Builder
	sb.WriteString(`project "bench" {}

nginx {
  config_dir = "conf.d"
}

variable "version" {
  type    = string
  default = "v2"
}

analysis "standard" {
  interval     = "10s"
  min_requests = 20
  error_rate {
    warn     = "1%"
    fail     = "5%"
    warn_for = "30s"
  }
}
`)
	for i := range n {
		fmt.Fprintf(&sb, `
service "svc%02d" {
  image    = "slipway-demo:${var.version}"
  port     = 8080
  replicas = 2
  env = {
    INDEX = "%d"
  }
  route {
    listen      = %d
    server_name = "svc%02d.example.com"
  }
  %s
}
`, i, i, 20000+i, i, benchStrategies[i%len(benchStrategies)])
	}
	if err := os.WriteFile(filepath.Join(dir, "main.hcl"), []byte(sb.String()), 0o644); err != nil {
		b.Fatal(err)
	}
	return dir
}

// benchWorld returns a prior state and matching observations for cfg: every
// service released and live, and every other one running the older image
// slipway-demo:v1, so that half the services change.
func benchWorld(b *testing.B, cfg *config.Config, opts planner.Options) (*state.State, *providers.Observations) {
	b.Helper()
	const newID, oldID = "sha256:2222222222222222222222222222222222222222222222222222222222222222", "sha256:1111111111111111111111111111111111111111111111111111111111111111"
	obs := &providers.Observations{Images: map[string]string{"slipway-demo:v2": newID, "slipway-demo:v1": oldID}}
	first, diags := planner.Plan(context.Background(), opts, cfg, state.New("bench", ""), obs)
	if diags.HasErrors() {
		b.Fatalf("plan the first release: %s", diags.Error())
	}
	prior := state.New("bench", "")
	prior.Lineage = "5f1c0000-0000-4000-8000-000000000000"
	prior.Serial, prior.Release = 7, 3
	for i, svc := range cfg.Services {
		ps := first.Services[svc.Name].DeepCopy()
		ps.Release = 3
		if i%2 == 0 {
			ps.Image, ps.ImageID, ps.Version = "slipway-demo:v1", oldID, "v1"
		}
		sum := fmt.Sprintf("%064x", i)
		ps.RouteFile = filepath.Join(cfg.Dir, "conf.d", "bench-"+svc.Name+".conf")
		ps.RouteChecksum = sum
		for j := range ps.Containers {
			c := &ps.Containers[j]
			c.ID = fmt.Sprintf("%064x", 1000*i+j)
			c.ImageID = ps.ImageID
			c.HostAddr = fmt.Sprintf("127.0.0.1:%d", 30000+2*i+j)
			obs.Containers = append(obs.Containers, providers.Container{
				ID: c.ID, Name: c.Name, Project: "bench", Service: svc.Name, Release: c.Release, Color: c.Color,
				Index: c.Index, ConfigHash: ps.ConfigHash, Image: ps.Image, ImageID: ps.ImageID, State: "running",
				HostAddr: c.HostAddr,
			})
		}
		obs.Routes = append(obs.Routes, providers.RouteFile{Project: "bench", Service: svc.Name, Path: ps.RouteFile,
			Release: 3, Checksum: sum, Actual: sum})
		prior.Services[svc.Name] = ps
	}
	return prior, obs
}

// BenchmarkPlan50 plans a release of a 50-service configuration with mixed
// strategies against a state where half the services run an older image.
// Observations are in memory: no provider is called. Goal: under 50 ms.
func BenchmarkPlan50(b *testing.B) {
	cfg, diags := config.Load(benchConfig(b, benchServices), config.LoadOptions{Environ: []string{}})
	if diags.HasErrors() {
		b.Fatalf("load the generated configuration: %s", diags.Error())
	}
	opts := planner.Options{Now: time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC), SecretKey: []byte("bench-secret-key-0123456789abcdef")}
	prior, obs := benchWorld(b, cfg, opts)

	// The world must be what the benchmark claims: half the services
	// change, the other half are unchanged with no drift to repair.
	p, diags := planner.Plan(context.Background(), opts, cfg, prior, obs)
	if diags.HasErrors() {
		b.Fatalf("plan: %s", diags.Error())
	}
	changed := 0
	for _, r := range p.Resources {
		if !r.Unchanged {
			changed++
			if r.Strategy == "repair" {
				b.Fatalf("%s is planned as a repair: the observations do not match the state", r.Address)
			}
		}
	}
	if changed != benchServices/2 || len(p.Drift) != 0 {
		b.Fatalf("plan changes %d services with %d drift lines, want %d and 0: %v", changed, len(p.Drift), benchServices/2, p.Drift)
	}

	ctx := context.Background()
	b.ReportAllocs()
	cpu0 := cpuTime(b)
	for b.Loop() {
		if _, diags := planner.Plan(ctx, opts, cfg, prior, obs); diags.HasErrors() {
			b.Fatal(diags.Error())
		}
	}
	// CPU time per plan (this process, GC included) is steadier than ns/op
	// on a shared machine, where ns/op also counts time spent waiting for a
	// core.
	b.ReportMetric(float64((cpuTime(b)-cpu0).Microseconds())/1000/float64(b.N), "cpu-ms/op")
	b.ReportMetric(float64(len(p.Steps)), "steps/plan")
}

// cpuTime returns the user and system CPU time this process has used.
func cpuTime(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatalf("getrusage: %v", err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
