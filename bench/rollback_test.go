package bench

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/slipwayhq/slipway/state/records"
)

// BenchmarkRollback measures how fast `slipway rollback` brings the
// previous version back: from the moment the command starts to the first
// answer of v1 through nginx, polled every 5 ms while it runs, after v1 and
// v2 were released with blue-green (reload switching: the test nginx has no
// Lua module). Three sub-benchmarks, by what became of v1's containers at
// the release of v2 (keep_previous):
//   - running: the fast path, nothing to start: health gate, one switch;
//   - stopped: the fast path, the kept containers started again first;
//   - removed: the recreate path, containers created again from the image
//     id release #1 ran.
//
// It reports to-previous-ms (the goal: median under 2 s on the fast path),
// the command's wall time, and its start, health and traffic steps from
// the rollback's record.
func BenchmarkRollback(b *testing.B) {
	b.StopTimer()
	w := newWorld(b)
	for _, kept := range []string{"running", "stopped", "removed"} {
		b.Run(kept, func(b *testing.B) { benchRollback(b, w, kept) })
	}
}

func benchRollback(b *testing.B, w *world, kept string) {
	var m metrics
	b.StopTimer()
	for range b.N {
		p := w.newProject(b, "blue_green {\n    keep_previous = \""+kept+"\"\n  }")
		p.slipway(b, "apply", "-auto-approve")
		p.slipway(b, "apply", "-auto-approve", "-var", "version=v2")
		p.expect(b, "version=v2")

		ctx, cancel := context.WithCancel(context.Background())
		seen := make(chan time.Time, 1)
		go pollFor(ctx, p.url(), "version=v1 ", seen)
		b.StartTimer()
		began := time.Now()
		took := p.slipway(b, "rollback", "-auto-approve")
		b.StopTimer()
		var first time.Time
		select {
		case first = <-seen:
		case <-time.After(5 * time.Second):
			cancel()
			b.Fatalf("rollback (%s) exited after %s but nginx did not answer v1 within 5s more", kept, took)
		}
		cancel()
		p.expect(b, "version=v1")

		r := p.lastRecord(b)
		if r.Operation != records.OpRollback || r.Result != records.ResultSucceeded || r.TargetRelease != 1 {
			b.Fatalf("last record is %s to #%d with result %q, want a succeeded rollback to #1", r.Operation, r.TargetRelease, r.Result)
		}
		start, starts := stepTime(r, "start")
		if (kept == "running") != (starts == 0) {
			b.Fatalf("rollback with v1 %s ran %d start steps: %+v", kept, starts, r.Steps)
		}
		for _, s := range r.Steps {
			if !s.Started.IsZero() && !s.Ended.IsZero() {
				logf(b, "%s: step %-8s at +%5dms for %5dms %s", kept, s.Kind, s.Started.Sub(began).Milliseconds(), s.Ended.Sub(s.Started).Milliseconds(), s.Outcome)
			}
		}
		logf(b, "%s: record from +%dms to +%dms", kept, r.Started.Sub(began).Milliseconds(), r.Ended.Sub(began).Milliseconds())
		health, _ := stepTime(r, "health")
		traffic, _ := stepTime(r, "traffic")
		logf(b, "%s: v1 answered at +%dms; slipway exited at +%dms; start %dms, health %dms, traffic %dms",
			kept, first.Sub(began).Milliseconds(), took.Milliseconds(), start.Milliseconds(), health.Milliseconds(), traffic.Milliseconds())
		m.add("to-previous-ms", ms(first.Sub(began)))
		m.add("rollback-ms", ms(took))
		m.add("start-ms", ms(start))
		m.add("health-ms", ms(health))
		m.add("traffic-ms", ms(traffic))
		p.cleanup(b)
	}
	m.report(b)
}

// pollFor GETs url every 5 ms until an answer's body contains want, and
// sends the time of that answer on seen.
func pollFor(ctx context.Context, url, want string, seen chan<- time.Time) {
	c := &http.Client{Timeout: 2 * time.Second}
	t := time.NewTicker(5 * time.Millisecond)
	defer t.Stop()
	for {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if err != nil {
			return
		}
		if resp, err := c.Do(req); err == nil {
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK && strings.Contains(string(body), want) {
				seen <- time.Now()
				return
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
