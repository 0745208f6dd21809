package bench

import (
	"testing"
	"time"

	"github.com/slipwayhq/slipway/executor/prober"
	"github.com/slipwayhq/slipway/state/records"
)

func TestStepTime(t *testing.T) {
	t0 := time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)
	r := &records.Record{Steps: []records.StepRecord{
		{Kind: "start", Started: t0, Ended: t0.Add(500 * time.Millisecond)},
		{Kind: "health", Started: t0.Add(time.Second), Ended: t0.Add(2 * time.Second)},
		{Kind: "health", Started: t0.Add(3 * time.Second), Ended: t0.Add(3500 * time.Millisecond)},
		{Kind: "health", Started: t0.Add(4 * time.Second)}, // never ended: not counted
		{Kind: "traffic"},
	}}
	tests := []struct {
		kind string
		want time.Duration
		n    int
	}{
		{"start", 500 * time.Millisecond, 1},
		{"health", 1500 * time.Millisecond, 2},
		{"traffic", 0, 0},
		{"stop", 0, 0},
	}
	for _, tt := range tests {
		got, n := stepTime(r, tt.kind)
		if got != tt.want || n != tt.n {
			t.Errorf("stepTime(%q) = %s, %d; want %s, %d", tt.kind, got, n, tt.want, tt.n)
		}
	}
}

func TestMetricsAddLoad(t *testing.T) {
	tests := []struct {
		name  string
		loads []prober.Counts
		ran   time.Duration
		want  map[string]float64
	}{
		{
			name:  "one run",
			loads: []prober.Counts{{Requests: 1200, Non2xx: 3, TransportErrors: 2}},
			ran:   2 * time.Second,
			want:  map[string]float64{"x-req/s": 600, "x-non2xx": 3, "x-transport-errors": 2},
		},
		{
			name:  "two runs add up",
			loads: []prober.Counts{{Requests: 100, Non2xx: 1}, {Requests: 300, TransportErrors: 4}},
			ran:   time.Second,
			want:  map[string]float64{"x-req/s": 400, "x-non2xx": 1, "x-transport-errors": 4},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var m metrics
			for _, c := range tt.loads {
				m.addLoad("x", c, tt.ran)
			}
			if len(m.order) != len(tt.want) {
				t.Fatalf("units %v, want %d of them", m.order, len(tt.want))
			}
			for unit, want := range tt.want {
				if got := m.sum[unit]; got != want {
					t.Errorf("%s = %v, want %v", unit, got, want)
				}
			}
		})
	}
}

func TestSpannedSeesBothVersions(t *testing.T) {
	// spanned calls Fatalf on a *testing.B, so only its reading of ByBody
	// is checked here, through a benchmark run in-process.
	tests := []struct {
		name   string
		byBody map[string]int
		want   bool
	}{
		{"both", map[string]int{"demoapp version=v1 color=blue": 3, "demoapp version=v2 color=green": 1}, true},
		{"old only", map[string]int{"demoapp version=v1 color=blue": 3}, false},
		{"new only", map[string]int{"demoapp version=v2 color=green": 3, "<html>": 9}, false},
		{"none", nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := testing.Benchmark(func(b *testing.B) {
				spanned(b, "apply", prober.Counts{ByBody: tt.byBody}, "version=v1", "version=v2")
				b.ReportMetric(1, "passed")
			})
			if got := res.Extra["passed"] == 1; got != tt.want {
				t.Errorf("spanned over %v passed = %v, want %v", tt.byBody, got, tt.want)
			}
		})
	}
}
