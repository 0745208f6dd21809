package config

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
)

func TestWatchDecode(t *testing.T) {
	tests := []struct {
		name      string
		strategy  string
		watch     string
		wantAn    string
		wantSteps int
	}{
		{"canary default", `route {}
  canary {
    steps    = [50, 100]
    analysis = "std"
  }`, `watch { duration = "1h" }`, "std", 0},
		{"own analysis", ``, `watch {
    duration = "1h"
    analysis = "strict"
    stage {
      after    = "5m"
      analysis = "std"
    }
    stage {
      after    = "30m"
      analysis = "strict"
    }
  }`, "strict", 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := writeConfig(t, map[string]string{"main.hcl": `project "p" {}
service "web" {
  image = "w:1"
  port  = 8000
  ` + tt.strategy + `
  ` + tt.watch + `
}
analysis "std" {}
analysis "strict" {}
nginx {}
`})
			cfg, diags := Load(dir, LoadOptions{Environ: []string{}})
			if diags.HasErrors() {
				t.Fatalf("Load: %s", render(cfg, diags))
			}
			w := cfg.Service("web").Watch
			if w == nil || w.Duration != time.Hour || w.Analysis != tt.wantAn || len(w.Stages) != tt.wantSteps {
				t.Fatalf("Watch = %+v", w)
			}
		})
	}
}

func TestWatchAnalysisAt(t *testing.T) {
	w := &Watch{Duration: time.Hour, Analysis: "loose", Stages: []WatchStage{{After: 5 * time.Minute, Analysis: "standard"}, {After: 30 * time.Minute, Analysis: "strict"}}}
	tests := []struct {
		elapsed time.Duration
		want    string
	}{
		{0, "loose"},
		{5*time.Minute - 1, "loose"},
		{5 * time.Minute, "standard"},
		{29 * time.Minute, "standard"},
		{30 * time.Minute, "strict"},
		{59 * time.Minute, "strict"},
	}
	for _, tt := range tests {
		if got := w.AnalysisAt(tt.elapsed); got != tt.want {
			t.Errorf("AnalysisAt(%s) = %q, want %q", tt.elapsed, got, tt.want)
		}
	}
}

func TestWatchOmittedFromHash(t *testing.T) {
	svc := &Service{Name: "web", Image: "w:1"}
	before := svc.Hash()
	b, err := json.Marshal(svc)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(b), "Watch") {
		t.Fatalf("a service without a watch encodes it: %s", b)
	}
	svc.Watch = &Watch{Duration: time.Minute, Analysis: "std"}
	if svc.Hash() == before {
		t.Fatal("a watch did not change the hash")
	}
}
