package prober

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestOptionsValidate(t *testing.T) {
	tests := []struct {
		name    string
		o       Options
		wantErr string
		wantReq string
		addr    string
	}{
		{"plain", Options{URL: "http://127.0.0.1:8081/a?b=c"}, "", "GET /a?b=c HTTP/1.1\r\nHost: 127.0.0.1:8081\r\n", "127.0.0.1:8081"},
		{"no path, default port", Options{URL: "http://localhost"}, "", "GET / HTTP/1.1\r\nHost: localhost\r\n", "localhost:80"},
		{"host header", Options{URL: "http://[::1]:81/", Host: "app.example"}, "", "GET / HTTP/1.1\r\nHost: app.example\r\n", "[::1]:81"},
		{"https", Options{URL: "https://127.0.0.1/"}, "only http://", "", ""},
		{"no host", Options{URL: "http:///x"}, "no host", "", ""},
		{"unparsable", Options{URL: "http://a b/"}, "parse url", "", ""},
		{"user", Options{URL: "http://u:p@127.0.0.1/"}, "user information", "", ""},
		{"negative rate", Options{URL: "http://127.0.0.1/", Rate: -1}, "rate -1", "", ""},
		{"negative workers", Options{URL: "http://127.0.0.1/", Workers: -1}, "workers -1", "", ""},
		{"negative timeout", Options{URL: "http://127.0.0.1/", Timeout: -time.Second}, "timeout -1s", "", ""},
		{"bad mode", Options{URL: "http://127.0.0.1/", Mode: 7}, "unknown mode 7", "", ""},
		{"host injection", Options{URL: "http://127.0.0.1/", Host: "a\r\nX: y"}, "control character", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tg, err := tt.o.target()
			if tt.wantErr != "" {
				if err == nil || !errors.Is(err, ErrInvalidOptions) || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error %v, want ErrInvalidOptions with %q", err, tt.wantErr)
				}
				if tt.o.Validate() == nil {
					t.Fatal("Validate accepted what target refused")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !strings.HasPrefix(string(tg.req), tt.wantReq) || !strings.HasSuffix(string(tg.req), "\r\n\r\n") || tg.addr != tt.addr {
				t.Fatalf("request %q to %s, want %q... to %s", tg.req, tg.addr, tt.wantReq, tt.addr)
			}
		})
	}
}

func TestOptionsHeaders(t *testing.T) {
	const head = "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n"
	tests := []struct {
		name    string
		headers map[string]string
		want    string // the whole request
		wantErr string
	}{
		{"none", nil, head + "Accept: */*\r\nUser-Agent: slipway-prober\r\n\r\n", ""},
		{"probe mark, canonical and sorted", map[string]string{"x-slipway-probe": "1", "A-First": "a\tb"},
			head + "A-First: a\tb\r\nAccept: */*\r\nUser-Agent: slipway-prober\r\nX-Slipway-Probe: 1\r\n\r\n", ""},
		{"replaces a default", map[string]string{"user-agent": "probe/2", "Accept": "text/plain"},
			head + "Accept: text/plain\r\nUser-Agent: probe/2\r\n\r\n", ""},
		{"empty value", map[string]string{"X-Empty": ""}, head + "Accept: */*\r\nUser-Agent: slipway-prober\r\nX-Empty: \r\n\r\n", ""},
		{"host", map[string]string{"host": "other"}, "", `header "host" is set by the prober itself`},
		{"connection", map[string]string{"Connection": "close"}, "", "set by the prober itself"},
		{"content-length", map[string]string{"Content-Length": "3"}, "", "set by the prober itself"},
		{"transfer-encoding", map[string]string{"Transfer-Encoding": "chunked"}, "", "set by the prober itself"},
		{"name with space", map[string]string{"X Probe": "1"}, "", "not an HTTP token"},
		{"name with colon", map[string]string{"X-Probe:": "1"}, "", "not an HTTP token"},
		{"empty name", map[string]string{"": "1"}, "", "not an HTTP token"},
		{"value injection", map[string]string{"X-Probe": "1\r\nHost: evil"}, "", "control character"},
		{"twice", map[string]string{"X-Probe": "1", "x-probe": "2"}, "", `header "X-Probe" is given twice`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tg, err := Options{URL: "http://127.0.0.1/", Headers: tt.headers}.target()
			if tt.wantErr != "" {
				if err == nil || !errors.Is(err, ErrInvalidOptions) || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error %v, want ErrInvalidOptions with %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if string(tg.req) != tt.want {
				t.Fatalf("request\n%q, want\n%q", tg.req, tt.want)
			}
		})
	}
}

func TestParseMode(t *testing.T) {
	for _, m := range []Mode{Strict, Retrying} {
		got, err := ParseMode(m.String())
		if err != nil || got != m {
			t.Errorf("ParseMode(%q) = %v, %v", m.String(), got, err)
		}
	}
	if _, err := ParseMode("browser"); !errors.Is(err, ErrInvalidOptions) {
		t.Errorf("ParseMode(browser) error %v, want ErrInvalidOptions", err)
	}
}

func TestPacer(t *testing.T) {
	start := time.Unix(1000, 0)
	p := newPacer(100, start) // one slot every 10ms
	for i := range 5 {
		// Workers asking early get the slots in order, never sooner.
		if got, want := p.reserve(start), start.Add(time.Duration(i)*10*time.Millisecond); !got.Equal(want) {
			t.Fatalf("slot %d at %v, want %v", i, got, want)
		}
	}
	// After a stall of a second only maxLag is caught up.
	late := start.Add(time.Second)
	if got, want := p.reserve(late), late.Add(-maxLag); !got.Equal(want) {
		t.Fatalf("slot after a stall at %v, want %v", got, want)
	}
	if got, want := p.reserve(late), late.Add(-maxLag+10*time.Millisecond); !got.Equal(want) {
		t.Fatalf("next slot at %v, want %v", got, want)
	}
}

func TestFirstLine(t *testing.T) {
	tests := []struct{ body, want string }{
		{"", EmptyBody},
		{" \r\n", EmptyBody},
		{"blue 1.2.3\r\nmore", "blue 1.2.3"},
		{strings.Repeat("x", 200), strings.Repeat("x", maxBodyLine)},
		{strings.Repeat("x", maxBodyLine-1) + "é", strings.Repeat("x", maxBodyLine-1)},
		{"bad \xff byte", "bad ? byte"},
	}
	for _, tt := range tests {
		if got := firstLine([]byte(tt.body)); got != tt.want {
			t.Errorf("firstLine(%q) = %q, want %q", tt.body, got, tt.want)
		}
	}
}

type timeoutErr struct{}

func (timeoutErr) Error() string   { return "i/o timeout" }
func (timeoutErr) Timeout() bool   { return true }
func (timeoutErr) Temporary() bool { return true }

func TestDescribeDropsAddresses(t *testing.T) {
	op := func(op string, err error) error {
		return &net.OpError{Op: op, Net: "tcp", Source: &net.TCPAddr{Port: 54321}, Addr: &net.TCPAddr{Port: 80}, Err: err}
	}
	tests := []struct {
		phase string
		err   error
		want  string
	}{
		{"read", io.EOF, "read: connection closed (EOF)"},
		{"read", fmt.Errorf("body: %w", io.ErrUnexpectedEOF), "read: connection closed mid-response (unexpected EOF)"},
		{"read", op("read", os.NewSyscallError("read", syscall.ECONNRESET)), "read: connection reset by peer"},
		{"dial", op("dial", os.NewSyscallError("connect", syscall.ECONNREFUSED)), "dial: connection refused"},
		{"read", op("read", timeoutErr{}), "read: timeout"},
		{"read", errors.New("malformed HTTP response"), "read: malformed HTTP response"},
	}
	for _, tt := range tests {
		if got := describe(tt.phase, tt.err); got != tt.want {
			t.Errorf("describe(%v) = %q, want %q", tt.err, got, tt.want)
		}
	}
}

func TestCountsErrorsDistinctAndCapped(t *testing.T) {
	var c Counts
	for i := range 30 {
		c.add(result{err: fmt.Errorf("e%d", i%15), phase: "read"}, false)
		c.add(result{err: errors.New("e0"), phase: "read"}, true)
	}
	if c.Requests != 60 || c.TransportErrors != 60 || c.Retried != 30 || len(c.Errors) != maxErrors {
		t.Fatalf("counts %+v", c)
	}
	if c.Errors[0] != "read: e0" || c.Errors[1] != "read: e1" {
		t.Fatalf("errors %q, want the first distinct ones in order", c.Errors)
	}
}

func TestResultRetryable(t *testing.T) {
	reset := errors.New("reset")
	tests := []struct {
		name string
		r    result
		want bool
	}{
		{"reused, nothing read", result{err: reset, reused: true}, true},
		{"fresh connection", result{err: reset}, false},
		{"response began", result{err: reset, reused: true, began: true}, false},
		{"timeout", result{err: &net.OpError{Op: "read", Err: timeoutErr{}}, reused: true}, false},
		{"success", result{reused: true, ok: true}, false},
	}
	for _, tt := range tests {
		if got := tt.r.retryable(); got != tt.want {
			t.Errorf("%s: retryable = %v, want %v", tt.name, got, tt.want)
		}
	}
}

// lateContext has passed its deadline but does not say so yet, as a
// context does for a moment before its timer fires.
type lateContext struct{ context.Context }

func (lateContext) Deadline() (time.Time, bool) { return time.Now().Add(-time.Millisecond), true }

func TestEnded(t *testing.T) {
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	future, cancelFuture := context.WithTimeout(context.Background(), time.Hour)
	defer cancelFuture()
	tests := []struct {
		name string
		ctx  context.Context
		want bool
	}{
		{"running", context.Background(), false},
		{"deadline passed, not yet cancelled", lateContext{context.Background()}, true},
		{"cancelled", cancelled, true},
		{"deadline in an hour", future, false},
	}
	for _, tt := range tests {
		if got := ended(tt.ctx); got != tt.want {
			t.Errorf("%s: ended = %v, want %v", tt.name, got, tt.want)
		}
	}
}
