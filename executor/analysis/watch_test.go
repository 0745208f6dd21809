package analysis

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/slipwayhq/slipway/config"
)

// fakeWindows is a Source returning one window after another; after the
// last it repeats it.
type fakeWindows struct {
	readings []Reading
	reads    []time.Duration // each window's length
}

func (f *fakeWindows) Read(_ context.Context, from, to time.Time) (Window, error) {
	i := min(len(f.reads), len(f.readings)-1)
	f.reads = append(f.reads, to.Sub(from))
	return Window{Start: from, End: to, Stable: f.readings[i], Candidate: Reading{Version: GroupCandidate}}, nil
}

func live(requests int, errRate float64) Reading {
	return Reading{Version: GroupStable, Requests: requests, Errors: int(errRate * float64(requests)), ErrorRate: errRate, P95: 0.01}
}

func TestWatch(t *testing.T) {
	analyses := map[string]*config.Analysis{
		"loose":  {Name: "loose", Interval: 10 * time.Second, MinRequests: 50, ErrorRate: &config.Threshold{Warn: 0.05, Fail: 0.10}},
		"strict": {Name: "strict", Interval: 20 * time.Second, MinRequests: 50, ErrorRate: &config.Threshold{Warn: 0.01, Fail: 0.02}},
	}
	staged := &config.Watch{Analysis: "loose", Stages: []config.WatchStage{{After: 30 * time.Second, Analysis: "strict"}}}
	tests := []struct {
		name      string
		watch     *config.Watch
		duration  time.Duration
		readings  []Reading
		want      Verdict
		wantReads []time.Duration
		wantWhy   string
	}{
		{"healthy passes", &config.Watch{Analysis: "loose"}, 25 * time.Second, []Reading{live(100, 0)}, Pass,
			[]time.Duration{10 * time.Second, 10 * time.Second, 5 * time.Second}, ""},
		{"fail stops at once", &config.Watch{Analysis: "loose"}, time.Minute, []Reading{live(100, 0), live(100, 0.2), live(100, 0)}, Fail,
			[]time.Duration{10 * time.Second, 10 * time.Second}, "error rate 20.0% > fail 10.0%"},
		{"quiet is no data", &config.Watch{Analysis: "loose"}, 20 * time.Second, []Reading{live(3, 0)}, NoData,
			[]time.Duration{10 * time.Second, 10 * time.Second}, ""},
		// 3% passes the loose stage (warn 5%) and fails the strict one
		// (fail 2%) that starts at 30s with 20s windows.
		{"stage tightens", staged, time.Minute, []Reading{live(100, 0.03)}, Fail,
			[]time.Duration{10 * time.Second, 10 * time.Second, 10 * time.Second, 20 * time.Second}, "error rate 3.0% > fail 2.0%"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clock := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
			src := &fakeWindows{readings: tt.readings}
			var names []string
			v, why, err := (&Watch{
				Source: src, Watch: tt.watch, Duration: tt.duration,
				Analysis: func(n string) *config.Analysis { return analyses[n] },
				OnWindow: func(_ int, an string, _ Verdict, _ string) { names = append(names, an) },
				now:      func() time.Time { return clock },
				sleepUntil: func(_ context.Context, t time.Time) error {
					clock = t
					return nil
				},
			}).Run(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if v != tt.want || (tt.wantWhy != "" && why != tt.wantWhy) {
				t.Errorf("outcome = %v %q, want %v %q", v, why, tt.want, tt.wantWhy)
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

func TestWatchCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, _, err := (&Watch{
		Source: &fakeWindows{readings: []Reading{live(100, 0)}}, Watch: &config.Watch{Analysis: "a"}, Duration: time.Hour,
		Analysis: func(string) *config.Analysis { return &config.Analysis{Interval: time.Minute} },
	}).Run(ctx)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
}

// TestLiveJudge: a live judge words its reasons without the groups,
// judging the group that served more requests.
func TestLiveJudge(t *testing.T) {
	an := &config.Analysis{MinRequests: 50, ErrorRate: &config.Threshold{Fail: 0.05}, LatencyP95: &config.Threshold{Fail: 1}}
	quiet := &config.Analysis{MinRequests: 20}
	at := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	w := func(stable, cand Reading) Window {
		return Window{Start: at, End: at.Add(10 * time.Second), Stable: stable, Candidate: cand}
	}
	none := Reading{Version: GroupCandidate}
	tests := []struct {
		an   *config.Analysis
		w    Window
		v    Verdict
		want string
	}{
		{an, w(live(100, 0.07), none), Fail, "error rate 7.0% > fail 5.0%"},
		{an, w(live(100, 0), none), Pass, "error rate 0.0%; p95 10ms"},
		{an, w(live(3, 0), none), NoData, "3 requests < min_requests 50"},
		{an, w(Reading{Version: GroupStable}, Reading{Version: GroupCandidate, Requests: 100, ErrorRate: 0.5, P95: 0.01}), Fail, "error rate 50.0% > fail 5.0%"},
		{quiet, w(live(40, 0), none), Pass, "no thresholds; 40 requests"},
	}
	for _, tt := range tests {
		v, why := NewJudge(tt.an, JudgeOptions{Live: true, Relative: Relative{ErrorRate: 0.01}}).Observe(tt.w)
		if v != tt.v || why != tt.want {
			t.Errorf("Observe = %v %q, want %v %q", v, why, tt.v, tt.want)
		}
	}
}
