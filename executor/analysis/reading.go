package analysis

import (
	"context"
	"math"
	"slices"
	"time"

	"github.com/slipwayhq/slipway/state/records"
)

// Names of the two groups a route splits requests between, as the access
// log and the X-Slipway-Group response header carry them.
const (
	GroupStable    = "stable"
	GroupCandidate = "candidate"
)

// Reading is what one version saw in one window.
type Reading struct {
	// Version is the group: GroupStable or GroupCandidate.
	Version string
	// Requests is the number of requests answered (or failed) in the window.
	Requests int
	// Errors is the number of those that failed: a 5xx status, or no
	// answer at all for the probe source.
	Errors int
	// ErrorRate is Errors/Requests as a fraction; NaN without requests.
	ErrorRate float64
	// P50, P95 and P99 are percentiles of the upstream response time in
	// seconds; NaN when no request had one.
	P50, P95, P99 float64
}

// Window is what a Source saw in one interval [Start, End).
type Window struct {
	// Start and End bound the interval.
	Start, End time.Time
	// Stable and Candidate are the readings of the two groups.
	Stable, Candidate Reading
	// QueryErrors counts the reads that failed in this interval (a
	// Prometheus query, an unreadable log file); they are not request
	// failures, and a window with any is judged as no data.
	QueryErrors int
	// QueryError is the last of those errors, for the verdict's reason.
	QueryError string
}

// Source reads the metrics of one route.
//
// Read returns what was seen in [from, to). Consecutive calls with
// consecutive intervals count every request once. It honours ctx: it
// returns ctx.Err() when ctx ends first. Failures to read the metrics
// themselves are not errors: they are counted in Window.QueryErrors, so a
// Judge can tell a passing interval from one it could not see. Read must
// not be called concurrently with itself.
type Source interface {
	Read(ctx context.Context, from, to time.Time) (Window, error)
}

// tally accumulates one group's requests; reset keeps its memory, so a
// steady stream of windows does not allocate.
type tally struct {
	requests, errors int
	lat              []float64 // response times in seconds
}

func (t *tally) reset() {
	t.requests, t.errors = 0, 0
	t.lat = t.lat[:0]
}

// add counts one request; lat NaN means no response time is known.
func (t *tally) add(failed bool, lat float64) {
	t.requests++
	if failed {
		t.errors++
	}
	if !math.IsNaN(lat) {
		t.lat = append(t.lat, lat)
	}
}

// reading computes the Reading of version; it sorts t.lat in place.
func (t *tally) reading(version string) Reading {
	r := Reading{Version: version, Requests: t.requests, Errors: t.errors,
		ErrorRate: math.NaN(), P50: math.NaN(), P95: math.NaN(), P99: math.NaN()}
	if t.requests > 0 {
		r.ErrorRate = float64(t.errors) / float64(t.requests)
	}
	if len(t.lat) > 0 {
		slices.Sort(t.lat)
		r.P50 = percentile(t.lat, 0.50)
		r.P95 = percentile(t.lat, 0.95)
		r.P99 = percentile(t.lat, 0.99)
	}
	return r
}

// percentile returns the nearest-rank p-quantile of sorted, which is not
// empty: the smallest value with at least p of the values at or below it.
func percentile(sorted []float64, p float64) float64 {
	i := int(math.Ceil(p*float64(len(sorted)))) - 1
	return sorted[min(max(i, 0), len(sorted)-1)]
}

// Records returns the readings of w as the operation record stores them,
// candidate first, both with verdict v, stamped with the window's end.
func (w Window) Records(step int, v Verdict) []records.AnalysisReading {
	out := make([]records.AnalysisReading, 0, 2)
	for _, r := range []Reading{w.Candidate, w.Stable} {
		out = append(out, records.AnalysisReading{Step: step, Time: w.End, Version: r.Version, Requests: r.Requests,
			ErrorRate: r.ErrorRate, P50: r.P50, P95: r.P95, P99: r.P99, Verdict: v.String()})
	}
	return out
}
