package checks

import (
	"context"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"
)

// maxBody is how much of a response body checks read.
const maxBody = 1 << 20

// httpSpec is an http check: url, method (GET), headers, body, status (a
// number or a list; default any 2xx or 3xx), body_contains, body_regex,
// max_latency.
type httpSpec struct {
	url, method, body string
	headers           map[string]string
	status            []int
	contains          string
	re                *regexp.Regexp
	maxLatency        time.Duration
}

func parseHTTP(a *attrs) runFunc {
	s := httpSpec{
		url:        a.str("url", true),
		method:     strings.ToUpper(a.str("method", false)),
		body:       a.str("body", false),
		headers:    a.strMap("headers"),
		status:     a.ints("status"),
		contains:   a.str("body_contains", false),
		re:         a.regexp("body_regex"),
		maxLatency: a.duration("max_latency", 0),
	}
	if s.method == "" {
		s.method = http.MethodGet
	}
	checkURL(a, "url", s.url, "http", "https")
	for _, st := range s.status {
		if st < 100 || st > 599 {
			a.errorf("status", "holds %d, which is not an HTTP status", st)
		}
	}
	return s.run
}

// checkURL reports a URL attribute that does not parse or has another
// scheme. Candidate placeholders left in place (no candidate) are accepted.
func checkURL(a *attrs, name, raw string, schemes ...string) {
	if raw == "" || strings.Contains(raw, "{{candidate.") {
		return
	}
	u, err := url.Parse(raw)
	if err != nil {
		a.errorf(name, "is not a URL: %v", err)
		return
	}
	for _, s := range schemes {
		if u.Scheme == s {
			if u.Host == "" {
				a.errorf(name, "%q has no host", raw)
			}
			return
		}
	}
	a.errorf(name, "%q must start with %s://", raw, strings.Join(schemes, ":// or "))
}

// response is what an HTTP request observed.
type response struct {
	status  int
	header  http.Header
	body    []byte
	latency time.Duration
}

func doHTTP(ctx context.Context, method, rawURL string, headers map[string]string, body string) (response, error) {
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, rawURL, rd)
	if err != nil {
		return response{}, fmt.Errorf("build request: %w", err)
	}
	for _, k := range sortedKeys(headers) {
		if strings.EqualFold(k, "Host") {
			req.Host = headers[k]
			continue
		}
		req.Header.Set(k, headers[k])
	}
	client := &http.Client{Transport: &http.Transport{Proxy: nil, DisableKeepAlives: true}}
	start := time.Now()
	resp, err := client.Do(req)
	if err != nil {
		return response{}, fmt.Errorf("%s %s: %w", method, rawURL, unwrapURLError(err))
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	lat := time.Since(start)
	if err != nil {
		return response{status: resp.StatusCode, header: resp.Header, latency: lat}, fmt.Errorf("read body of %s %s: %w", method, rawURL, err)
	}
	return response{status: resp.StatusCode, header: resp.Header, body: b, latency: lat}, nil
}

// unwrapURLError drops net/url's "Get "...": " prefix, which repeats what
// the caller says.
func unwrapURLError(err error) error {
	if ue, ok := err.(*url.Error); ok {
		return ue.Err
	}
	return err
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func (s httpSpec) run(ctx context.Context, _ *Env) (string, error) {
	r, err := doHTTP(ctx, s.method, s.url, s.headers, s.body)
	if err != nil {
		return "", err
	}
	ev := fmt.Sprintf("%s %s -> %d in %s (%d bytes)", s.method, s.url, r.status, round(r.latency), len(r.body))
	if !statusOK(r.status, s.status) {
		return ev + "\n" + snippet(r.body), fmt.Errorf("status %d, want %s", r.status, wantStatus(s.status))
	}
	if s.contains != "" && !strings.Contains(string(r.body), s.contains) {
		return ev + "\n" + snippet(r.body), fmt.Errorf("body does not contain %q", s.contains)
	}
	if s.re != nil && !s.re.Match(r.body) {
		return ev + "\n" + snippet(r.body), fmt.Errorf("body does not match /%s/", s.re)
	}
	if s.maxLatency > 0 && r.latency > s.maxLatency {
		return ev, fmt.Errorf("latency %s is over max_latency %s", round(r.latency), s.maxLatency)
	}
	return ev, nil
}

func statusOK(got int, want []int) bool {
	if len(want) == 0 {
		return got >= 200 && got < 400
	}
	for _, w := range want {
		if got == w {
			return true
		}
	}
	return false
}

func wantStatus(want []int) string {
	if len(want) == 0 {
		return "2xx or 3xx"
	}
	parts := make([]string, len(want))
	for i, w := range want {
		parts[i] = strconv.Itoa(w)
	}
	return strings.Join(parts, " or ")
}

// snippet is the start of a body for evidence, on one line.
func snippet(b []byte) string {
	const n = 200
	s := strings.ToValidUTF8(string(b), "?")
	cut := len(s) > n
	if cut {
		s = s[:n]
	}
	s = strings.Join(strings.Fields(s), " ")
	if cut {
		s += "..."
	}
	return "body: " + strconv.Quote(s)
}

// round shortens a duration for evidence.
func round(d time.Duration) time.Duration {
	switch {
	case d >= time.Second:
		return d.Round(10 * time.Millisecond)
	case d >= time.Millisecond:
		return d.Round(100 * time.Microsecond)
	}
	return d.Round(time.Microsecond)
}

// staticSpec is a static check: url answers 200 with content_type (a media
// type such as "text/css", compared without parameters).
type staticSpec struct {
	url, contentType string
	headers          map[string]string
}

func parseStatic(a *attrs) runFunc {
	s := staticSpec{url: a.str("url", true), contentType: a.str("content_type", false), headers: a.strMap("headers")}
	checkURL(a, "url", s.url, "http", "https")
	if s.contentType != "" {
		if _, _, err := mime.ParseMediaType(s.contentType); err != nil {
			a.errorf("content_type", "%q is not a media type such as \"text/css\"", s.contentType)
		}
	}
	return s.run
}

func (s staticSpec) run(ctx context.Context, _ *Env) (string, error) {
	r, err := doHTTP(ctx, http.MethodGet, s.url, s.headers, "")
	if err != nil {
		return "", err
	}
	ct := r.header.Get("Content-Type")
	ev := fmt.Sprintf("GET %s -> %d %s in %s (%d bytes)", s.url, r.status, ct, round(r.latency), len(r.body))
	if r.status != http.StatusOK {
		return ev, fmt.Errorf("status %d, want 200", r.status)
	}
	if s.contentType != "" {
		got, _, _ := mime.ParseMediaType(ct)
		want, _, _ := mime.ParseMediaType(s.contentType)
		if !strings.EqualFold(got, want) {
			return ev, fmt.Errorf("content type %q, want %q", ct, s.contentType)
		}
	}
	if len(r.body) == 0 {
		return ev, fmt.Errorf("empty body")
	}
	return ev, nil
}
