package operation

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/slipwayhq/slipway/config"
	"github.com/slipwayhq/slipway/executor/analysis"
)

// fakeWindows is a Source returning one window after another; after the
// last it repeats it.
type fakeWindows struct {
	readings []analysis.Reading
	reads    []time.Duration // each window's length
}

func (f *fakeWindows) Read(_ context.Context, from, to time.Time) (analysis.Window, error) {
	i := min(len(f.reads), len(f.readings)-1)
	f.reads = append(f.reads, to.Sub(from))
	return analysis.Window{Start: from, End: to, Stable: f.readings[i], Candidate: analysis.Reading{Version: analysis.GroupCandidate}}, nil
}

func live(requests int, errRate float64) analysis.Reading {
	return analysis.Reading{Version: analysis.GroupStable, Requests: requests, Errors: int(errRate * float64(requests)), ErrorRate: errRate, P95: 0.01}
}

func TestRunWatch(t *testing.T) {
	analyses := map[string]*config.Analysis{
		"loose":  {Name: "loose", Interval: 10 * time.Second, MinRequests: 50, ErrorRate: &config.Threshold{Warn: 0.05, Fail: 0.10}},
		"strict": {Name: "strict", Interval: 20 * time.Second, MinRequests: 50, ErrorRate: &config.Threshold{Warn: 0.01, Fail: 0.02}},
	}
	staged := &config.Watch{Analysis: "loose", Stages: []config.WatchStage{{After: 30 * time.Second, Analysis: "strict"}}}
	tests := []struct {
		name      string
		watch     *config.Watch
		duration  time.Duration
		readings  []analysis.Reading
		want      analysis.Verdict
		wantReads []time.Duration
		wantWhy   string
	}{
		{"healthy passes", &config.Watch{Analysis: "loose"}, 25 * time.Second, []analysis.Reading{live(100, 0)}, analysis.Pass,
			[]time.Duration{10 * time.Second, 10 * time.Second, 5 * time.Second}, ""},
		{"fail stops at once", &config.Watch{Analysis: "loose"}, time.Minute, []analysis.Reading{live(100, 0), live(100, 0.2), live(100, 0)}, analysis.Fail,
			[]time.Duration{10 * time.Second, 10 * time.Second}, "error rate 20.0% > fail 10.0%"},
		{"quiet is no data", &config.Watch{Analysis: "loose"}, 20 * time.Second, []analysis.Reading{live(3, 0)}, analysis.NoData,
			[]time.Duration{10 * time.Second, 10 * time.Second}, ""},
		// 3% passes the loose stage (warn 5%) and fails the strict one
		// (fail 2%) that starts at 30s with 20s windows.
		{"stage tightens", staged, time.Minute, []analysis.Reading{live(100, 0.03)}, analysis.Fail,
			[]time.Duration{10 * time.Second, 10 * time.Second, 10 * time.Second, 20 * time.Second}, "error rate 3.0% > fail 2.0%"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clock := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
			src := &fakeWindows{readings: tt.readings}
			var names []string
			out, err := runWatch(context.Background(), watchRun{
				Source: src, Watch: tt.watch, Duration: tt.duration,
				Analysis: func(n string) *config.Analysis { return analyses[n] },
				OnWindow: func(_ int, an string, _ analysis.Reading, _ analysis.Verdict, _ string) { names = append(names, an) },
				now:      func() time.Time { return clock },
				sleepUntil: func(_ context.Context, t time.Time) error {
					clock = t
					return nil
				},
			})
			if err != nil {
				t.Fatal(err)
			}
			if out.Verdict != tt.want || (tt.wantWhy != "" && out.Reason != tt.wantWhy) {
				t.Errorf("outcome = %v %q, want %v %q", out.Verdict, out.Reason, tt.want, tt.wantWhy)
			}
			if len(src.reads) != len(tt.wantReads) {
				t.Fatalf("read windows %v, want %v (analyses %v)", src.reads, tt.wantReads, names)
			}
			for i := range src.reads {
				if src.reads[i] != tt.wantReads[i] {
					t.Errorf("window %d is %s long, want %s", i+1, src.reads[i], tt.wantReads[i])
				}
			}
		})
	}
}

func TestRunWatchCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := runWatch(ctx, watchRun{
		Source: &fakeWindows{readings: []analysis.Reading{live(100, 0)}}, Watch: &config.Watch{Analysis: "a"}, Duration: time.Hour,
		Analysis: func(string) *config.Analysis { return &config.Analysis{Interval: time.Minute} },
	})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
}

func TestLiveReason(t *testing.T) {
	tests := []struct{ in, want string }{
		{"candidate error rate 7.0% > fail 5.0%", "error rate 7.0% > fail 5.0%"},
		{"candidate error rate 0.0%, stable 0.0%; candidate p95 12ms, stable 12ms", "error rate 0.0%; p95 12ms"},
		{"stable 3 requests, stable 3 requests < min_requests 50", "3 requests < min_requests 50"},
		{"no thresholds; candidate 40 requests, stable 40", "no thresholds; 40 requests"},
	}
	for _, tt := range tests {
		if got := liveReason(tt.in); got != tt.want {
			t.Errorf("liveReason(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestWatchPlans(t *testing.T) {
	route := &config.Route{Listen: 8080}
	std := &config.Analysis{Name: "std"}
	cfg := &config.Config{Analyses: []*config.Analysis{std}, Services: []*config.Service{
		{Name: "web", Route: route, Watch: &config.Watch{Duration: time.Hour, Analysis: "std"}},
		{Name: "api", Route: route, Canary: &config.Canary{Analysis: "std"}},
		{Name: "plain", Route: route},
	}}
	tests := []struct {
		override time.Duration
		want     string
	}{
		{0, "web=1h0m0s"},
		{time.Minute, "api=1m0s web=1m0s"},
	}
	for _, tt := range tests {
		plans, err := watchPlans(cfg, tt.override)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, p := range plans {
			got = append(got, p.service.Name+"="+p.duration.String())
		}
		if strings.Join(got, " ") != tt.want {
			t.Errorf("watchPlans(%s) = %v, want %s", tt.override, got, tt.want)
		}
	}
	if _, err := watchPlans(&config.Config{Services: []*config.Service{{Name: "plain", Route: route}}}, 0); err == nil {
		t.Error("watchPlans without any watch: no error")
	}
}
