package analysis

import (
	"context"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/url"
	"sync"
	"time"

	"github.com/slipwayhq/slipway/internal/panics"
)

// Defaults of ProbeOptions.
const (
	DefaultProbeRate    = 5
	DefaultProbeTimeout = 5 * time.Second
	DefaultCanaryHeader = "X-Slipway-Canary"
	// GroupHeader is the response header slipway's routes name the serving
	// group in (providers/nginx.HeaderGroup).
	GroupHeader = "X-Slipway-Group"
)

// maxProbeSamples bounds the samples a Probe keeps between two reads.
const maxProbeSamples = 1 << 20

// ProbeOptions configure a Probe.
type ProbeOptions struct {
	// URL is the route's URL, http:// or https://.
	URL string
	// Host is the Host header; "" means the host of URL.
	Host string
	// Header is the request header that sends a request to the candidate
	// (default DefaultCanaryHeader, the route's canary header).
	Header string
	// Rate is the requests per second sent for each group (default
	// DefaultProbeRate).
	Rate int
	// Timeout bounds each request (default DefaultProbeTimeout).
	Timeout time.Duration
	// Client sends the requests; nil means a client of its own, with
	// keep-alive connections and no redirects followed.
	Client *http.Client
}

// Probe is a Source that sends slipway's own GET requests through the
// route, for services too quiet to judge from their own traffic. Two
// senders run at Rate each: one with the canary header (served by the
// candidate) and one without (served by whichever group the split picks).
// Each answer is attributed by the route's X-Slipway-Group response header,
// or to the group the sender aimed at when the header is missing. A 5xx
// answer or no answer at all (refused, reset, timed out) is an error; the
// latency is the time to the end of the response body.
//
// The client is net/http's, so like a browser it may retry a GET once when
// a reused keep-alive connection was closed before any answer.
type Probe struct {
	o       ProbeOptions
	url     string
	mu      sync.Mutex
	samples []sample
	cancel  context.CancelFunc
	wg      sync.WaitGroup
	stable  tally
	cand    tally
}

// sample is one probe request.
type sample struct {
	at     time.Time // when it ended: answered, failed or timed out
	group  string
	failed bool
	lat    float64 // seconds; NaN without an answer
}

// NewProbe checks o and returns a Probe; it sends nothing before Start.
func NewProbe(o ProbeOptions) (*Probe, error) {
	u, err := url.Parse(o.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("probe url %q: %w: want http(s)://host[:port]/path", o.URL, ErrInvalidSource)
	}
	switch {
	case o.Rate < 0:
		return nil, fmt.Errorf("probe rate %d: %w: negative", o.Rate, ErrInvalidSource)
	case o.Timeout < 0:
		return nil, fmt.Errorf("probe timeout %s: %w: negative", o.Timeout, ErrInvalidSource)
	}
	if o.Header == "" {
		o.Header = DefaultCanaryHeader
	}
	if o.Rate == 0 {
		o.Rate = DefaultProbeRate
	}
	if o.Timeout == 0 {
		o.Timeout = DefaultProbeTimeout
	}
	if o.Client == nil {
		o.Client = &http.Client{
			Transport: &http.Transport{MaxIdleConnsPerHost: 4, IdleConnTimeout: 90 * time.Second},
			CheckRedirect: func(*http.Request, []*http.Request) error {
				return http.ErrUseLastResponse
			},
		}
	}
	return &Probe{o: o, url: u.String()}, nil
}

// Start starts sending until Stop or until ctx ends. It must be called
// once.
func (p *Probe) Start(ctx context.Context) {
	ctx, p.cancel = context.WithCancel(ctx)
	for _, g := range []string{GroupStable, GroupCandidate} {
		p.wg.Add(1)
		go func() {
			defer p.wg.Done()
			defer panics.Recover()
			p.send(ctx, g)
		}()
	}
}

// Stop stops sending and waits for the requests in flight. Samples stay
// readable.
func (p *Probe) Stop() {
	if p.cancel != nil {
		p.cancel()
	}
	p.wg.Wait()
}

// send sends requests aimed at group at the probe's rate until ctx ends.
func (p *Probe) send(ctx context.Context, group string) {
	every := time.Second / time.Duration(p.o.Rate)
	next := time.Now()
	for {
		if d := time.Until(next); d > 0 {
			t := time.NewTimer(d)
			select {
			case <-ctx.Done():
				t.Stop()
				return
			case <-t.C:
			}
		} else if ctx.Err() != nil {
			return
		}
		// A slow answer delays the next request; missed ones are not
		// caught up.
		next = later(next.Add(every), time.Now())
		s, ok := p.one(ctx, group)
		if !ok {
			return
		}
		p.mu.Lock()
		if len(p.samples) < maxProbeSamples {
			p.samples = append(p.samples, s)
		}
		p.mu.Unlock()
	}
}

func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

// one sends one request; ok is false when ctx ended it.
func (p *Probe) one(ctx context.Context, group string) (sample, bool) {
	rctx, cancel := context.WithTimeout(ctx, p.o.Timeout)
	defer cancel()
	start := time.Now()
	s := sample{group: group, lat: math.NaN()}
	req, err := http.NewRequestWithContext(rctx, http.MethodGet, p.url, nil)
	if err != nil {
		s.failed, s.at = true, time.Now()
		return s, true
	}
	req.Header.Set("User-Agent", "slipway-analysis-probe")
	if p.o.Host != "" {
		req.Host = p.o.Host
	}
	if group == GroupCandidate {
		req.Header.Set(p.o.Header, "1")
	}
	resp, err := p.o.Client.Do(req)
	if err == nil {
		_, err = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
		resp.Body.Close()
		switch resp.Header.Get(GroupHeader) {
		case GroupStable:
			s.group = GroupStable
		case GroupCandidate:
			s.group = GroupCandidate
		}
	}
	s.at = time.Now()
	if ctx.Err() != nil {
		return s, false // stopped: the request says nothing about the route
	}
	if err != nil {
		s.failed = true
		return s, true
	}
	s.lat = s.at.Sub(start).Seconds()
	s.failed = resp.StatusCode >= 500
	return s, true
}

// Read implements Source: it counts the requests that ended in [from, to)
// and forgets those that ended before to. A request still in flight counts
// in the window it ends in.
func (p *Probe) Read(ctx context.Context, from, to time.Time) (Window, error) {
	if err := ctx.Err(); err != nil {
		return Window{}, err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.stable.reset()
	p.cand.reset()
	keep := p.samples[:0]
	for _, s := range p.samples {
		switch {
		case !s.at.Before(to):
			keep = append(keep, s)
		case s.at.Before(from):
		case s.group == GroupStable:
			p.stable.add(s.failed, s.lat)
		default:
			p.cand.add(s.failed, s.lat)
		}
	}
	clear(p.samples[len(keep):])
	p.samples = keep
	return Window{Start: from, End: to,
		Stable: p.stable.reading(GroupStable), Candidate: p.cand.reading(GroupCandidate)}, nil
}

var _ Source = (*Probe)(nil)
