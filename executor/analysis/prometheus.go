package analysis

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// ErrInvalidSource is the cause of the errors of the source constructors.
var ErrInvalidSource = errors.New("invalid analysis source")

// ErrQuery is the cause of every failed Prometheus query.
var ErrQuery = errors.New("prometheus query failed")

// Placeholders PromQueries may contain.
const (
	// PlaceholderVersion is replaced by "stable" or "candidate".
	PlaceholderVersion = "{{version}}"
	// PlaceholderInterval is replaced by the window's length as a
	// Prometheus duration ("30s", "1500ms"), for range selectors.
	PlaceholderInterval = "{{interval}}"
)

// PromQueries are the PromQL expressions of one analysis, each run once
// per version and window as an instant query at the window's end. Each must
// return a scalar or a vector of at most one sample; an empty vector is 0
// for Requests and Errors and "unknown" (NaN) for the latencies. Requests
// and Errors are required; the latency queries are optional. Example:
//
//	Requests: `sum(increase(http_requests_total{group="{{version}}"}[{{interval}}]))`
//	Errors:   `sum(increase(http_requests_total{group="{{version}}",code=~"5.."}[{{interval}}]))`
//	P95:      `histogram_quantile(0.95, sum by (le) (rate(http_request_duration_seconds_bucket{group="{{version}}"}[{{interval}}])))`
type PromQueries struct {
	Requests, Errors string
	P50, P95, P99    string
}

// maxPromBody bounds the response of one query.
const maxPromBody = 1 << 20

// Prometheus is a Source that runs instant queries against a Prometheus
// HTTP API (GET /api/v1/query). A query that fails (transport error,
// non-2xx status, "status":"error", an unexpected result) is counted in
// Window.QueryErrors; the window then holds what the other queries gave.
type Prometheus struct {
	base    *url.URL
	queries PromQueries
	client  *http.Client
}

// NewPrometheus returns a Source querying the Prometheus at baseURL (such
// as http://127.0.0.1:9090; a path prefix is kept) with client
// (http.DefaultClient when nil).
func NewPrometheus(baseURL string, queries PromQueries, client *http.Client) (*Prometheus, error) {
	u, err := url.Parse(baseURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("prometheus url %q: %w: want http(s)://host[:port][/prefix]", baseURL, ErrInvalidSource)
	}
	if strings.TrimSpace(queries.Requests) == "" || strings.TrimSpace(queries.Errors) == "" {
		return nil, fmt.Errorf("prometheus queries: %w: requests and errors are required", ErrInvalidSource)
	}
	if client == nil {
		client = http.DefaultClient
	}
	return &Prometheus{base: u, queries: queries, client: client}, nil
}

// Read implements Source.
func (p *Prometheus) Read(ctx context.Context, from, to time.Time) (Window, error) {
	w := Window{Start: from, End: to}
	for _, version := range []string{GroupStable, GroupCandidate} {
		r := Reading{Version: version, ErrorRate: math.NaN(), P50: math.NaN(), P95: math.NaN(), P99: math.NaN()}
		run := func(q string, emptyIs float64) (float64, bool) {
			if q == "" {
				return math.NaN(), true
			}
			v, err := p.query(ctx, expand(q, version, to.Sub(from)), to, emptyIs)
			if err != nil {
				w.QueryErrors++
				w.QueryError = err.Error()
				return math.NaN(), false
			}
			return v, true
		}
		reqs, okR := run(p.queries.Requests, 0)
		errs, okE := run(p.queries.Errors, 0)
		if okR && okE && !math.IsNaN(reqs) && !math.IsNaN(errs) {
			r.Requests = int(math.Round(reqs))
			r.Errors = min(int(math.Round(errs)), r.Requests)
			if r.Requests > 0 {
				r.ErrorRate = float64(r.Errors) / float64(r.Requests)
			}
		}
		r.P50, _ = run(p.queries.P50, math.NaN())
		r.P95, _ = run(p.queries.P95, math.NaN())
		r.P99, _ = run(p.queries.P99, math.NaN())
		if err := ctx.Err(); err != nil {
			return Window{}, err
		}
		if version == GroupStable {
			w.Stable = r
		} else {
			w.Candidate = r
		}
	}
	return w, nil
}

// expand replaces the placeholders of q.
func expand(q, version string, interval time.Duration) string {
	q = strings.ReplaceAll(q, PlaceholderVersion, version)
	return strings.ReplaceAll(q, PlaceholderInterval, promDuration(interval))
}

// promDuration writes d as a Prometheus duration: whole seconds when it
// is, else milliseconds (at least 1ms).
func promDuration(d time.Duration) string {
	if d%time.Second == 0 && d > 0 {
		return strconv.FormatInt(int64(d/time.Second), 10) + "s"
	}
	return strconv.FormatInt(max(int64(d/time.Millisecond), 1), 10) + "ms"
}

// promResponse is the JSON of /api/v1/query.
type promResponse struct {
	Status    string `json:"status"`
	ErrorType string `json:"errorType"`
	Error     string `json:"error"`
	Data      struct {
		ResultType string          `json:"resultType"`
		Result     json.RawMessage `json:"result"`
	} `json:"data"`
}

// query runs one instant query at t and returns its value; emptyIs is the
// value of an empty vector.
func (p *Prometheus) query(ctx context.Context, q string, t time.Time, emptyIs float64) (float64, error) {
	u := p.base.JoinPath("api", "v1", "query")
	v := url.Values{}
	v.Set("query", q)
	v.Set("time", strconv.FormatFloat(float64(t.UnixNano())/1e9, 'f', 3, 64))
	u.RawQuery = v.Encode()
	fail := func(format string, args ...any) (float64, error) {
		return math.NaN(), fmt.Errorf("query %q: %w: %s", q, ErrQuery, fmt.Sprintf(format, args...))
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return fail("%v", err)
	}
	resp, err := p.client.Do(req)
	if err != nil {
		return fail("%v", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxPromBody))
	if err != nil {
		return fail("read response: %v", err)
	}
	var pr promResponse
	if err := json.Unmarshal(body, &pr); err != nil {
		return fail("status %d, not the API's JSON: %v", resp.StatusCode, err)
	}
	if pr.Status != "success" {
		return fail("%s: %s", pr.ErrorType, pr.Error)
	}
	if resp.StatusCode/100 != 2 {
		return fail("status %d", resp.StatusCode)
	}
	switch pr.Data.ResultType {
	case "scalar":
		var sample [2]json.RawMessage
		if err := json.Unmarshal(pr.Data.Result, &sample); err != nil {
			return fail("scalar result: %v", err)
		}
		return sampleValue(sample, fail)
	case "vector":
		var vec []struct {
			Value [2]json.RawMessage `json:"value"`
		}
		if err := json.Unmarshal(pr.Data.Result, &vec); err != nil {
			return fail("vector result: %v", err)
		}
		switch len(vec) {
		case 0:
			return emptyIs, nil
		case 1:
			return sampleValue(vec[0].Value, fail)
		}
		return fail("vector of %d samples, want one: aggregate it (sum, max, ...)", len(vec))
	}
	return fail("result type %q, want scalar or vector", pr.Data.ResultType)
}

// sampleValue reads the value of a [time, "value"] pair.
func sampleValue(s [2]json.RawMessage, fail func(string, ...any) (float64, error)) (float64, error) {
	var str string
	if err := json.Unmarshal(s[1], &str); err != nil {
		return fail("sample value: %v", err)
	}
	f, err := strconv.ParseFloat(str, 64) // also "NaN", "+Inf"
	if err != nil {
		return fail("sample value %q: %v", str, err)
	}
	return f, nil
}

var _ Source = (*Prometheus)(nil)
