package prober

import (
	"context"
	"sync"
	"time"

	"github.com/slipwayhq/slipway/internal/clock"
	"github.com/slipwayhq/slipway/internal/panics"
)

// maxLag is how far behind its schedule a rate-limited Load may fall
// before it gives up catching up: after a stall it sends at most
// Rate*maxLag requests at once.
const maxLag = 100 * time.Millisecond

// dialBackoff is how long a worker of an unlimited Load waits after a
// failed dial, so a server that is down is not hammered by a busy loop.
const dialBackoff = 10 * time.Millisecond

// Load sends keep-alive GET requests from several workers until it is
// stopped or its context ends, and counts the outcomes. Its methods are
// safe for concurrent use.
type Load struct {
	cancel context.CancelFunc
	done   chan struct{}

	mu     sync.Mutex
	counts Counts
}

// Start begins sending at once, in goroutines, and returns. The load ends
// by itself when ctx ends; Stop ends it sooner. Invalid options send
// nothing and count one transport error that names the problem, so a
// misconfigured prober can never report a clean run.
func Start(ctx context.Context, o Options) *Load {
	ctx, cancel := context.WithCancel(ctx)
	l := &Load{cancel: cancel, done: make(chan struct{})}
	t, err := o.target()
	if err != nil {
		l.counts.add(result{err: err, phase: "options"}, false)
		cancel()
		close(l.done)
		return l
	}
	o = o.withDefaults()
	var p *pacer
	if o.Rate > 0 {
		p = newPacer(o.Rate, time.Now())
	}
	var wg sync.WaitGroup
	for range o.Workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer panics.Recover()
			l.work(ctx, newClient(t, o), o.Mode, p)
		}()
	}
	go func() {
		defer panics.Recover()
		wg.Wait()
		cancel()
		close(l.done)
	}()
	return l
}

// Stop ends the load, waits for its workers (a request in flight is cut
// short and not counted) and returns the totals. It may be called more
// than once.
func (l *Load) Stop() Counts {
	l.cancel()
	<-l.done
	return l.Snapshot()
}

// Done is closed when the load has ended and all its workers returned.
func (l *Load) Done() <-chan struct{} { return l.done }

// Snapshot returns the totals so far.
func (l *Load) Snapshot() Counts {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.counts.clone()
}

func (l *Load) work(ctx context.Context, c *client, mode Mode, p *pacer) {
	defer c.close()
	for {
		if p != nil && clock.SleepUntil(ctx, p.reserve(time.Now())) != nil {
			return
		}
		if ctx.Err() != nil {
			return
		}
		r := c.do(ctx)
		retried := false
		if mode == Retrying && r.retryable() && ctx.Err() == nil {
			retried = true
			r = c.do(ctx)
		}
		if r.err != nil && ended(ctx) {
			return // cut short by the end of the load: not the server's fault
		}
		l.mu.Lock()
		l.counts.add(r, retried)
		l.mu.Unlock()
		if r.err != nil && r.phase == phaseDial && p == nil && clock.SleepUntil(ctx, time.Now().Add(dialBackoff)) != nil {
			return
		}
	}
}

// ended reports whether ctx has ended or reached its deadline. A dial
// bounded by the deadline of ctx can fail a moment before ctx.Err says so.
func ended(ctx context.Context) bool {
	if ctx.Err() != nil {
		return true
	}
	d, ok := ctx.Deadline()
	return ok && !time.Now().Before(d)
}

// pacer hands out send times spaced by 1/rate, shared by all workers.
type pacer struct {
	mu       sync.Mutex
	interval time.Duration
	next     time.Time
}

func newPacer(rate int, start time.Time) *pacer {
	return &pacer{interval: time.Second / time.Duration(rate), next: start}
}

// reserve returns the time of the next send slot. Slots follow one another
// at the interval; a slot more than maxLag in the past is moved up to
// now-maxLag, so a stall is caught up only in part.
func (p *pacer) reserve(now time.Time) time.Time {
	p.mu.Lock()
	defer p.mu.Unlock()
	if floor := now.Add(-maxLag); p.next.Before(floor) {
		p.next = floor
	}
	t := p.next
	p.next = t.Add(p.interval)
	return t
}
