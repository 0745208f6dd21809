package analysis

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/slipwayhq/slipway/config"
	"github.com/slipwayhq/slipway/planner/plan"
)

func TestProbeRate(t *testing.T) {
	tests := []struct {
		minRequests int
		interval    time.Duration
		want        int
	}{
		{50, 30 * time.Second, 7},
		{10, 30 * time.Second, DefaultProbeRate}, // 2/s is below the default
		{50, 2 * time.Second, 100},
		{10, 4 * time.Second, 10},
		{1000, time.Second, maxProbeRate},
		{50, 0, DefaultProbeRate},
	}
	for _, tt := range tests {
		got := probeRate(&config.Analysis{MinRequests: tt.minRequests, Interval: tt.interval})
		if got != tt.want {
			t.Errorf("probeRate(min %d, interval %s) = %d, want %d", tt.minRequests, tt.interval, got, tt.want)
		}
	}
}

func TestOptionsFor(t *testing.T) {
	tests := []struct {
		name string
		an   config.Analysis
		want JudgeOptions
	}{
		{"none", config.Analysis{QueryErrorLimit: 3}, JudgeOptions{QueryErrorLimit: 3}},
		{"both", config.Analysis{QueryErrorLimit: 1, ErrorRate: &config.Threshold{Fail: 0.05, Relative: 0.02}, LatencyP95: &config.Threshold{Fail: 2, Relative: 0.5}},
			JudgeOptions{QueryErrorLimit: 1, Relative: Relative{ErrorRate: 0.02, LatencyP95: 0.5}}},
		{"error rate only", config.Analysis{ErrorRate: &config.Threshold{Fail: 0.05, Relative: 0.01}},
			JudgeOptions{Relative: Relative{ErrorRate: 0.01}}},
	}
	for _, tt := range tests {
		if got := OptionsFor(&tt.an); got != tt.want {
			t.Errorf("%s: judgeOptions = %+v, want %+v", tt.name, got, tt.want)
		}
	}
}

// valueProm answers instant queries from a table of query -> value and keeps
// every query it saw.
type valueProm struct {
	mu      sync.Mutex
	values  map[string]string
	queries []string
}

func (f *valueProm) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query().Get("query")
	f.mu.Lock()
	f.queries = append(f.queries, q)
	v, ok := f.values[q]
	f.mu.Unlock()
	result := []any{}
	if ok {
		result = append(result, map[string]any{"metric": map[string]string{}, "value": []any{1, v}})
	}
	_ = json.NewEncoder(w).Encode(map[string]any{"status": "success", "data": map[string]any{"resultType": "vector", "result": result}})
}

func TestPrometheusSourceByRelease(t *testing.T) {
	fake := &valueProm{values: map[string]string{
		`sum(r{release="4"})`:                   "1000",
		`sum(e{release="4"})`:                   "0",
		`sum(r{release="5"})`:                   "200",
		`sum(e{release="5"})`:                   "14",
		`p95{release="4",w="2s"}`:               "0.02",
		`p95{release="5",w="2s"}`:               "0.4",
		`sum(r{group="stable"})`:                "900",
		`sum(e{group="stable",code=~"5.."})`:    "9",
		`sum(r{group="candidate"})`:             "100",
		`sum(e{group="candidate",code=~"5.."})`: "2",
	}}
	srv := httptest.NewServer(fake)
	defer srv.Close()
	to := time.Now()
	from := to.Add(-2 * time.Second)

	an := &config.Analysis{Prometheus: &config.Prometheus{URL: srv.URL,
		Requests: `sum(r{release="{{release}}"})`, Errors: `sum(e{release="{{release}}"})`, P95: `p95{release="{{release}}",w="{{interval}}"}`}}
	src, err := prometheusSource(an, 4, 5)
	if err != nil {
		t.Fatal(err)
	}
	w, err := src.Read(context.Background(), from, to)
	if err != nil {
		t.Fatal(err)
	}
	if w.QueryErrors != 0 || w.Stable.Requests != 1000 || w.Stable.Errors != 0 || w.Stable.P95 != 0.02 ||
		w.Candidate.Requests != 200 || w.Candidate.Errors != 14 || w.Candidate.ErrorRate != 0.07 || w.Candidate.P95 != 0.4 {
		t.Errorf("window = %+v", w)
	}
	for _, q := range fake.queries {
		if regexp.MustCompile(`\{\{|release="[^45]`).MatchString(q) {
			t.Errorf("query %q was not expanded for release 4 or 5", q)
		}
	}

	// Without {{release}}, one source reads both groups by {{version}}.
	an.Prometheus = &config.Prometheus{URL: srv.URL, Requests: `sum(r{group="{{version}}"})`, Errors: `sum(e{group="{{version}}",code=~"5.."})`}
	src, err = prometheusSource(an, 4, 5)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := src.(byRelease); ok {
		t.Errorf("queries without {{release}} got a byRelease source")
	}
	w, err = src.Read(context.Background(), from, to)
	if err != nil {
		t.Fatal(err)
	}
	if w.Stable.Requests != 900 || w.Stable.Errors != 9 || w.Candidate.Requests != 100 || w.Candidate.Errors != 2 {
		t.Errorf("window = %+v", w)
	}

	// A query error in the candidate's read counts in the window.
	an.Prometheus = &config.Prometheus{URL: srv.URL, Requests: `sum(r{release="{{release}}"})`, Errors: `sum(e{release="{{release}}"})`}
	src, err = prometheusSource(an, 4, 5)
	if err != nil {
		t.Fatal(err)
	}
	srv.Close()
	w, err = src.Read(context.Background(), from, to)
	if err != nil {
		t.Fatal(err)
	}
	if w.QueryErrors == 0 || w.QueryError == "" {
		t.Errorf("a closed Prometheus gave no query errors: %+v", w)
	}
}

func TestPrometheusSourceInvalid(t *testing.T) {
	an := &config.Analysis{Prometheus: &config.Prometheus{URL: "127.0.0.1:9090", Requests: "r", Errors: "e"}}
	if _, err := prometheusSource(an, 1, 2); err == nil {
		t.Error("a URL without a scheme was accepted")
	}
}

// TestOpen opens each source from a step's resolved analysis, and refuses
// one it cannot read with the analysis named.
func TestOpen(t *testing.T) {
	for _, tt := range []struct {
		spec    plan.Analysis
		wantErr string
	}{
		{plan.Analysis{Block: config.Analysis{Name: "std", Source: "nginx"}}, `analysis "std" reads nginx's access log, but the nginx block names none`},
		{plan.Analysis{Block: config.Analysis{Name: "std"}, AccessLog: filepath.Join(t.TempDir(), "access.log"), Project: "p", Service: "web"}, ""},
		{plan.Analysis{Block: config.Analysis{Name: "p", Source: "prometheus"}}, `analysis "p" reads Prometheus, but has no prometheus block`},
		{plan.Analysis{Block: config.Analysis{Name: "q", Source: "probe", Interval: time.Second, MinRequests: 1}, URL: "http://127.0.0.1:1/"}, ""},
		{plan.Analysis{Block: config.Analysis{Name: "x", Source: "datadog"}}, `analysis "x": the datadog source is not available in this slipway`},
	} {
		ctx, cancel := context.WithCancel(context.Background())
		src, closeSrc, err := Open(ctx, &tt.spec)
		switch {
		case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
			t.Errorf("Open(%s) = %v, want %q", tt.spec.Block.Name, err, tt.wantErr)
		case tt.wantErr == "" && (err != nil || src == nil):
			t.Errorf("Open(%s) = %v, %v", tt.spec.Block.Name, src, err)
		case err == nil:
			closeSrc()
		}
		cancel()
	}
}
