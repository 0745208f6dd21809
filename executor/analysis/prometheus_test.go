package analysis

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// fakeProm answers /api/v1/query from a table of query -> response body;
// an unknown query is a Prometheus error. It records what it was asked.
type fakeProm struct {
	mu      sync.Mutex
	answers map[string]string // query -> JSON body ("" means HTTP 500)
	asked   []string
	times   []string
}

func (f *fakeProm) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != "/prom/api/v1/query" || r.Method != http.MethodGet {
		http.NotFound(w, r)
		return
	}
	q := r.URL.Query().Get("query")
	f.mu.Lock()
	f.asked = append(f.asked, q)
	f.times = append(f.times, r.URL.Query().Get("time"))
	body, ok := f.answers[q]
	f.mu.Unlock()
	switch {
	case !ok:
		w.WriteHeader(http.StatusBadRequest)
		fmt.Fprintf(w, `{"status":"error","errorType":"bad_data","error":"parse error in %q"}`, q)
	case body == "":
		http.Error(w, "internal error", http.StatusInternalServerError)
	default:
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, body)
	}
}

func scalar(v string) string {
	return `{"status":"success","data":{"resultType":"scalar","result":[1735787010.5,"` + v + `"]}}`
}

func vector(vs ...string) string {
	var s []string
	for i, v := range vs {
		s = append(s, fmt.Sprintf(`{"metric":{"instance":"%d"},"value":[1735787010.5,"%s"]}`, i, v))
	}
	return `{"status":"success","data":{"resultType":"vector","result":[` + strings.Join(s, ",") + `]}}`
}

var testQueries = PromQueries{
	Requests: `sum(increase(reqs{group="{{version}}"}[{{interval}}]))`,
	Errors:   `sum(increase(reqs{group="{{version}}",code=~"5.."}[{{interval}}]))`,
	P50:      `p50{group="{{version}}"}`,
	P95:      `p95{group="{{version}}"}`,
	P99:      `p99{group="{{version}}"}`,
}

func promAnswers(over map[string]string) map[string]string {
	a := map[string]string{
		`sum(increase(reqs{group="stable"}[30s]))`:                vector("1000.4"),
		`sum(increase(reqs{group="stable",code=~"5.."}[30s]))`:    vector("2"),
		`p50{group="stable"}`:                                     scalar("0.05"),
		`p95{group="stable"}`:                                     vector("0.2"),
		`p99{group="stable"}`:                                     vector("NaN"),
		`sum(increase(reqs{group="candidate"}[30s]))`:             scalar("200"),
		`sum(increase(reqs{group="candidate",code=~"5.."}[30s]))`: vector(),
		`p50{group="candidate"}`:                                  vector("0.06"),
		`p95{group="candidate"}`:                                  vector("0.3"),
		`p99{group="candidate"}`:                                  vector(),
	}
	for k, v := range over {
		a[k] = v
	}
	return a
}

func newProm(t *testing.T, answers map[string]string) (*Prometheus, *fakeProm) {
	t.Helper()
	f := &fakeProm{answers: answers}
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	p, err := NewPrometheus(srv.URL+"/prom", testQueries, srv.Client())
	if err != nil {
		t.Fatal(err)
	}
	return p, f
}

func TestPrometheusRead(t *testing.T) {
	p, f := newProm(t, promAnswers(nil))
	w := read(t, p, 0)
	if w.QueryErrors != 0 {
		t.Fatalf("%d query errors: %s", w.QueryErrors, w.QueryError)
	}
	s, c := w.Stable, w.Candidate
	if s.Version != GroupStable || s.Requests != 1000 || s.Errors != 2 || !near(s.ErrorRate, 0.002) ||
		!near(s.P50, 0.05) || !near(s.P95, 0.2) || !math.IsNaN(s.P99) {
		t.Errorf("stable %+v", s)
	}
	if c.Version != GroupCandidate || c.Requests != 200 || c.Errors != 0 || c.ErrorRate != 0 ||
		!near(c.P50, 0.06) || !near(c.P95, 0.3) || !math.IsNaN(c.P99) {
		t.Errorf("candidate %+v", c)
	}
	if len(f.asked) != 10 {
		t.Errorf("asked %d queries, want 10: %q", len(f.asked), f.asked)
	}
	end := fmt.Sprintf("%d.000", t0.Add(30*time.Second).Unix())
	for _, tm := range f.times {
		if tm != end {
			t.Fatalf("query time %q, want the window's end %q", tm, end)
		}
	}
}

func TestPrometheusQueryErrors(t *testing.T) {
	tests := []struct {
		name  string
		over  map[string]string
		want  int    // query errors
		match string // in QueryError
		check func(t *testing.T, w Window)
	}{
		{name: "api error", over: map[string]string{`p95{group="candidate"}`: `{"status":"error","errorType":"timeout","error":"query timed out"}`},
			want: 1, match: "timeout: query timed out",
			check: func(t *testing.T, w Window) {
				if !math.IsNaN(w.Candidate.P95) || w.Candidate.Requests != 200 {
					t.Errorf("candidate %+v: the failed query's value is unknown, the others stay", w.Candidate)
				}
			}},
		{name: "http 500", over: map[string]string{`p50{group="stable"}`: ""}, want: 1, match: "not the API's JSON"},
		{name: "several samples", over: map[string]string{`p95{group="stable"}`: vector("0.1", "0.2")}, want: 1, match: "vector of 2 samples"},
		{name: "matrix", over: map[string]string{`p95{group="stable"}`: `{"status":"success","data":{"resultType":"matrix","result":[]}}`},
			want: 1, match: `result type "matrix"`},
		{name: "bad value", over: map[string]string{`p95{group="stable"}`: vector("fast")}, want: 1, match: `sample value "fast"`},
		{name: "requests fail", over: map[string]string{`sum(increase(reqs{group="candidate"}[30s]))`: ""}, want: 1,
			check: func(t *testing.T, w Window) {
				if w.Candidate.Requests != 0 || !math.IsNaN(w.Candidate.ErrorRate) {
					t.Errorf("candidate %+v: without the request count there is no error rate", w.Candidate)
				}
			}},
		{name: "every query", over: map[string]string{
			`sum(increase(reqs{group="stable"}[30s]))`: "", `sum(increase(reqs{group="candidate"}[30s]))`: "",
			`sum(increase(reqs{group="stable",code=~"5.."}[30s]))`: ""}, want: 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, _ := newProm(t, promAnswers(tt.over))
			w := read(t, p, 0)
			if w.QueryErrors != tt.want || !strings.Contains(w.QueryError, tt.match) {
				t.Fatalf("QueryErrors %d %q, want %d containing %q", w.QueryErrors, w.QueryError, tt.want, tt.match)
			}
			if !strings.Contains(w.QueryError, "prometheus query failed") {
				t.Errorf("QueryError %q does not say a query failed", w.QueryError)
			}
			if tt.check != nil {
				tt.check(t, w)
			}
			// The judge sees no data, never a pass.
			if v, _ := NewJudge(standard(), JudgeOptions{}).Observe(w); v != NoData {
				t.Errorf("verdict %s, want no data", v)
			}
		})
	}
}

func TestPrometheusUnreachable(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL
	srv.Close()
	p, err := NewPrometheus(url, testQueries, nil)
	if err != nil {
		t.Fatal(err)
	}
	w := read(t, p, 0)
	if w.QueryErrors != 10 {
		t.Fatalf("QueryErrors %d, want 10 (every query): %s", w.QueryErrors, w.QueryError)
	}
}

func TestPrometheusHonoursContext(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		cancel() // the caller gives up while the first query runs
		<-r.Context().Done()
	}))
	defer srv.Close()
	p, err := NewPrometheus(srv.URL, testQueries, srv.Client())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.Read(ctx, t0, t0.Add(30*time.Second)); !errors.Is(err, context.Canceled) {
		t.Fatalf("Read: %v, want context.Canceled", err)
	}
}

func TestNewPrometheusRejects(t *testing.T) {
	tests := []struct {
		url string
		q   PromQueries
	}{
		{"127.0.0.1:9090", testQueries},
		{"ftp://127.0.0.1", testQueries},
		{"http://", testQueries},
		{"http://127.0.0.1:9090", PromQueries{Requests: "up"}},
		{"http://127.0.0.1:9090", PromQueries{Errors: "up"}},
	}
	for _, tt := range tests {
		if _, err := NewPrometheus(tt.url, tt.q, nil); !errors.Is(err, ErrInvalidSource) {
			t.Errorf("NewPrometheus(%q, %+v) error = %v, want ErrInvalidSource", tt.url, tt.q, err)
		}
	}
}

func TestExpand(t *testing.T) {
	tests := []struct {
		d    time.Duration
		want string
	}{
		{30 * time.Second, `x{g="candidate"}[30s]`},
		{1500 * time.Millisecond, `x{g="candidate"}[1500ms]`},
		{0, `x{g="candidate"}[1ms]`},
	}
	for _, tt := range tests {
		if got := expand(`x{g="{{version}}"}[{{interval}}]`, GroupCandidate, tt.d); got != tt.want {
			t.Errorf("expand(%s) = %q, want %q", tt.d, got, tt.want)
		}
	}
}
