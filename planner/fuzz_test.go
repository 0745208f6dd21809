package planner_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/slipwayhq/slipway/config"
	"github.com/slipwayhq/slipway/internal/confgen"
	"github.com/slipwayhq/slipway/planner"
	"github.com/slipwayhq/slipway/planner/planfile"
	"github.com/slipwayhq/slipway/providers/nginx"
	"github.com/slipwayhq/slipway/state"
)

// FuzzWholeConfig runs what plan runs over whole configurations: the
// fuzzed choices drive internal/confgen's generator (every block, valid
// and invalid values, -var options) and the fuzzed text is a second file
// of the same directory. validate (config.Load) runs on it; a
// configuration it accepts is planned against a fake world (a first
// release, then again from the state that release leaves), its plan file
// written and read back, and every route rendered, reload and dynamic.
// Nothing may panic; with no second file, what validate accepts must also
// plan, and in every case what plans must render.
func FuzzWholeConfig(f *testing.F) {
	f.Add([]byte{}, []byte{})
	f.Add([]byte{0, 0, 0, 1, 2, 1, 1, 3, 2, 1}, []byte{})
	f.Add([]byte{2, 1, 1, 2, 0, 5, 7, 1, 1, 1, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}, []byte("service \"extra\" {\n  image = \"demo:v9\"\n  port  = 9000\n  route {\n    listen = 18099\n  }\n}\n"))
	f.Add([]byte{3, 200, 7, 3, 9, 1, 250, 13, 4, 99, 12, 31, 2, 2, 2, 2}, []byte("locals { n = 3 }\nanalysis \"b\" {\n  error_rate { fail = \"5%\" }\n}\n"))
	f.Add([]byte{}, []byte("analysis \"b\" {\n  error_rate { fail = \"NaN%\" }\n}\n"))
	f.Add([]byte{1, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 2, 1}, []byte("notify \"x\" { webhook = \"https://h/x\" }\n"))
	f.Fuzz(func(t *testing.T, choices, extra []byte) {
		wholeConfig(t, choices, extra)
	})
}

// TestWholeConfigRenders proves the fuzz target's own layout passes
// validate: with no choices every value is the first of its valid pool,
// and the configuration must come out planned and rendered.
func TestWholeConfigRenders(t *testing.T) {
	if n := wholeConfig(t, nil, nil); n == 0 {
		t.Fatal("the all-valid generated configuration rendered no route")
	}
}

// wholeConfig is one run of FuzzWholeConfig; it returns how many routes it
// rendered.
func wholeConfig(t *testing.T, choices, extra []byte) int {
	t.Helper()
	// Not t.TempDir: a fuzz seed's name holds '#', which no admin_dir
	// may, so every seed would stop at validate.
	dir, err := os.MkdirTemp("", "slipway-fuzz-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.RemoveAll(dir) })
	cs := confgen.Generate(confgen.NewBytes(choices), confgen.Options{
		Dir: dir, CertFile: filepath.Join(dir, "cert.pem"), KeyFile: filepath.Join(dir, "key.pem"), ListenBase: 18080, Dynamic: true,
	})
	if len(extra) > 0 {
		cs.Files["extra.hcl"] = string(extra)
	}
	if err := cs.Write(dir); err != nil {
		t.Fatal(err)
	}
	cfg, diags := config.Load(dir, config.LoadOptions{Vars: cs.Vars, Environ: []string{}})
	if cfg == nil || cfg.Files == nil {
		t.Fatalf("Load returned no Config or Files (diags %v)", diags)
	}
	if diags.HasErrors() {
		return 0
	}
	_ = cfg.Hash()
	_ = cfg.SensitiveValues()

	ctx := context.Background()
	prior := state.New(cfg.Project.Name, "")
	obs := confgen.Observations(cfg)
	p, diags := planner.Plan(ctx, confgen.PlanOptions(), cfg, prior, obs)
	if diags.HasErrors() {
		if len(extra) == 0 {
			t.Fatalf("validate accepted the configuration, plan refused it: %s\n%s", diags.Error(), cs.Files["main.hcl"])
		}
		return 0
	}
	var buf bytes.Buffer
	if err := planfile.Write(&buf, p); err != nil {
		t.Fatalf("write plan file: %v", err)
	}
	if _, err := planfile.Read(&buf); err != nil {
		t.Fatalf("read back plan file: %v", err)
	}
	s1 := settle(p, prior)
	w := world(s1)
	for ref, id := range obs.Images {
		w.Images[ref], w.ImageIDs[id] = id, true
	}
	if _, diags := planner.Plan(ctx, confgen.PlanOptions(), cfg, s1, w); diags.HasErrors() && len(extra) == 0 {
		t.Fatalf("plan from the state of the first release failed: %s", diags.Error())
	}

	n := cfg.Nginx
	if n == nil {
		return 0
	}
	rendered := 0
	for _, mode := range []string{nginx.SwitchReload, nginx.SwitchDynamic} {
		r, err := nginx.New(nginx.Options{ConfigDir: dir, AccessLog: n.AccessLog, ListenHost: n.ListenHost, Switch: mode, AdminDir: n.AdminDir})
		if err != nil {
			t.Fatalf("validate accepted the nginx block, the router refused it: %v", err)
		}
		for _, spec := range confgen.RoutesOf(p) {
			if _, err := r.Render(spec); err != nil {
				t.Fatalf("validate accepted the configuration, the %s renderer refused it: %v", mode, err)
			}
			rendered++
		}
	}
	return rendered
}
