package analysis

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/slipwayhq/slipway/config"
)

// Verdict is the judgement of one analysis interval.
type Verdict int

const (
	// NoData means the interval cannot be judged: too few requests for
	// either version, a metric that could not be computed, or a query
	// error. It is never a pass.
	NoData Verdict = iota
	// Pass means the candidate is within every threshold.
	Pass
	// Warn means the candidate crossed a warn level, for no longer than
	// its warn_for.
	Warn
	// Fail means the candidate crossed a fail level, a relative margin, or
	// a warn level for longer than warn_for, or query errors persisted
	// past the limit: the step rolls back.
	Fail
)

// String returns "no data", "pass", "warn" or "fail", as records store it.
func (v Verdict) String() string {
	switch v {
	case NoData:
		return "no data"
	case Pass:
		return "pass"
	case Warn:
		return "warn"
	case Fail:
		return "fail"
	}
	return "Verdict(" + strconv.Itoa(int(v)) + ")"
}

// DefaultQueryErrorLimit is the number of consecutive intervals with query
// errors a Judge tolerates (as no data) before it fails.
const DefaultQueryErrorLimit = 3

// Relative holds margins by which the candidate may be worse than stable
// in the same window; beyond one it fails. Zero means no margin is checked.
type Relative struct {
	// ErrorRate is a fraction: 0.02 fails a candidate whose error rate is
	// more than 2 percentage points above stable's.
	ErrorRate float64
	// LatencyP95 is in seconds: 0.5 fails a candidate whose p95 is more
	// than 500ms above stable's.
	LatencyP95 float64
}

// JudgeOptions are the parts of a Judge the analysis block does not (yet)
// declare.
type JudgeOptions struct {
	// Relative are the margins against stable; zero values check none.
	Relative Relative
	// QueryErrorLimit is how many consecutive intervals with query errors
	// are no data; one more fails (default DefaultQueryErrorLimit).
	QueryErrorLimit int
	// Live judges the live version alone, as a watch does after a
	// release: of each window, the group that served more requests, with
	// no margin against stable; reasons then name no group ("error rate
	// 7.0% > fail 5.0%").
	Live bool
}

// Judge turns the windows of one analysis, in order, into verdicts. It
// keeps state across intervals: how long each metric has warned, and how
// many intervals in a row had query errors. It is not safe for concurrent
// use.
type Judge struct {
	minRequests int
	errorRate   *config.Threshold
	latency     *config.Threshold
	relative    Relative
	queryLimit  int
	live        bool

	warnSince   [2]time.Time // per metric: start of the first warning window; zero when not warning
	queryErrRun int
}

// Metric indices of Judge.warnSince.
const (
	metricErrorRate = iota
	metricLatency
)

// NewJudge returns a Judge for the analysis block a with options o. A nil
// threshold is not checked; MinRequests below 1 counts as 1, so a window
// without requests is never a pass.
func NewJudge(a *config.Analysis, o JudgeOptions) *Judge {
	j := &Judge{minRequests: max(a.MinRequests, 1), relative: o.Relative, queryLimit: o.QueryErrorLimit, live: o.Live}
	if j.live {
		j.relative = Relative{}
	}
	if j.queryLimit <= 0 {
		j.queryLimit = DefaultQueryErrorLimit
	}
	if a.ErrorRate != nil {
		t := *a.ErrorRate
		j.errorRate = &t
	}
	if a.LatencyP95 != nil {
		t := *a.LatencyP95
		j.latency = &t
	}
	return j
}

// Observe judges the next window and returns the verdict with a one-line
// reason, such as "candidate error rate 7.0% > fail 5.0%". A warning
// counts from the start of the first window it was seen in; when it is
// still seen at the end of a window more than warn_for later, it fails. A
// window with data where the metric is within its warn level ends the
// warning; a window without data neither ends nor extends it.
func (j *Judge) Observe(w Window) (Verdict, string) {
	if j.live {
		w = liveWindow(w)
	}
	if v, reason, ok := j.unjudgeable(w); ok {
		return v, reason
	}
	var found []finding
	for _, m := range j.metrics(w) {
		if f, ok := j.judgeMetric(w, m); ok {
			found = append(found, f)
		}
	}
	if len(found) == 0 && j.live {
		return Pass, fmt.Sprintf("no thresholds; %d requests", w.Stable.Requests)
	}
	if len(found) == 0 {
		return Pass, fmt.Sprintf("no thresholds; candidate %d requests, stable %d", w.Candidate.Requests, w.Stable.Requests)
	}
	return worst(found)
}

// liveWindow is w as a live judge sees it: the group that served more
// requests as both stable and candidate.
func liveWindow(w Window) Window {
	live := w.Stable
	if w.Candidate.Requests > live.Requests {
		live = w.Candidate
	}
	w.Stable, w.Candidate = live, live
	return w
}

// who is how reasons name the candidate: "candidate ", or nothing when
// the judge sees the live version alone.
func (j *Judge) who() string {
	if j.live {
		return ""
	}
	return GroupCandidate + " "
}

// unjudgeable returns the verdict of a window whose metrics cannot be
// judged, with ok set: query errors (no data, or a failure once more
// windows in a row had them than the limit), or too few requests for
// either version (no data).
func (j *Judge) unjudgeable(w Window) (Verdict, string, bool) {
	if w.QueryErrors > 0 {
		j.queryErrRun++
		msg := fmt.Sprintf("%d query errors (%d intervals in a row): %s", w.QueryErrors, j.queryErrRun, w.QueryError)
		if j.queryErrRun > j.queryLimit {
			return Fail, msg + fmt.Sprintf("; more than the limit of %d", j.queryLimit), true
		}
		return NoData, msg, true
	}
	j.queryErrRun = 0

	var few []string
	for _, r := range []Reading{w.Candidate, w.Stable} {
		if r.Requests < j.minRequests {
			few = append(few, fmt.Sprintf("%s %d requests", r.Version, r.Requests))
		}
	}
	if j.live && len(few) > 0 {
		few = []string{fmt.Sprintf("%d requests", w.Stable.Requests)}
	}
	if len(few) > 0 {
		return NoData, strings.Join(few, ", ") + fmt.Sprintf(" < min_requests %d", j.minRequests), true
	}
	return 0, "", false
}

// metric is one metric of a window, with what it is judged against.
type metric struct {
	index        int // in Judge.warnSince
	name         string
	cand, stable float64
	threshold    *config.Threshold // nil: none
	margin       float64           // over stable; 0: none
	format       func(float64) string
}

// metrics lists the window's metrics, error rate first.
func (j *Judge) metrics(w Window) []metric {
	return []metric{
		{metricErrorRate, "error rate", w.Candidate.ErrorRate, w.Stable.ErrorRate, j.errorRate, j.relative.ErrorRate, percent},
		{metricLatency, "p95", w.Candidate.P95, w.Stable.P95, j.latency, j.relative.LatencyP95, seconds},
	}
}

// finding is the verdict on one metric, with its reason.
type finding struct {
	v      Verdict
	reason string
}

// judgeMetric judges one metric against its threshold and its margin over
// stable; ok is false when it has neither.
func (j *Judge) judgeMetric(w Window, m metric) (f finding, ok bool) {
	t := m.threshold
	if t == nil && m.margin <= 0 {
		return finding{}, false
	}
	if math.IsNaN(m.cand) || (m.margin > 0 && math.IsNaN(m.stable)) {
		return finding{NoData, "no " + m.name + " could be computed"}, true
	}
	worst := Pass
	var reasons []string
	if t != nil && m.cand > t.Fail {
		worst = Fail
		reasons = append(reasons, fmt.Sprintf("%s%s %s > fail %s", j.who(), m.name, m.format(m.cand), m.format(t.Fail)))
	}
	if m.margin > 0 && m.cand-m.stable > m.margin {
		worst = Fail
		reasons = append(reasons, fmt.Sprintf("candidate %s %s > stable %s + %s", m.name, m.format(m.cand), m.format(m.stable), m.format(m.margin)))
	}
	if v, reason := j.warning(w, m, worst); v != Pass {
		worst = v
		reasons = append(reasons, reason)
	}
	switch {
	case worst == Pass && j.live:
		reasons = append(reasons, fmt.Sprintf("%s %s", m.name, m.format(m.cand)))
	case worst == Pass:
		reasons = append(reasons, fmt.Sprintf("candidate %s %s, stable %s", m.name, m.format(m.cand), m.format(m.stable)))
	}
	return finding{worst, strings.Join(reasons, "; ")}, true
}

// warning keeps track of how long m has been above its warn level and
// returns Warn, or Fail once that lasted more than warn_for, with the
// reason; Pass when m is not warning or already fails (worst).
func (j *Judge) warning(w Window, m metric, worst Verdict) (Verdict, string) {
	t := m.threshold
	if t == nil || t.Warn <= 0 || m.cand <= t.Warn {
		j.warnSince[m.index] = time.Time{}
		return Pass, ""
	}
	if j.warnSince[m.index].IsZero() {
		j.warnSince[m.index] = w.Start
	}
	lasted := w.End.Sub(j.warnSince[m.index])
	switch {
	case worst == Fail:
		return Pass, ""
	case t.WarnFor > 0 && lasted > t.WarnFor:
		return Fail, fmt.Sprintf("%s%s %s > warn %s for %s (warn_for %s)",
			j.who(), m.name, m.format(m.cand), m.format(t.Warn), lasted.Round(time.Second), t.WarnFor)
	default:
		return Warn, fmt.Sprintf("%s%s %s > warn %s for %s", j.who(), m.name, m.format(m.cand), m.format(t.Warn), lasted.Round(time.Second))
	}
}

// worst returns the worst verdict among found, with the reasons of the
// findings that have it. Fail outranks no data: a failing metric is not
// hidden by one that could not be computed.
func worst(found []finding) (Verdict, string) {
	rank := func(v Verdict) int {
		switch v {
		case Fail:
			return 3
		case NoData:
			return 2
		case Warn:
			return 1
		}
		return 0
	}
	verdict := Pass
	for _, f := range found {
		if rank(f.v) > rank(verdict) {
			verdict = f.v
		}
	}
	var reasons []string
	for _, f := range found {
		if f.v == verdict {
			reasons = append(reasons, f.reason)
		}
	}
	return verdict, strings.Join(reasons, "; ")
}

// percent formats a fraction as a percentage with one decimal: "7.0%".
func percent(f float64) string { return strconv.FormatFloat(f*100, 'f', 1, 64) + "%" }

// seconds formats seconds as a duration: "1.5s", "120ms".
func seconds(f float64) string {
	return time.Duration(f * float64(time.Second)).Round(time.Millisecond).String()
}
