package config

import (
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"
)

func TestLoadAnalysisPrometheus(t *testing.T) {
	tests := []struct {
		name     string
		analysis string
		check    func(t *testing.T, a *Analysis)
		warning  string // summary of the one warning expected, "" for none
	}{
		{
			name: "full",
			analysis: `
analysis "a" {
  source            = "prometheus"
  query_error_limit = 5
  prometheus {
    url      = "http://127.0.0.1:9090/prom"
    requests = "sum(increase(r{release=\"{{release}}\"}[{{interval}}]))"
    errors   = "sum(increase(r{group=\"{{version}}\",code=~\"5..\"}[{{interval}}]))"
    p95      = "histogram_quantile(0.95, b{release=\"{{release}}\"})"
  }
  error_rate {
    fail     = "5%"
    relative = "2%"
  }
  latency_p95 {
    fail     = "2s"
    relative = "500ms"
  }
}`,
			check: func(t *testing.T, a *Analysis) {
				p := a.Prometheus
				if p == nil || p.URL != "http://127.0.0.1:9090/prom" || !strings.Contains(p.Requests, "{{release}}") ||
					!strings.Contains(p.Errors, `code=~"5.."`) || p.P50 != "" || !strings.HasPrefix(p.P95, "histogram_quantile") || p.P99 != "" {
					t.Errorf("Prometheus = %+v", p)
				}
				if a.QueryErrorLimit != 5 {
					t.Errorf("QueryErrorLimit = %d, want 5", a.QueryErrorLimit)
				}
				if a.ErrorRate.Relative != 0.02 || a.LatencyP95.Relative != 0.5 {
					t.Errorf("Relative = %v, %v; want 0.02, 0.5", a.ErrorRate.Relative, a.LatencyP95.Relative)
				}
			},
		},
		{
			name:     "defaults",
			analysis: "analysis \"a\" {\n  error_rate { fail = \"5%\" }\n}",
			check: func(t *testing.T, a *Analysis) {
				if a.Prometheus != nil || a.QueryErrorLimit != 3 || a.ErrorRate.Relative != 0 {
					t.Errorf("Analysis = %+v, error_rate %+v", a, a.ErrorRate)
				}
			},
		},
		{
			name: "unused block",
			analysis: `
analysis "a" {
  prometheus {
    url      = "http://127.0.0.1:9090"
    requests = "sum(r{group=\"{{version}}\"})"
    errors   = "sum(e{group=\"{{version}}\"})"
  }
}`,
			warning: "Unused Prometheus Block",
		},
		{
			name: "query without version",
			analysis: `
analysis "a" {
  source = "prometheus"
  prometheus {
    url      = "http://127.0.0.1:9090"
    requests = "sum(r)"
    errors   = "sum(e{group=\"{{version}}\"})"
  }
}`,
			warning: "Query Reads Both Versions Alike",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := writeConfig(t, map[string]string{"main.hcl": "project \"p\" {}\n" + tt.analysis})
			cfg, diags := Load(dir, LoadOptions{Environ: []string{}})
			if diags.HasErrors() {
				t.Fatal(render(cfg, diags))
			}
			var warnings []string
			for _, d := range diags {
				if d.Severity == hcl.DiagWarning {
					warnings = append(warnings, d.Summary)
				}
			}
			want := []string{}
			if tt.warning != "" {
				want = append(want, tt.warning)
			}
			if strings.Join(warnings, ",") != strings.Join(want, ",") {
				t.Errorf("warnings = %q, want %q", warnings, want)
			}
			if tt.check != nil {
				tt.check(t, cfg.Analysis("a"))
			}
		})
	}
}
