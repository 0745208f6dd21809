package cli

import (
	"context"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/slipwayhq/slipway/config"
	"github.com/slipwayhq/slipway/executor"
	"github.com/slipwayhq/slipway/executor/analysis"
	"github.com/slipwayhq/slipway/planner/plan"
	"github.com/slipwayhq/slipway/state/records"
)

// analyzer runs a canary step's analysis from the source its analysis
// block names: nginx's access log, Prometheus, or slipway's own probe
// requests.
type analyzer struct {
	se *session
}

var _ executor.Analyzer = analyzer{}

func (a analyzer) Analyse(ctx context.Context, s *plan.Step, report func([]records.AnalysisReading, string, string)) error {
	spec := s.AnalysisSpec
	if spec == nil {
		return fmt.Errorf("no analysis block is named %q", s.Analysis)
	}
	an := &spec.Block
	var src analysis.Source
	switch an.Source {
	case "probe":
		p, err := analysis.NewProbe(analysis.ProbeOptions{URL: spec.URL, Host: spec.Host, Header: spec.Header, Rate: probeRate(an)})
		if err != nil {
			return err
		}
		p.Start(ctx)
		defer p.Stop()
		src = p
	case "nginx", "":
		if spec.AccessLog == "" {
			return fmt.Errorf("analysis %q reads nginx's access log, but the nginx block names none", s.Analysis)
		}
		n := analysis.NewNginx(spec.AccessLog, analysis.Route(spec.Project, spec.Env, spec.Service))
		defer n.Close()
		src = n
	case "prometheus":
		if an.Prometheus == nil {
			return fmt.Errorf("analysis %q reads Prometheus, but has no prometheus block", s.Analysis)
		}
		p, err := prometheusSource(an, spec.StableRelease, spec.CandidateRelease)
		if err != nil {
			return fmt.Errorf("analysis %q: %w", s.Analysis, err)
		}
		src = p
	default:
		return fmt.Errorf("analysis %q: the %s source is not available in this slipway; use \"nginx\", \"prometheus\" or \"probe\"", s.Analysis, an.Source)
	}
	g := &analysis.Gate{
		Source:   src,
		Judge:    analysis.NewJudge(an, judgeOptions(an)),
		Interval: an.Interval,
		Duration: s.Pause,
		OnWindow: func(w analysis.Window, v analysis.Verdict, reason string) {
			report(w.Records(s.Index, v), v.String(), reason)
		},
	}
	v, reason, err := g.Run(ctx)
	if err != nil {
		return fmt.Errorf("analysis %q: %w", s.Analysis, err)
	}
	switch v {
	case analysis.Fail:
		return fmt.Errorf("analysis %q failed: %s", s.Analysis, reason)
	case analysis.NoData:
		return fmt.Errorf("analysis %q has no data: %s (min_requests %d); no data is never a pass (for a quiet service use source = \"probe\")", s.Analysis, reason, an.MinRequests)
	}
	return nil
}

// judgeOptions returns what the analysis block declares beyond its
// thresholds: the margins against stable and the query error limit.
func judgeOptions(an *config.Analysis) analysis.JudgeOptions {
	o := analysis.JudgeOptions{QueryErrorLimit: an.QueryErrorLimit}
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
// at least analysis.DefaultProbeRate, at most maxProbeRate.
func probeRate(an *config.Analysis) int {
	if an.Interval <= 0 {
		return analysis.DefaultProbeRate
	}
	r := int(math.Ceil(4 * float64(an.MinRequests) / an.Interval.Seconds()))
	return min(max(r, analysis.DefaultProbeRate), maxProbeRate)
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
func prometheusSource(an *config.Analysis, stable, candidate int) (analysis.Source, error) {
	pc := an.Prometheus
	q := analysis.PromQueries{Requests: pc.Requests, Errors: pc.Errors, P50: pc.P50, P95: pc.P95, P99: pc.P99}
	client := &http.Client{Timeout: promTimeout}
	if !strings.Contains(strings.Join([]string{q.Requests, q.Errors, q.P50, q.P95, q.P99}, "\n"), placeholderRelease) {
		return analysis.NewPrometheus(pc.URL, q, client)
	}
	at := func(release int) analysis.PromQueries {
		r := strconv.Itoa(release)
		ex := func(s string) string { return strings.ReplaceAll(s, placeholderRelease, r) }
		return analysis.PromQueries{Requests: ex(q.Requests), Errors: ex(q.Errors), P50: ex(q.P50), P95: ex(q.P95), P99: ex(q.P99)}
	}
	s, err := analysis.NewPrometheus(pc.URL, at(stable), client)
	if err != nil {
		return nil, err
	}
	c, err := analysis.NewPrometheus(pc.URL, at(candidate), client)
	if err != nil {
		return nil, err
	}
	return byRelease{stable: s, candidate: c}, nil
}

// byRelease reads the stable group from one source and the candidate group
// from another: the same queries, expanded for each version's release.
type byRelease struct {
	stable, candidate analysis.Source
}

// Read implements analysis.Source. The query errors of both reads count.
func (b byRelease) Read(ctx context.Context, from, to time.Time) (analysis.Window, error) {
	w, err := b.stable.Read(ctx, from, to)
	if err != nil {
		return analysis.Window{}, err
	}
	c, err := b.candidate.Read(ctx, from, to)
	if err != nil {
		return analysis.Window{}, err
	}
	w.Candidate = c.Candidate
	w.QueryErrors += c.QueryErrors
	if c.QueryError != "" {
		w.QueryError = c.QueryError
	}
	return w, nil
}

var _ analysis.Source = byRelease{}
