package prober

import (
	"context"
	"sync"

	"github.com/slipwayhq/slipway/executor"
	"github.com/slipwayhq/slipway/state/records"
)

// Prober is slipway's own keep-alive prober: it adapts a Load to
// executor.Prober. The executor starts it when traffic first moves and
// stops it at the end of the operation; its counts go into the record.
// Set Options.Rate: a prober should not load the service it watches.
type Prober struct {
	o Options

	mu   sync.Mutex
	load *Load
}

// New returns a Prober that sends requests as o says once started.
func New(o Options) *Prober { return &Prober{o: o} }

// Start begins probing until ctx ends or Stop is called. A Prober that is
// already running keeps running; one that was stopped starts afresh.
func (p *Prober) Start(ctx context.Context) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.load != nil {
		select {
		case <-p.load.Done():
		default:
			return
		}
	}
	p.load = Start(ctx, p.o)
}

// Stop ends probing and returns the counts for the record: zero when the
// Prober never started.
func (p *Prober) Stop() records.ProberCounts {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.load == nil {
		return records.ProberCounts{}
	}
	return p.load.Stop().Record()
}

// Counts returns the full counts so far (or of the last run once
// stopped), with the bodies and errors seen.
func (p *Prober) Counts() Counts {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.load == nil {
		return Counts{}
	}
	return p.load.Snapshot()
}

var _ executor.Prober = (*Prober)(nil)
