package main

import (
	"bufio"
	"embed"
	"fmt"
	"io"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

//go:embed static/app.css
var staticFS embed.FS

// server is demoapp's HTTP handler with its counters.
type server struct {
	cfg     config
	environ []string // served by /env when cfg.LogEnv
	mux     *http.ServeMux
	metrics metrics
	served  atomic.Uint64 // requests to / so far, for FAIL_RATE

	wsMu     sync.Mutex
	ws       map[*wsConn]struct{}
	stopping bool
}

// newServer builds the handler; environ is what /env shows.
func newServer(cfg config, environ []string) *server {
	s := &server{cfg: cfg, environ: environ, mux: http.NewServeMux(), ws: make(map[*wsConn]struct{})}
	s.mux.HandleFunc("GET /{$}", s.serveRoot)
	s.mux.HandleFunc("GET /health", s.serveHealth)
	s.mux.HandleFunc("GET /metrics", s.serveMetrics)
	s.mux.HandleFunc("/ws", s.serveWS)
	s.mux.Handle("GET /static/", http.FileServerFS(staticFS))
	s.mux.HandleFunc("GET /env", s.serveEnv)
	return s
}

// ServeHTTP sets the version headers and records metrics for every request
// but probes and scrapes.
func (s *server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("X-Demo-Version", s.cfg.Version)
	w.Header().Set("X-Demo-Color", s.cfg.Color)
	if r.URL.Path == "/health" || r.URL.Path == "/metrics" {
		s.mux.ServeHTTP(w, r)
		return
	}
	start := time.Now()
	rec := &statusRecorder{ResponseWriter: w}
	s.mux.ServeHTTP(rec, r)
	if !rec.hijacked { // serveWS records its own handshake
		s.metrics.observe(rec.code(), time.Since(start))
	}
}

// shouldFail reports whether the n-th request to / (from 0) fails under a
// rate of ppm parts per million: it does when floor((n+1)*rate) passes
// floor(n*rate), which spreads failures evenly and makes every window of
// 1/rate requests hold the same count.
func shouldFail(n uint64, ppm int64) bool {
	if ppm <= 0 {
		return false
	}
	p := uint64(ppm)
	// With n = q*ratePrecision + r, q*p is a whole number of failures that
	// cancels out; dropping it keeps n*p from overflowing.
	r := n % ratePrecision
	return (r+1)*p/ratePrecision > r*p/ratePrecision
}

func (s *server) serveRoot(w http.ResponseWriter, r *http.Request) {
	n := s.served.Add(1) - 1
	if s.cfg.Latency > 0 {
		t := time.NewTimer(s.cfg.Latency)
		select {
		case <-t.C:
		case <-r.Context().Done():
			t.Stop()
			return
		}
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	if shouldFail(n, s.cfg.FailPPM) {
		w.WriteHeader(http.StatusInternalServerError)
		fmt.Fprintf(w, "demoapp version=%s color=%s injected failure\n", s.cfg.Version, s.cfg.Color)
		return
	}
	fmt.Fprintf(w, "demoapp version=%s color=%s\n", s.cfg.Version, s.cfg.Color)
}

func (s *server) serveHealth(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	if s.cfg.FailHealth {
		w.WriteHeader(http.StatusServiceUnavailable)
		io.WriteString(w, "failing\n")
		return
	}
	io.WriteString(w, "ok")
}

func (s *server) serveMetrics(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
	_ = s.metrics.writeTo(w, s.cfg.Version, s.cfg.Color)
}

func (s *server) serveEnv(w http.ResponseWriter, r *http.Request) {
	if !s.cfg.LogEnv {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	for _, kv := range s.environ {
		fmt.Fprintln(w, kv)
	}
}

// trackWS adds or removes an open WebSocket. Adding reports false once the
// server is stopping; the caller then closes the connection at once.
func (s *server) trackWS(c *wsConn, add bool) bool {
	s.wsMu.Lock()
	defer s.wsMu.Unlock()
	if !add {
		delete(s.ws, c)
		return true
	}
	if s.stopping {
		return false
	}
	s.ws[c] = struct{}{}
	return true
}

// closeWebSockets sends every open WebSocket a 1001 close frame; registered
// with http.Server.RegisterOnShutdown since Shutdown ignores hijacked
// connections.
func (s *server) closeWebSockets() {
	s.wsMu.Lock()
	s.stopping = true
	conns := make([]*wsConn, 0, len(s.ws))
	for c := range s.ws {
		conns = append(conns, c)
	}
	s.wsMu.Unlock()
	for _, c := range conns {
		c.goingAway()
	}
}

// statusRecorder remembers the status code written and whether the
// connection was hijacked.
type statusRecorder struct {
	http.ResponseWriter
	status   int
	hijacked bool
}

func (r *statusRecorder) WriteHeader(code int) {
	if r.status == 0 {
		r.status = code
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *statusRecorder) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	return r.ResponseWriter.Write(b)
}

func (r *statusRecorder) code() int {
	if r.status == 0 {
		return http.StatusOK
	}
	return r.status
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (r *statusRecorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

// Hijack passes the WebSocket upgrade through to the real connection.
func (r *statusRecorder) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	hj, ok := r.ResponseWriter.(http.Hijacker)
	if !ok {
		return nil, nil, http.ErrNotSupported
	}
	r.hijacked = true
	return hj.Hijack()
}
