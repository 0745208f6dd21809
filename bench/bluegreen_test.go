package bench

import (
	"strings"
	"testing"
	"time"

	"github.com/slipwayhq/slipway/executor/prober"
	"github.com/slipwayhq/slipway/state/records"
)

// tail is how long the loads keep running after slipway exits, so that
// requests still served by nginx's old workers, or refused just after the
// switch, are counted too.
const tail = 250 * time.Millisecond

// BenchmarkBlueGreenTraffic measures what clients see while a release and a
// rollback move traffic: a strict and a retrying load client, each at
// loadRate requests per second through a private nginx, run while
// `slipway apply` releases v2 over v1 and again while `slipway rollback`
// returns to v1. It reports each client's achieved rate and its non-2xx
// answers and transport errors, for apply and for rollback; ns/op is the
// wall time of both commands. The hotfix sub-benchmark runs the same
// release with the hotfix strategy, whose brief downtime is accepted, for
// contrast.
func BenchmarkBlueGreenTraffic(b *testing.B) {
	b.StopTimer()
	w := newWorld(b)
	for _, s := range []struct{ name, block string }{
		{"blue_green", "blue_green {}"},
		{"hotfix", "hotfix {\n    reason = \"benchmark\"\n  }"},
	} {
		b.Run(s.name, func(b *testing.B) { benchTraffic(b, w, s.block) })
	}
}

func benchTraffic(b *testing.B, w *world, block string) {
	var m metrics
	b.StopTimer()
	for range b.N {
		p := w.newProject(b, block)
		p.slipway(b, "apply", "-auto-approve")
		p.expect(b, "version=v1")

		b.StartTimer()
		l := startPair(p.url())
		p.slipway(b, "apply", "-auto-approve", "-var", "version=v2")
		time.Sleep(tail)
		strict, retrying, ran := l.stop()
		b.StopTimer()
		m.addLoad("apply-strict", strict, ran)
		m.addLoad("apply-retrying", retrying, ran)
		m.add("apply-total-req/s", float64(strict.Requests+retrying.Requests)/ran.Seconds())
		logf(b, "apply: strict %+v; retrying %+v; over %s", strict, retrying, ran.Round(time.Millisecond))
		spanned(b, "apply", strict, "version=v1", "version=v2")
		p.expect(b, "version=v2")

		b.StartTimer()
		l = startPair(p.url())
		p.slipway(b, "rollback", "-auto-approve")
		time.Sleep(tail)
		strict, retrying, ran = l.stop()
		b.StopTimer()
		m.addLoad("rollback-strict", strict, ran)
		m.addLoad("rollback-retrying", retrying, ran)
		m.add("rollback-total-req/s", float64(strict.Requests+retrying.Requests)/ran.Seconds())
		logf(b, "rollback: strict %+v; retrying %+v; over %s", strict, retrying, ran.Round(time.Millisecond))
		spanned(b, "rollback", strict, "version=v2", "version=v1")
		p.expect(b, "version=v1")
		p.cleanup(b)
	}
	m.report(b)
}

// BenchmarkBlueGreenOverhead measures what a blue-green release costs
// beyond waiting for the new containers to become healthy: the wall time
// of `slipway apply` of v2 over v1 (no load running) minus the health
// step's duration from the operation record. Goal: overhead under 1.5 s.
// It also reports the whole apply, the health wait, the start and traffic
// steps, and the time spent outside any step (process start, config,
// observing the world, planning, lock, state and record writes), split
// into the time before the record's start and after its end.
func BenchmarkBlueGreenOverhead(b *testing.B) {
	b.StopTimer()
	w := newWorld(b)
	var m metrics
	for range b.N {
		p := w.newProject(b, "blue_green {}")
		p.slipway(b, "apply", "-auto-approve")

		b.StartTimer()
		began := time.Now()
		took := p.slipway(b, "apply", "-auto-approve", "-var", "version=v2")
		b.StopTimer()

		r := p.lastRecord(b)
		if r.Operation != records.OpApply || r.Release != 2 || r.Result != records.ResultSucceeded {
			b.Fatalf("last record is %s of release #%d with result %q, want a succeeded apply of #2", r.Operation, r.Release, r.Result)
		}
		health, n := stepTime(r, "health")
		if n == 0 {
			b.Fatalf("the record of release #2 has no timed health step: %+v", r.Steps)
		}
		var stepped time.Duration
		for _, s := range r.Steps {
			if !s.Started.IsZero() && !s.Ended.IsZero() {
				stepped += s.Ended.Sub(s.Started)
				logf(b, "step %-8s at +%5dms for %5dms %s", s.Kind, s.Started.Sub(began).Milliseconds(), s.Ended.Sub(s.Started).Milliseconds(), s.Outcome)
			}
		}
		logf(b, "record from +%dms to +%dms; slipway exited at +%dms", r.Started.Sub(began).Milliseconds(), r.Ended.Sub(began).Milliseconds(), took.Milliseconds())
		start, _ := stepTime(r, "start")
		traffic, _ := stepTime(r, "traffic")
		m.add("overhead-ms", ms(took-health))
		m.add("apply-ms", ms(took))
		m.add("health-ms", ms(health))
		m.add("start-ms", ms(start))
		m.add("traffic-ms", ms(traffic))
		m.add("unstepped-ms", ms(took-stepped))
		m.add("before-record-ms", ms(r.Started.Sub(began)))
		m.add("after-record-ms", ms(began.Add(took).Sub(r.Ended)))
		p.expect(b, "version=v2")
		p.cleanup(b)
	}
	m.report(b)
}

// spanned fails b unless the load saw answers from both the old and the new
// version: a load that missed the switch measured nothing.
func spanned(b *testing.B, op string, c prober.Counts, from, to string) {
	b.Helper()
	var sawFrom, sawTo bool
	for body, n := range c.ByBody {
		sawFrom = sawFrom || (n > 0 && strings.Contains(body, from))
		sawTo = sawTo || (n > 0 && strings.Contains(body, to))
	}
	if !sawFrom || !sawTo {
		b.Fatalf("the load during %s did not see both %s and %s: %v", op, from, to, c.ByBody)
	}
}

// logf logs only with -v, so `make bench` output stays a table.
func logf(b *testing.B, format string, args ...any) {
	b.Helper()
	if testing.Verbose() {
		b.Logf(format, args...)
	}
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
