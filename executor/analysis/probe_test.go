package analysis

import (
	"context"
	"errors"
	"math"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"
)

// fakeRoute plays a route: a request with the canary header goes to the
// candidate; of the others, every fourth goes to the candidate too (a 25%
// split). The candidate answers 503 to every other request. Each answer
// names its group in GroupHeader unless noHeader is set.
type fakeRoute struct {
	split, cand atomic.Int64
	noHeader    bool
}

func (f *fakeRoute) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	group := GroupStable
	if r.Header.Get(DefaultCanaryHeader) != "" || f.split.Add(1)%4 == 0 {
		group = GroupCandidate
	}
	if !f.noHeader {
		w.Header().Set(GroupHeader, group)
	}
	if group == GroupCandidate && f.cand.Add(1)%2 == 0 {
		w.WriteHeader(http.StatusServiceUnavailable)
	}
	w.Write([]byte("ok\n"))
}

// runProbe runs a probe against h until it has at least n samples, stops
// it and reads everything it saw.
func runProbe(t *testing.T, h http.Handler, n int) Window {
	t.Helper()
	srv := httptest.NewServer(h)
	defer srv.Close()
	p, err := NewProbe(ProbeOptions{URL: srv.URL + "/health", Rate: 500})
	if err != nil {
		t.Fatal(err)
	}
	p.Start(context.Background())
	deadline := time.After(20 * time.Second)
	for {
		p.mu.Lock()
		got := len(p.samples)
		p.mu.Unlock()
		if got >= n {
			break
		}
		select {
		case <-deadline:
			p.Stop()
			t.Fatalf("only %d samples", got)
		case <-time.After(5 * time.Millisecond):
		}
	}
	p.Stop()
	w, err := p.Read(context.Background(), time.Time{}, time.Now().Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	// Read forgets what it counted.
	if again, _ := p.Read(context.Background(), time.Time{}, time.Now().Add(time.Hour)); again.Stable.Requests+again.Candidate.Requests != 0 {
		t.Errorf("a second read counted %d requests again", again.Stable.Requests+again.Candidate.Requests)
	}
	return w
}

func TestProbeAttributesByGroupHeader(t *testing.T) {
	w := runProbe(t, &fakeRoute{}, 200)
	s, c := w.Stable, w.Candidate
	if s.Requests == 0 || c.Requests == 0 {
		t.Fatalf("stable %d, candidate %d requests: both groups must be probed", s.Requests, c.Requests)
	}
	if s.Errors != 0 {
		t.Errorf("stable %d errors, want 0: the candidate's 503s were attributed to stable", s.Errors)
	}
	// Every other candidate answer is a 503, whichever sender reached it
	// (up to two answers may have been cut by Stop).
	if c.Errors < c.Requests/2-2 || c.Errors > c.Requests/2+2 {
		t.Errorf("candidate %d errors of %d, want half", c.Errors, c.Requests)
	}
	if !(c.P50 > 0) || !(s.P95 >= s.P50) || !(s.P99 >= s.P95) {
		t.Errorf("latencies stable %v/%v/%v candidate p50 %v", s.P50, s.P95, s.P99, c.P50)
	}
}

func TestProbeWithoutGroupHeaderUsesTheAimedGroup(t *testing.T) {
	var hits atomic.Int64
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		if r.Header.Get(DefaultCanaryHeader) != "" {
			w.WriteHeader(http.StatusInternalServerError)
		}
	})
	w := runProbe(t, h, 100)
	if w.Stable.Requests == 0 || w.Stable.Errors != 0 {
		t.Errorf("stable %d requests %d errors, want some and none", w.Stable.Requests, w.Stable.Errors)
	}
	if w.Candidate.Requests == 0 || w.Candidate.Errors != w.Candidate.Requests {
		t.Errorf("candidate %d requests %d errors, want all failed", w.Candidate.Requests, w.Candidate.Errors)
	}
}

func TestProbeCountsUnreachableAsErrors(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL
	srv.Close()
	p, err := NewProbe(ProbeOptions{URL: url, Rate: 200, Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	p.Start(context.Background())
	for {
		p.mu.Lock()
		got := len(p.samples)
		p.mu.Unlock()
		if got >= 10 {
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	p.Stop()
	w, err := p.Read(context.Background(), time.Time{}, time.Now().Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range []Reading{w.Stable, w.Candidate} {
		if r.Requests == 0 || r.Errors != r.Requests || !math.IsNaN(r.P95) {
			t.Errorf("%s: %d requests %d errors p95 %v; want all failed, no latency", r.Version, r.Requests, r.Errors, r.P95)
		}
	}
}

func TestProbeReadWindows(t *testing.T) {
	p, err := NewProbe(ProbeOptions{URL: "http://127.0.0.1:1/"})
	if err != nil {
		t.Fatal(err)
	}
	at := func(s int) time.Time { return t0.Add(time.Duration(s) * time.Second) }
	p.samples = []sample{
		{at: at(-1), group: GroupStable, lat: 0.1},                  // before the window: dropped
		{at: at(0), group: GroupStable, lat: 0.1},                   // in
		{at: at(29), group: GroupCandidate, failed: true, lat: 0.2}, // in
		{at: at(30), group: GroupCandidate, lat: 0.3},               // next window
		{at: at(45), group: GroupStable, failed: true, lat: 0.4},    // next window
	}
	wantCounts(t, read(t, p, 0), 1, 0, 1, 1)
	if len(p.samples) != 2 {
		t.Fatalf("%d samples kept, want the 2 of the next window", len(p.samples))
	}
	wantCounts(t, read(t, p, 1), 1, 1, 1, 0)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := p.Read(ctx, t0, t0); !errors.Is(err, context.Canceled) {
		t.Fatalf("Read: %v, want context.Canceled", err)
	}
}

func TestNewProbeRejects(t *testing.T) {
	for _, o := range []ProbeOptions{
		{URL: "127.0.0.1:8080"},
		{URL: "ftp://127.0.0.1/"},
		{URL: "http://127.0.0.1/", Rate: -1},
		{URL: "http://127.0.0.1/", Timeout: -time.Second},
	} {
		if _, err := NewProbe(o); !errors.Is(err, ErrInvalidSource) {
			t.Errorf("NewProbe(%+v) error = %v, want ErrInvalidSource", o, err)
		}
	}
}
