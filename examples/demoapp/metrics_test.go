package main

import (
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"
)

func newRecorder() *httptest.ResponseRecorder { return httptest.NewRecorder() }

func metricsText(s *server) string {
	var b strings.Builder
	_ = s.metrics.writeTo(&b, s.cfg.Version, s.cfg.Color)
	return b.String()
}

func TestMetricsExposition(t *testing.T) {
	var m metrics
	for _, o := range []struct {
		code int
		d    time.Duration
	}{
		{200, 3 * time.Millisecond},
		{200, 5 * time.Millisecond}, // on a bound: le is inclusive
		{500, 30 * time.Millisecond},
		{200, 2 * time.Second},
		{404, 20 * time.Second}, // beyond the last bucket: only +Inf
	} {
		m.observe(o.code, o.d)
	}
	var b strings.Builder
	if err := m.writeTo(&b, `v"1`, "blue"); err != nil {
		t.Fatal(err)
	}
	want := `# HELP demoapp_info Build information of the running demoapp.
# TYPE demoapp_info gauge
demoapp_info{version="v\"1",color="blue"} 1
# HELP demoapp_requests_total Requests served, by HTTP status code.
# TYPE demoapp_requests_total counter
demoapp_requests_total{code="200"} 3
demoapp_requests_total{code="404"} 1
demoapp_requests_total{code="500"} 1
# HELP demoapp_request_duration_seconds Time taken to serve requests.
# TYPE demoapp_request_duration_seconds histogram
demoapp_request_duration_seconds_bucket{le="0.005"} 2
demoapp_request_duration_seconds_bucket{le="0.01"} 2
demoapp_request_duration_seconds_bucket{le="0.025"} 2
demoapp_request_duration_seconds_bucket{le="0.05"} 3
demoapp_request_duration_seconds_bucket{le="0.1"} 3
demoapp_request_duration_seconds_bucket{le="0.25"} 3
demoapp_request_duration_seconds_bucket{le="0.5"} 3
demoapp_request_duration_seconds_bucket{le="1"} 3
demoapp_request_duration_seconds_bucket{le="2.5"} 4
demoapp_request_duration_seconds_bucket{le="5"} 4
demoapp_request_duration_seconds_bucket{le="10"} 4
demoapp_request_duration_seconds_bucket{le="+Inf"} 5
demoapp_request_duration_seconds_sum 22.038
demoapp_request_duration_seconds_count 5
`
	if got := b.String(); got != want {
		t.Errorf("exposition:\n%s\nwant:\n%s", got, want)
	}
}

// TestMetricsWellFormed checks the rules a Prometheus parser enforces on a
// live server's output: every sample belongs to a declared family, buckets
// are cumulative and +Inf equals the count.
func TestMetricsWellFormed(t *testing.T) {
	s := newServer(config{Version: "1", FailPPM: 300000}, nil)
	for range 50 {
		get(t, s, "/")
	}
	get(t, s, "/missing")
	body := get(t, s, "/metrics").Body.String()
	types := map[string]string{}
	var last, inf, count float64 = -1, -1, -2
	for _, line := range strings.Split(strings.TrimSuffix(body, "\n"), "\n") {
		if rest, ok := strings.CutPrefix(line, "# TYPE "); ok {
			f := strings.Fields(rest)
			types[f[0]] = f[1]
			continue
		}
		if strings.HasPrefix(line, "# HELP ") {
			continue
		}
		name, value, ok := strings.Cut(line, " ")
		if !ok {
			t.Fatalf("malformed line %q", line)
		}
		v, err := strconv.ParseFloat(value, 64)
		if err != nil {
			t.Fatalf("line %q: %v", line, err)
		}
		family, _, _ := strings.Cut(name, "{")
		base := strings.TrimSuffix(strings.TrimSuffix(strings.TrimSuffix(family, "_bucket"), "_sum"), "_count")
		if types[family] == "" && types[base] != "histogram" {
			t.Errorf("sample %q has no TYPE line", line)
		}
		switch {
		case strings.HasSuffix(family, "_bucket") && strings.Contains(name, `le="+Inf"`):
			inf = v
		case strings.HasSuffix(family, "_bucket"):
			if v < last {
				t.Errorf("bucket %q is below the previous one", line)
			}
			last = v
		case family == "demoapp_request_duration_seconds_count":
			count = v
		}
	}
	if inf != count || count != 51 {
		t.Errorf("+Inf bucket %v, count %v, want both 51", inf, count)
	}
	for _, want := range []string{`demoapp_requests_total{code="500"} 15`, `demoapp_requests_total{code="200"} 35`, `demoapp_requests_total{code="404"} 1`} {
		if !strings.Contains(body, want+"\n") {
			t.Errorf("metrics lack %q:\n%s", want, body)
		}
	}
}
