package main

import (
	"fmt"
	"io"
	"slices"
	"strconv"
	"sync"
	"time"
)

// durationBuckets are the histogram's upper bounds in seconds (Prometheus'
// default buckets).
var durationBuckets = [...]float64{0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10}

// metrics counts requests by status code and their durations. The zero value
// is ready to use.
type metrics struct {
	mu      sync.Mutex
	byCode  map[int]uint64
	buckets [len(durationBuckets)]uint64 // non-cumulative counts per bucket
	count   uint64
	sum     float64
}

// observe records one finished request.
func (m *metrics) observe(code int, d time.Duration) {
	secs := d.Seconds()
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.byCode == nil {
		m.byCode = make(map[int]uint64)
	}
	m.byCode[code]++
	m.count++
	m.sum += secs
	for i, le := range durationBuckets {
		if secs <= le {
			m.buckets[i]++
			break
		}
	}
}

// writeTo renders the metrics in the Prometheus text exposition format.
func (m *metrics) writeTo(w io.Writer, version, color string) error {
	m.mu.Lock()
	codes := make([]int, 0, len(m.byCode))
	for c := range m.byCode {
		codes = append(codes, c)
	}
	slices.Sort(codes)
	byCode := make([]uint64, len(codes))
	for i, c := range codes {
		byCode[i] = m.byCode[c]
	}
	buckets, count, sum := m.buckets, m.count, m.sum
	m.mu.Unlock()

	p := &errWriter{w: w}
	p.printf("# HELP demoapp_info Build information of the running demoapp.\n")
	p.printf("# TYPE demoapp_info gauge\n")
	p.printf("demoapp_info{version=%s,color=%s} 1\n", quoteLabel(version), quoteLabel(color))
	p.printf("# HELP demoapp_requests_total Requests served, by HTTP status code.\n")
	p.printf("# TYPE demoapp_requests_total counter\n")
	for i, c := range codes {
		p.printf("demoapp_requests_total{code=\"%d\"} %d\n", c, byCode[i])
	}
	p.printf("# HELP demoapp_request_duration_seconds Time taken to serve requests.\n")
	p.printf("# TYPE demoapp_request_duration_seconds histogram\n")
	var cum uint64
	for i, le := range durationBuckets {
		cum += buckets[i]
		p.printf("demoapp_request_duration_seconds_bucket{le=\"%s\"} %d\n", formatFloat(le), cum)
	}
	p.printf("demoapp_request_duration_seconds_bucket{le=\"+Inf\"} %d\n", count)
	p.printf("demoapp_request_duration_seconds_sum %s\n", formatFloat(sum))
	p.printf("demoapp_request_duration_seconds_count %d\n", count)
	return p.err
}

func formatFloat(f float64) string { return strconv.FormatFloat(f, 'g', -1, 64) }

// quoteLabel quotes a label value as the exposition format wants: backslash,
// double quote and newline escaped.
func quoteLabel(s string) string {
	out := make([]byte, 0, len(s)+2)
	out = append(out, '"')
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '\\':
			out = append(out, `\\`...)
		case '"':
			out = append(out, `\"`...)
		case '\n':
			out = append(out, `\n`...)
		default:
			out = append(out, s[i])
		}
	}
	return string(append(out, '"'))
}

// errWriter keeps the first write error so a sequence of prints needs one check.
type errWriter struct {
	w   io.Writer
	err error
}

func (p *errWriter) printf(format string, args ...any) {
	if p.err == nil {
		_, p.err = fmt.Fprintf(p.w, format, args...)
	}
}
