package analysis

import (
	"context"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/slipwayhq/slipway/config"
	"github.com/slipwayhq/slipway/planner/plan"
	"github.com/slipwayhq/slipway/state/records"
)

// Analyzer runs the analysis step of a canary (the executor's Analyzer):
// the source its plan.Analysis names, judged window by window by its
// analysis block, against stable.
type Analyzer struct{}

// Analyse runs step s for its pause, reporting each window's readings,
// verdict and reason. It fails on a fail verdict, and on a step that ended
// without data (no data is never a pass).
func (Analyzer) Analyse(ctx context.Context, s *plan.Step, report func([]records.AnalysisReading, string, string)) error {
	spec := s.AnalysisSpec
	if spec == nil {
		return fmt.Errorf("no analysis block is named %q", s.Analysis)
	}
	an := &spec.Block
	src, closeSrc, err := Open(ctx, spec)
	if err != nil {
		return err
	}
	defer closeSrc()
	g := &Gate{
		Source:   src,
		Judge:    NewJudge(an, OptionsFor(an)),
		Interval: an.Interval,
		Duration: s.Pause,
		OnWindow: func(w Window, v Verdict, reason string) {
			report(w.Records(s.Index, v), v.String(), reason)
		},
	}
	v, reason, err := g.Run(ctx)
	if err != nil {
		return fmt.Errorf("analysis %q: %w", an.Name, err)
	}
	switch v {
	case Fail:
		return fmt.Errorf("analysis %q failed: %s", an.Name, reason)
	case NoData:
		return fmt.Errorf("analysis %q has no data: %s (min_requests %d); no data is never a pass (for a quiet service use source = \"probe\")", an.Name, reason, an.MinRequests)
	}
	return nil
}

// Open opens the source spec names, reading the versions of its
// service: nginx's access log, Prometheus (each group's queries expanded
// for its release), or slipway's own probe requests (started here, at
// the rate the block's min_requests needs, until close or ctx ends).
// Call close when done.
func Open(ctx context.Context, spec *plan.Analysis) (src Source, close func(), err error) {
	an := &spec.Block
	switch an.Source {
	case "nginx", "":
		if spec.AccessLog == "" {
			return nil, nil, fmt.Errorf("analysis %q reads nginx's access log, but the nginx block names none", an.Name)
		}
		n := NewNginx(spec.AccessLog, Route(spec.Project, spec.Env, spec.Service))
		return n, func() { n.Close() }, nil
	case "probe":
		p, err := NewProbe(ProbeOptions{URL: spec.URL, Host: spec.Host, Header: spec.Header, Rate: probeRate(an)})
		if err != nil {
			return nil, nil, err
		}
		p.Start(ctx)
		return p, p.Stop, nil
	case "prometheus":
		if an.Prometheus == nil {
			return nil, nil, fmt.Errorf("analysis %q reads Prometheus, but has no prometheus block", an.Name)
		}
		p, err := prometheusSource(an, spec.StableRelease, spec.CandidateRelease)
		if err != nil {
			return nil, nil, fmt.Errorf("analysis %q: %w", an.Name, err)
		}
		return p, func() {}, nil
	}
	return nil, nil, fmt.Errorf("analysis %q: the %s source is not available in this slipway; use \"nginx\", \"prometheus\" or \"probe\"", an.Name, an.Source)
}

// OptionsFor returns what the analysis block declares beyond its
// thresholds: the margins against stable and the query error limit.
func OptionsFor(an *config.Analysis) JudgeOptions {
	o := JudgeOptions{QueryErrorLimit: an.QueryErrorLimit}
	if an.ErrorRate != nil {
		o.Relative.ErrorRate = an.ErrorRate.Relative
	}
	if an.LatencyP95 != nil {
		o.Relative.LatencyP95 = an.LatencyP95.Relative
	}
	return o
}

// maxProbeRate bounds the requests per second the probe sends per group.
const maxProbeRate = 200

// probeRate returns the probe's requests per second for each group: enough
// for four times min_requests in every window, so that a healthy quiet
// service has data while up to 75% of the split goes to the candidate (the
// sender without the canary header reaches stable only through the split);
// at least DefaultProbeRate, at most maxProbeRate.
func probeRate(an *config.Analysis) int {
	if an.Interval <= 0 {
		return DefaultProbeRate
	}
	r := int(math.Ceil(4 * float64(an.MinRequests) / an.Interval.Seconds()))
	return min(max(r, DefaultProbeRate), maxProbeRate)
}

// placeholderRelease is replaced in Prometheus queries by the release
// number of the version read, as the io.slipway.release label of its
// containers carries it.
const placeholderRelease = "{{release}}"

// promTimeout bounds one Prometheus query.
const promTimeout = 10 * time.Second

// prometheusSource returns the Source of a prometheus analysis. Queries
// that tell the versions apart by {{release}} are expanded once for each
// version's release; the stable reading then comes from the stable
// release's queries and the candidate reading from the candidate's.
func prometheusSource(an *config.Analysis, stable, candidate int) (Source, error) {
	pc := an.Prometheus
	q := PromQueries{Requests: pc.Requests, Errors: pc.Errors, P50: pc.P50, P95: pc.P95, P99: pc.P99}
	client := &http.Client{Timeout: promTimeout}
	if !strings.Contains(strings.Join([]string{q.Requests, q.Errors, q.P50, q.P95, q.P99}, "\n"), placeholderRelease) {
		return NewPrometheus(pc.URL, q, client)
	}
	at := func(release int) PromQueries {
		r := strconv.Itoa(release)
		ex := func(s string) string { return strings.ReplaceAll(s, placeholderRelease, r) }
		return PromQueries{Requests: ex(q.Requests), Errors: ex(q.Errors), P50: ex(q.P50), P95: ex(q.P95), P99: ex(q.P99)}
	}
	s, err := NewPrometheus(pc.URL, at(stable), client)
	if err != nil {
		return nil, err
	}
	c, err := NewPrometheus(pc.URL, at(candidate), client)
	if err != nil {
		return nil, err
	}
	return byRelease{stable: s, candidate: c}, nil
}

// byRelease reads the stable group from one source and the candidate group
// from another: the same queries, expanded for each version's release.
type byRelease struct {
	stable, candidate Source
}

// Read implements Source. The query errors of both reads count.
func (b byRelease) Read(ctx context.Context, from, to time.Time) (Window, error) {
	w, err := b.stable.Read(ctx, from, to)
	if err != nil {
		return Window{}, err
	}
	c, err := b.candidate.Read(ctx, from, to)
	if err != nil {
		return Window{}, err
	}
	w.Candidate = c.Candidate
	w.QueryErrors += c.QueryErrors
	if c.QueryError != "" {
		w.QueryError = c.QueryError
	}
	return w, nil
}

var _ Source = byRelease{}
