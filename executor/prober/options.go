package prober

import (
	"errors"
	"fmt"
	"maps"
	"net"
	"net/http"
	"net/textproto"
	"net/url"
	"slices"
	"strings"
	"time"
)

// ErrInvalidOptions is the cause of every error of Options.Validate.
var ErrInvalidOptions = errors.New("invalid prober options")

// Mode says what a client does when a request fails on a reused keep-alive
// connection.
type Mode int

const (
	// Strict never retries: every failed attempt counts as a failure.
	Strict Mode = iota
	// Retrying retries an idempotent GET once, on a new connection, when it
	// failed on a reused connection before any byte of the response was
	// read (a reset, a close, a broken pipe; not a timeout), as browsers do.
	// The request counts once, and Counts.Retried counts the retry.
	Retrying
)

// String returns "strict" or "retrying".
func (m Mode) String() string {
	switch m {
	case Strict:
		return "strict"
	case Retrying:
		return "retrying"
	}
	return fmt.Sprintf("Mode(%d)", int(m))
}

// ParseMode parses the String form of a Mode.
func ParseMode(s string) (Mode, error) {
	switch s {
	case "strict":
		return Strict, nil
	case "retrying":
		return Retrying, nil
	}
	return 0, fmt.Errorf("parse mode %q: %w: want strict or retrying", s, ErrInvalidOptions)
}

// Default values of Options.
const (
	DefaultWorkers = 4
	DefaultTimeout = 5 * time.Second
)

// Options configure a Load or a Prober.
type Options struct {
	// URL is the plain http:// URL to GET, e.g. http://127.0.0.1:8081/.
	URL string
	// Host is the Host header; "" means the host of URL.
	Host string
	// Rate is the number of requests per second, in total over all
	// workers; 0 means as fast as the workers can go. When a worker falls
	// behind, at most 100ms worth of missed requests are caught up at once.
	Rate int
	// Workers is the number of concurrent keep-alive connections, each
	// sending one request at a time (default DefaultWorkers).
	Workers int
	// Mode says whether a failed request on a reused connection is retried.
	Mode Mode
	// Timeout bounds each attempt: dial, write and the whole response
	// (default DefaultTimeout).
	Timeout time.Duration
	// Headers are sent on every request after Host, e.g.
	// {"X-Slipway-Probe": "1"}, which keeps slipway's prober out of the
	// access log nginx analysis reads. User-Agent (default
	// "slipway-prober") and Accept (default "*/*") replace the defaults;
	// Host (use Host), Connection, Content-Length and Transfer-Encoding
	// are refused, as are names that are not HTTP tokens and values with
	// control characters. Names are sent in sorted order.
	Headers map[string]string
	// Expect, when set, replaces the default check that the status is
	// 2xx: a response for which it returns false counts in Non2xx. body is
	// the response body, cut at maxBody bytes.
	Expect func(resp *http.Response, body []byte) bool
}

// Validate reports whether o can be used, with an error wrapping
// ErrInvalidOptions when it cannot.
func (o Options) Validate() error {
	_, err := o.target()
	return err
}

// target is what the client needs from o.
type target struct {
	addr string // host:port to dial
	req  []byte // the request, written as is on every attempt
}

func (o Options) target() (target, error) {
	bad := func(format string, args ...any) (target, error) {
		return target{}, fmt.Errorf("%w: %s", ErrInvalidOptions, fmt.Sprintf(format, args...))
	}
	u, err := url.Parse(o.URL)
	if err != nil {
		return bad("parse url %q: %v", o.URL, err)
	}
	if u.Scheme != "http" {
		return bad("url %q: only http:// is supported", o.URL)
	}
	if u.Hostname() == "" {
		return bad("url %q has no host", o.URL)
	}
	if u.User != nil {
		return bad("url %q: user information is not supported", o.URL)
	}
	switch {
	case o.Rate < 0:
		return bad("rate %d is negative", o.Rate)
	case o.Workers < 0:
		return bad("workers %d is negative", o.Workers)
	case o.Timeout < 0:
		return bad("timeout %s is negative", o.Timeout)
	case o.Mode != Strict && o.Mode != Retrying:
		return bad("unknown mode %d", int(o.Mode))
	}
	port := u.Port()
	if port == "" {
		port = "80"
	}
	host := o.Host
	if host == "" {
		host = u.Host
	}
	for _, r := range host {
		if r < 0x21 || r == 0x7f {
			return bad("host header %q has a control character or space", host)
		}
	}
	fields := map[string]string{"User-Agent": "slipway-prober", "Accept": "*/*"}
	given := map[string]bool{}
	for name, value := range o.Headers {
		canon := textproto.CanonicalMIMEHeaderKey(name)
		switch {
		case !isToken(name):
			return bad("header name %q is not an HTTP token", name)
		case reserved(canon):
			return bad("header %q is set by the prober itself", name)
		case given[canon]:
			return bad("header %q is given twice", canon)
		case strings.ContainsFunc(value, func(r rune) bool { return (r < 0x20 && r != '\t') || r == 0x7f }):
			return bad("header %q: value %q has a control character", name, value)
		}
		given[canon] = true
		fields[canon] = value
	}
	var b strings.Builder
	fmt.Fprintf(&b, "GET %s HTTP/1.1\r\nHost: %s\r\n", u.RequestURI(), host)
	for _, name := range slices.Sorted(maps.Keys(fields)) {
		fmt.Fprintf(&b, "%s: %s\r\n", name, fields[name])
	}
	b.WriteString("\r\n")
	return target{addr: net.JoinHostPort(u.Hostname(), port), req: []byte(b.String())}, nil
}

// reserved reports whether the prober refuses a (canonical) header name
// in Options.Headers: it writes Host itself, and the others would change
// how a response is framed or whether the connection is kept.
func reserved(canon string) bool {
	switch canon {
	case "Host", "Connection", "Content-Length", "Transfer-Encoding":
		return true
	}
	return false
}

// isToken reports whether s is a non-empty HTTP token (RFC 9110 5.6.2).
func isToken(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if r > 0x7e || r <= 0x20 || strings.ContainsRune(`"(),/:;<=>?@[\]{}`, r) {
			return false
		}
	}
	return true
}

func (o Options) withDefaults() Options {
	if o.Workers == 0 {
		o.Workers = DefaultWorkers
	}
	if o.Timeout == 0 {
		o.Timeout = DefaultTimeout
	}
	return o
}
