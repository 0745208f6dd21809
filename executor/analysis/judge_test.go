package analysis

import (
	"math"
	"strings"
	"testing"
	"time"

	"github.com/slipwayhq/slipway/config"
)

var t0 = time.Date(2025, 1, 2, 3, 0, 0, 0, time.UTC)

// side is one version's numbers in a test window.
type side struct {
	reqs, errs int
	p95        float64
}

// win builds the i-th 30s window with the given readings.
func win(i int, cand, stable side) Window {
	r := func(version string, s side) Reading {
		rate := math.NaN()
		if s.reqs > 0 {
			rate = float64(s.errs) / float64(s.reqs)
		}
		return Reading{Version: version, Requests: s.reqs, Errors: s.errs, ErrorRate: rate,
			P50: s.p95 / 2, P95: s.p95, P99: s.p95 * 2}
	}
	start := t0.Add(time.Duration(i) * 30 * time.Second)
	return Window{Start: start, End: start.Add(30 * time.Second), Candidate: r(GroupCandidate, cand), Stable: r(GroupStable, stable)}
}

// standard is the analysis of examples/thebot: error rate warn 1% fail 5% for 2m, p95
// warn 2s fail 5s for 5m, at least 50 requests.
func standard() *config.Analysis {
	return &config.Analysis{Name: "standard", Source: "nginx", Interval: 30 * time.Second, MinRequests: 50,
		ErrorRate:  &config.Threshold{Warn: 0.01, Fail: 0.05, WarnFor: 2 * time.Minute},
		LatencyP95: &config.Threshold{Warn: 2, Fail: 5, WarnFor: 5 * time.Minute}}
}

func TestVerdictString(t *testing.T) {
	for v, want := range map[Verdict]string{NoData: "no data", Pass: "pass", Warn: "warn", Fail: "fail", Verdict(9): "Verdict(9)"} {
		if got := v.String(); got != want {
			t.Errorf("Verdict(%d).String() = %q, want %q", int(v), got, want)
		}
	}
}

// step is one window observed by a judge and what it must say.
type step struct {
	w      Window
	want   Verdict
	reason string // a substring of the reason
}

func TestJudge(t *testing.T) {
	good := side{1000, 2, 0.1}
	tests := []struct {
		name  string
		a     *config.Analysis
		o     JudgeOptions
		steps []step
	}{
		{name: "pass", a: standard(), steps: []step{
			{win(0, good, good), Pass, "candidate error rate 0.2%, stable 0.2%"},
		}},
		{name: "fail on error rate", a: standard(), steps: []step{
			{win(0, side{1000, 70, 0.1}, good), Fail, "candidate error rate 7.0% > fail 5.0%"},
		}},
		{name: "exactly the fail level is not above it", a: standard(), steps: []step{
			{win(0, side{1000, 50, 0.1}, good), Warn, "candidate error rate 5.0% > warn 1.0% for 30s"},
		}},
		{name: "fail on p95", a: standard(), steps: []step{
			{win(0, side{1000, 0, 5.5}, good), Fail, "candidate p95 5.5s > fail 5s"},
		}},
		{name: "warn on p95", a: standard(), steps: []step{
			{win(0, side{1000, 0, 2.5}, good), Warn, "candidate p95 2.5s > warn 2s"},
		}},
		{name: "too few candidate requests is no data, never pass", a: standard(), steps: []step{
			{win(0, side{49, 0, 0.1}, good), NoData, "candidate 49 requests < min_requests 50"},
		}},
		{name: "too few stable requests is no data", a: standard(), steps: []step{
			{win(0, good, side{10, 0, 0.1}), NoData, "stable 10 requests < min_requests 50"},
		}},
		{name: "no requests at all with min_requests 0 is no data", a: &config.Analysis{}, steps: []step{
			{win(0, side{}, side{}), NoData, "candidate 0 requests, stable 0 requests < min_requests 1"},
		}},
		{name: "few requests even when failing is no data", a: standard(), steps: []step{
			{win(0, side{10, 10, 0.1}, good), NoData, "min_requests"},
		}},
		{name: "no thresholds passes with enough requests", a: &config.Analysis{MinRequests: 5}, steps: []step{
			{win(0, good, good), Pass, "no thresholds"},
		}},
		{name: "unknown p95 is no data", a: standard(), steps: []step{
			{win(0, side{1000, 0, math.NaN()}, good), NoData, "no p95 could be computed"},
		}},
		{name: "failing error rate outranks unknown p95", a: standard(), steps: []step{
			{win(0, side{1000, 100, math.NaN()}, good), Fail, "error rate 10.0% > fail"},
		}},
		{name: "warn becomes fail after warn_for", a: standard(), steps: []step{
			{win(0, side{1000, 20, 0.1}, good), Warn, "for 30s"},
			{win(1, side{1000, 20, 0.1}, good), Warn, "for 1m0s"},
			{win(2, side{1000, 20, 0.1}, good), Warn, "for 1m30s"},
			{win(3, side{1000, 20, 0.1}, good), Warn, "for 2m0s"}, // not longer than 2m yet
			{win(4, side{1000, 20, 0.1}, good), Fail, "candidate error rate 2.0% > warn 1.0% for 2m30s (warn_for 2m0s)"},
		}},
		{name: "a passing window ends the warning", a: standard(), steps: []step{
			{win(0, side{1000, 20, 0.1}, good), Warn, ""},
			{win(1, side{1000, 20, 0.1}, good), Warn, ""},
			{win(2, side{1000, 20, 0.1}, good), Warn, ""},
			{win(3, good, good), Pass, ""},
			{win(4, side{1000, 20, 0.1}, good), Warn, "for 30s"},
			{win(5, side{1000, 20, 0.1}, good), Warn, "for 1m0s"},
		}},
		{name: "no data neither ends nor hides a warning", a: standard(), steps: []step{
			{win(0, side{1000, 20, 0.1}, good), Warn, ""},
			{win(1, side{1000, 20, 0.1}, good), Warn, ""},
			{win(2, side{3, 0, 0.1}, good), NoData, ""},
			{win(3, side{1000, 20, 0.1}, good), Warn, "for 2m0s"},
			{win(4, side{1000, 20, 0.1}, good), Fail, "for 2m30s"},
		}},
		{name: "warn_for 0 never escalates", a: &config.Analysis{MinRequests: 1,
			ErrorRate: &config.Threshold{Warn: 0.01, Fail: 0.5}}, steps: []step{
			{win(0, side{100, 2, 0.1}, good), Warn, ""},
			{win(100, side{100, 2, 0.1}, good), Warn, "for 50m30s"},
		}},
		{name: "warnings are timed per metric", a: standard(), steps: []step{
			{win(0, side{1000, 20, 0.1}, good), Warn, "error rate"},
			{win(1, side{1000, 20, 2.5}, good), Warn, "p95 2.5s > warn 2s for 30s"},
			{win(2, side{1000, 20, 2.5}, good), Warn, ""},
			{win(3, side{1000, 20, 2.5}, good), Warn, ""},
			{win(4, side{1000, 20, 2.5}, good), Fail, "error rate 2.0% > warn 1.0% for 2m30s"},
		}},
		{name: "relative error rate margin", a: standard(), o: JudgeOptions{Relative: Relative{ErrorRate: 0.002}}, steps: []step{
			{win(0, side{1000, 4, 0.1}, side{1000, 2, 0.1}), Pass, ""},                                               // +0.2 points: not more
			{win(1, side{1000, 5, 0.1}, side{1000, 2, 0.1}), Fail, "candidate error rate 0.5% > stable 0.2% + 0.2%"}, // +0.3
		}},
		{name: "relative margin compares with stable in the same window", a: standard(), o: JudgeOptions{Relative: Relative{ErrorRate: 0.002}}, steps: []step{
			{win(0, side{1000, 8, 0.1}, side{1000, 8, 0.1}), Pass, ""}, // both at 0.8%: a shared cause
		}},
		{name: "relative p95 margin", a: standard(), o: JudgeOptions{Relative: Relative{LatencyP95: 0.5}}, steps: []step{
			{win(0, side{1000, 0, 1.2}, side{1000, 0, 0.8}), Pass, ""},
			{win(1, side{1000, 0, 1.4}, side{1000, 0, 0.8}), Fail, "candidate p95 1.4s > stable 800ms + 500ms"},
		}},
		{name: "relative margin without absolute thresholds", a: &config.Analysis{MinRequests: 50}, o: JudgeOptions{Relative: Relative{ErrorRate: 0.01}}, steps: []step{
			{win(0, side{1000, 30, 0.1}, side{1000, 10, 0.1}), Fail, "> stable 1.0% + 1.0%"},
		}},
		{name: "query errors are no data until past the limit", a: standard(), o: JudgeOptions{QueryErrorLimit: 2}, steps: []step{
			{qerr(win(0, good, good), 1), NoData, "1 query errors (1 intervals in a row): boom"},
			{qerr(win(1, good, good), 3), NoData, "(2 intervals in a row)"},
			{qerr(win(2, good, good), 1), Fail, "more than the limit of 2"},
		}},
		{name: "a clean window resets the query error run", a: standard(), o: JudgeOptions{QueryErrorLimit: 2}, steps: []step{
			{qerr(win(0, good, good), 1), NoData, ""},
			{qerr(win(1, good, good), 1), NoData, ""},
			{win(2, good, good), Pass, ""},
			{qerr(win(3, good, good), 1), NoData, "(1 intervals in a row)"},
			{qerr(win(4, good, good), 1), NoData, ""},
		}},
		{name: "default query error limit", a: standard(), steps: []step{
			{qerr(win(0, good, good), 1), NoData, ""},
			{qerr(win(1, good, good), 1), NoData, ""},
			{qerr(win(2, good, good), 1), NoData, ""},
			{qerr(win(3, good, good), 1), Fail, "limit of 3"},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			j := NewJudge(tt.a, tt.o)
			for i, s := range tt.steps {
				got, reason := j.Observe(s.w)
				if got != s.want || !strings.Contains(reason, s.reason) {
					t.Fatalf("window %d: Observe = %s %q, want %s containing %q", i, got, reason, s.want, s.reason)
				}
			}
		})
	}
}

func qerr(w Window, n int) Window {
	w.QueryErrors, w.QueryError = n, "boom"
	return w
}

func TestNewJudgeCopiesThresholds(t *testing.T) {
	a := standard()
	j := NewJudge(a, JudgeOptions{})
	a.ErrorRate.Fail = 0.5 // a later change to the config does not move the judge
	if v, _ := j.Observe(win(0, side{1000, 70, 0.1}, side{1000, 0, 0.1})); v != Fail {
		t.Fatalf("verdict %s, want fail", v)
	}
}

func TestPercentile(t *testing.T) {
	seq := func(n int) []float64 {
		s := make([]float64, n)
		for i := range s {
			s[i] = float64(i + 1)
		}
		return s
	}
	tests := []struct {
		vals []float64
		p    float64
		want float64
	}{
		{[]float64{7}, 0.5, 7},
		{[]float64{7}, 0.99, 7},
		{seq(100), 0.50, 50},
		{seq(100), 0.95, 95},
		{seq(100), 0.99, 99},
		{seq(10), 0.95, 10},
		{seq(10), 0.50, 5},
		{seq(3), 0.0, 1},
	}
	for _, tt := range tests {
		if got := percentile(tt.vals, tt.p); got != tt.want {
			t.Errorf("percentile(%d values, %v) = %v, want %v", len(tt.vals), tt.p, got, tt.want)
		}
	}
}

func TestTallyReading(t *testing.T) {
	var tl tally
	r := tl.reading(GroupStable)
	if r.Requests != 0 || !math.IsNaN(r.ErrorRate) || !math.IsNaN(r.P95) {
		t.Fatalf("empty reading %+v, want 0 requests and NaN rates", r)
	}
	for i := range 100 {
		lat := float64(100-i) / 1000 // 0.100 down to 0.001: sorting matters
		if i == 0 {
			lat = math.NaN() // no upstream: counted, not timed
		}
		tl.add(i%10 == 0, lat)
	}
	r = tl.reading(GroupCandidate)
	if r.Version != GroupCandidate || r.Requests != 100 || r.Errors != 10 || r.ErrorRate != 0.1 {
		t.Fatalf("reading %+v, want 100 requests, 10 errors", r)
	}
	if !near(r.P50, 0.050) || !near(r.P95, 0.095) || !near(r.P99, 0.099) {
		t.Fatalf("percentiles %v %v %v, want 0.050 0.095 0.099 of 99 timed requests", r.P50, r.P95, r.P99)
	}
	tl.reset()
	if r := tl.reading(GroupStable); r.Requests != 0 || len(tl.lat) != 0 {
		t.Fatalf("after reset: %+v", r)
	}
}

func TestWindowRecords(t *testing.T) {
	w := win(2, side{100, 5, 0.3}, side{200, 0, 0.1})
	got := w.Records(3, Warn)
	if len(got) != 2 {
		t.Fatalf("%d readings, want 2", len(got))
	}
	c, s := got[0], got[1]
	if c.Step != 3 || !c.Time.Equal(w.End) || c.Version != GroupCandidate || c.Requests != 100 ||
		!near(c.ErrorRate, 0.05) || !near(c.P50, 0.15) || !near(c.P95, 0.3) || !near(c.P99, 0.6) || c.Verdict != "warn" {
		t.Errorf("candidate reading %+v", c)
	}
	if s.Version != GroupStable || s.Requests != 200 || s.ErrorRate != 0 || s.Verdict != "warn" {
		t.Errorf("stable reading %+v", s)
	}
}
