package views

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rogpeppe/go-internal/diff"
	"github.com/slipwayhq/slipway/planner/plan"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// golden compares got with testdata/name, or rewrites it with -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read golden file (run go test -update to create it): %v", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the golden file (go test -update rewrites it):\n%s", name, diff.Diff("want", want, "got", got))
	}
}

func TestPlanGolden(t *testing.T) {
	renderings := []struct {
		ext    string
		render func(*bytes.Buffer, *plan.Plan) error
	}{
		{"txt", func(b *bytes.Buffer, p *plan.Plan) error { return PlanText(b, p, Options{}) }},
		{"color.txt", func(b *bytes.Buffer, p *plan.Plan) error { return PlanText(b, p, Options{Color: true}) }},
		{"md", func(b *bytes.Buffer, p *plan.Plan) error { return PlanMarkdown(b, p) }},
		{"json", func(b *bytes.Buffer, p *plan.Plan) error { return PlanJSON(b, p) }},
	}
	for _, f := range fixtures {
		for _, r := range renderings {
			t.Run(f.name+"."+r.ext, func(t *testing.T) {
				var b bytes.Buffer
				if err := r.render(&b, f.plan()); err != nil {
					t.Fatal(err)
				}
				golden(t, "plan_"+f.name+"."+r.ext, b.Bytes())
			})
		}
	}
}

func TestPlanTextWraps(t *testing.T) {
	for _, name := range []string{"canary", "interrupted"} {
		t.Run(name, func(t *testing.T) {
			var p *plan.Plan
			for _, f := range fixtures {
				if f.name == name {
					p = f.plan()
				}
			}
			var b bytes.Buffer
			if err := PlanText(&b, p, Options{Width: 80, Color: true}); err != nil {
				t.Fatal(err)
			}
			for i, l := range strings.Split(b.String(), "\n") {
				if n := visible(l); n > 80 {
					t.Errorf("line %d is %d columns wide: %q", i+1, n, l)
				}
			}
			golden(t, "plan_"+name+".w80.txt", b.Bytes())
		})
	}
}
