package main

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

func envFunc(kv ...string) func(string) string {
	m := map[string]string{}
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i]] = kv[i+1]
	}
	return func(k string) string { return m[k] }
}

func TestConfigFromEnv(t *testing.T) {
	tests := []struct {
		name    string
		env     []string
		want    config
		wantErr []string
	}{
		{name: "defaults", want: config{Port: "8080", Version: "dev", Color: "none"}},
		{
			name: "all knobs",
			env:  []string{"PORT", "9000", "VERSION", "v2", "COLOR", "green", "FAIL_RATE", "0.07", "LATENCY_MS", "25", "FAIL_HEALTH", "true", "DEMO_LOG_ENV", "1"},
			want: config{Port: "9000", Version: "v2", Color: "green", FailPPM: 70000, Latency: 25_000_000, FailHealth: true, LogEnv: true},
		},
		{name: "color from slipway", env: []string{"SLIPWAY_COLOR", "green"}, want: config{Port: "8080", Version: "dev", Color: "green"}},
		{name: "COLOR wins over SLIPWAY_COLOR", env: []string{"SLIPWAY_COLOR", "green", "COLOR", "blue"}, want: config{Port: "8080", Version: "dev", Color: "blue"}},
		{name: "rate one", env: []string{"FAIL_RATE", "1"}, want: config{Port: "8080", Version: "dev", Color: "none", FailPPM: ratePrecision}},
		{name: "rate rounds to ppm", env: []string{"FAIL_RATE", "0.0000004"}, want: config{Port: "8080", Version: "dev", Color: "none"}},
		{
			name:    "every bad value reported",
			env:     []string{"PORT", "http", "FAIL_RATE", "1.5", "LATENCY_MS", "-1", "FAIL_HEALTH", "maybe", "DEMO_LOG_ENV", "2"},
			wantErr: []string{"PORT", "FAIL_RATE", "LATENCY_MS", "FAIL_HEALTH", "DEMO_LOG_ENV"},
		},
		{name: "rate not a number", env: []string{"FAIL_RATE", "NaN"}, wantErr: []string{"FAIL_RATE"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := configFromEnv(envFunc(tt.env...))
			if len(tt.wantErr) > 0 {
				if err == nil {
					t.Fatalf("configFromEnv() = %+v, want error", got)
				}
				for _, w := range tt.wantErr {
					if !strings.Contains(err.Error(), w) {
						t.Errorf("error %q does not mention %s", err, w)
					}
				}
				return
			}
			if err != nil {
				t.Fatalf("configFromEnv(): %v", err)
			}
			if got != tt.want {
				t.Errorf("configFromEnv() = %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestShouldFailSpread(t *testing.T) {
	tests := []struct {
		rate           string
		window, perWin int // every window of `window` consecutive requests holds perWin failures
		minGap, maxGap int // distance between consecutive failures
		start          uint64
	}{
		{rate: "0.07", window: 100, perWin: 7, minGap: 14, maxGap: 15},
		{rate: "0.5", window: 2, perWin: 1, minGap: 2, maxGap: 2},
		{rate: "0.25", window: 4, perWin: 1, minGap: 4, maxGap: 4},
		{rate: "0.01", window: 100, perWin: 1, minGap: 100, maxGap: 100},
		{rate: "0.07", window: 100, perWin: 7, minGap: 14, maxGap: 15, start: 1<<63 - 50}, // no overflow
		{rate: "1", window: 10, perWin: 10, minGap: 1, maxGap: 1},
		{rate: "0", window: 10, perWin: 0},
	}
	for _, tt := range tests {
		t.Run(tt.rate, func(t *testing.T) {
			ppm, err := parseRate(tt.rate)
			if err != nil {
				t.Fatal(err)
			}
			const total = 10_000
			fails := make([]bool, total)
			var at []int
			for i := range fails {
				fails[i] = shouldFail(tt.start+uint64(i), ppm)
				if fails[i] {
					at = append(at, i)
				}
			}
			for s := 0; s+tt.window <= total; s++ {
				n := 0
				for _, f := range fails[s : s+tt.window] {
					if f {
						n++
					}
				}
				if n != tt.perWin {
					t.Fatalf("requests %d..%d hold %d failures, want %d", s, s+tt.window-1, n, tt.perWin)
				}
			}
			for i := 1; i < len(at); i++ {
				if gap := at[i] - at[i-1]; gap < tt.minGap || gap > tt.maxGap {
					t.Fatalf("failures at %d and %d: gap %d outside [%d, %d]", at[i-1], at[i], gap, tt.minGap, tt.maxGap)
				}
			}
		})
	}
}

// get performs one request against h and returns the recorded response.
func get(t *testing.T, h http.Handler, path string) *httptest.ResponseRecorder {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
	return rec
}

func TestFailRateThroughHTTP(t *testing.T) {
	cfg, err := configFromEnv(envFunc("FAIL_RATE", "0.07", "VERSION", "v3"))
	if err != nil {
		t.Fatal(err)
	}
	s := newServer(cfg, nil)
	for round := range 3 {
		codes := map[int]int{}
		for range 100 {
			codes[get(t, s, "/").Code]++
		}
		if codes[500] != 7 || codes[200] != 93 {
			t.Fatalf("round %d: codes %v, want 7x500 and 93x200", round, codes)
		}
	}
	m := get(t, s, "/metrics").Body.String()
	for _, want := range []string{`demoapp_requests_total{code="200"} 279` + "\n", `demoapp_requests_total{code="500"} 21` + "\n"} {
		if !strings.Contains(m, want) {
			t.Errorf("metrics lack %q:\n%s", want, m)
		}
	}
}

func TestFailRateConcurrent(t *testing.T) {
	s := newServer(config{Version: "v", FailPPM: 70000}, nil)
	var mu sync.Mutex
	fails := 0
	var wg sync.WaitGroup
	for range 10 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 100 {
				if get(t, s, "/").Code == 500 {
					mu.Lock()
					fails++
					mu.Unlock()
				}
			}
		}()
	}
	wg.Wait()
	if fails != 70 {
		t.Errorf("1000 concurrent requests had %d failures, want 70", fails)
	}
}

func TestRoutes(t *testing.T) {
	tests := []struct {
		name       string
		cfg        config
		path       string
		wantCode   int
		wantBody   string // substring
		wantHeader map[string]string
	}{
		{
			name: "root", cfg: config{Version: "1.2.3", Color: "blue"}, path: "/", wantCode: 200,
			wantBody:   "demoapp version=1.2.3 color=blue\n",
			wantHeader: map[string]string{"X-Demo-Version": "1.2.3", "Content-Type": "text/plain; charset=utf-8"},
		},
		{name: "unknown path", cfg: config{Version: "1"}, path: "/nope", wantCode: 404},
		{name: "health ok", path: "/health", wantCode: 200, wantBody: "ok"},
		{name: "health failing", cfg: config{FailHealth: true}, path: "/health", wantCode: 503},
		{name: "root all failing", cfg: config{FailPPM: ratePrecision}, path: "/", wantCode: 500, wantBody: "injected failure"},
		{name: "health ignores fail rate", cfg: config{FailPPM: ratePrecision}, path: "/health", wantCode: 200},
		{
			name: "static css", path: "/static/app.css", wantCode: 200, wantBody: "font-family",
			wantHeader: map[string]string{"Content-Type": "text/css; charset=utf-8"},
		},
		{name: "static missing", path: "/static/nope.js", wantCode: 404},
		{name: "env hidden", path: "/env", wantCode: 404},
		{name: "env shown", cfg: config{LogEnv: true}, path: "/env", wantCode: 200, wantBody: "SECRET_KEY=hunter2\n"},
		{name: "ws without upgrade", path: "/ws", wantCode: 400},
		{
			name: "metrics content type", path: "/metrics", wantCode: 200, wantBody: "# TYPE demoapp_requests_total counter",
			wantHeader: map[string]string{"Content-Type": "text/plain; version=0.0.4; charset=utf-8"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := get(t, newServer(tt.cfg, []string{"SECRET_KEY=hunter2"}), tt.path)
			if rec.Code != tt.wantCode {
				t.Errorf("GET %s = %d, want %d", tt.path, rec.Code, tt.wantCode)
			}
			if !strings.Contains(rec.Body.String(), tt.wantBody) {
				t.Errorf("GET %s body %q lacks %q", tt.path, rec.Body.String(), tt.wantBody)
			}
			for k, v := range tt.wantHeader {
				if got := rec.Header().Get(k); got != v {
					t.Errorf("GET %s header %s = %q, want %q", tt.path, k, got, v)
				}
			}
		})
	}
}

func TestLatencyIsAdded(t *testing.T) {
	s := newServer(config{Latency: 30 * time.Millisecond}, nil)
	get(t, s, "/")
	// The timer guarantees at least the delay, so this lower bound cannot flake.
	m := get(t, s, "/metrics").Body.String()
	if !strings.Contains(m, `demoapp_request_duration_seconds_bucket{le="0.025"} 0`+"\n") {
		t.Errorf("a request delayed 30ms landed in the 25ms bucket:\n%s", m)
	}
}

func TestLatencyStopsWithClient(t *testing.T) {
	s := newServer(config{Latency: time.Minute}, nil)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	rec := httptest.NewRecorder()
	s.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/", nil).WithContext(ctx))
	if rec.Body.Len() != 0 {
		t.Errorf("a request whose client left got body %q", rec.Body.String())
	}
}

func TestProbesNotCounted(t *testing.T) {
	s := newServer(config{}, nil)
	get(t, s, "/health")
	get(t, s, "/metrics")
	get(t, s, "/")
	m := get(t, s, "/metrics").Body.String()
	if !strings.Contains(m, "demoapp_request_duration_seconds_count 1\n") {
		t.Errorf("want only the request to / counted:\n%s", m)
	}
}

// syncBuffer is a strings.Builder safe for one writer and many readers.
type syncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// startServer runs s on a loopback listener through serve and returns its
// address and a stop function that cancels serve and reports its error and
// output.
func startServer(t *testing.T, s *server) (addr string, stop func() (string, error)) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	out := &syncBuffer{}
	errc := make(chan error, 1)
	go func() { errc <- serve(ctx, ln, s, out) }()
	var once sync.Once
	var serveErr error
	stop = func() (string, error) {
		once.Do(func() {
			cancel()
			serveErr = <-errc
		})
		return out.String(), serveErr
	}
	t.Cleanup(func() { _, _ = stop() })
	return ln.Addr().String(), stop
}
