package prober

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// rawServer serves HTTP/1.1 on 127.0.0.1 from a plain listener, so a test
// can misbehave in ways net/http will not: answer the first n requests of
// each connection, then act on the next one without answering it.
type rawServer struct {
	ln    net.Listener
	conns atomic.Int64
	wg    sync.WaitGroup
}

// misbehaviour is what a rawServer does to the request after the n-th of a
// connection.
type misbehaviour int

const (
	closeAfter   misbehaviour = iota // close: the client reads EOF
	resetAfter                       // close with SO_LINGER 0: the client reads a reset
	partialAfter                     // send half a response, then close
)

func startRaw(t *testing.T, n int, m misbehaviour) *rawServer {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &rawServer{ln: ln}
	t.Cleanup(func() { ln.Close(); s.wg.Wait() })
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			s.conns.Add(1)
			s.wg.Add(1)
			go func() {
				defer s.wg.Done()
				s.serve(c, n, m)
			}()
		}
	}()
	return s
}

func (s *rawServer) url() string { return "http://" + s.ln.Addr().String() + "/" }

func (s *rawServer) serve(c net.Conn, n int, m misbehaviour) {
	defer c.Close()
	br := bufio.NewReader(c)
	for i := 0; ; i++ {
		req, err := http.ReadRequest(br)
		if err != nil {
			return
		}
		_, _ = io.Copy(io.Discard, req.Body)
		if i < n {
			if _, err := io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nok\n"); err != nil {
				return
			}
			continue
		}
		switch m {
		case resetAfter:
			_ = c.(*net.TCPConn).SetLinger(0)
		case partialAfter:
			_, _ = io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nok")
		}
		return
	}
}

// runUntil runs a load until it has finished at least n requests, and
// returns its totals.
func runUntil(t *testing.T, o Options, n int) Counts {
	t.Helper()
	l := Start(t.Context(), o)
	for l.Snapshot().Requests < n {
		select {
		case <-l.Done():
			t.Fatalf("load ended early: %+v", l.Snapshot())
		case <-time.After(time.Millisecond):
		}
	}
	return l.Stop()
}

func checkSum(t *testing.T, c Counts) {
	t.Helper()
	if c.OK+c.Non2xx+c.TransportErrors != c.Requests {
		t.Errorf("ok %d + non-2xx %d + transport errors %d != requests %d", c.OK, c.Non2xx, c.TransportErrors, c.Requests)
	}
	bodies := 0
	for _, n := range c.ByBody {
		bodies += n
	}
	if bodies != c.OK+c.Non2xx {
		t.Errorf("by body sums to %d, want %d responses: %v", bodies, c.OK+c.Non2xx, c.ByBody)
	}
}

func TestLoadCountsOKOverKeepAlive(t *testing.T) {
	for _, mode := range []Mode{Strict, Retrying} {
		t.Run(mode.String(), func(t *testing.T) {
			var conns atomic.Int64
			srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if r.Host != "app.example" || r.URL.Path != "/health" || r.Method != http.MethodGet {
					http.Error(w, "bad request "+r.Host+r.URL.Path, http.StatusBadRequest)
					return
				}
				fmt.Fprintln(w, "blue 1.2.3")
				fmt.Fprintln(w, "second line")
			}))
			srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
				if s == http.StateNew {
					conns.Add(1)
				}
			}
			srv.Start()
			defer srv.Close()
			c := runUntil(t, Options{URL: srv.URL + "/health", Host: "app.example", Workers: 3, Mode: mode}, 300)
			checkSum(t, c)
			if c.Failures() != 0 || c.OK != c.Requests || c.Retried != 0 {
				t.Fatalf("counts %+v, want all OK", c)
			}
			if len(c.ByBody) != 1 || c.ByBody["blue 1.2.3"] != c.Requests {
				t.Errorf("by body %v, want every response under %q", c.ByBody, "blue 1.2.3")
			}
			if n := conns.Load(); n > 3 {
				t.Errorf("%d connections for 3 workers: keep-alive connections were not reused", n)
			}
		})
	}
}

// TestLoadSendsHeadersOnEveryRequest: Options.Headers go on every
// request, those on a reused connection and those on a new one alike.
func TestLoadSendsHeadersOnEveryRequest(t *testing.T) {
	var n, marked, conns atomic.Int64
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("X-Slipway-Probe") == "1" && r.Header.Get("User-Agent") == "slipway-prober" {
			marked.Add(1)
		}
		if n.Add(1)%5 == 0 {
			w.Header().Set("Connection", "close") // the client dials again
		}
		fmt.Fprintln(w, "ok")
	}))
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			conns.Add(1)
		}
	}
	srv.Start()
	defer srv.Close()
	c := runUntil(t, Options{URL: srv.URL, Workers: 1, Headers: map[string]string{"x-slipway-probe": "1"}}, 50)
	if c.Failures() != 0 {
		t.Fatalf("counts %+v, want no failure", c)
	}
	// A request cut short by Stop reaches the server uncounted: compare
	// with what the server saw.
	if got, all := marked.Load(), n.Load(); got != all || all < int64(c.Requests) {
		t.Fatalf("%d of %d requests carried the header (%d counted)", got, all, c.Requests)
	}
	if conns.Load() < 2 {
		t.Fatalf("%d connection(s): the test never saw a redial", conns.Load())
	}
}

func TestLoadCountsNon2xxExactly(t *testing.T) {
	for _, mode := range []Mode{Strict, Retrying} {
		t.Run(mode.String(), func(t *testing.T) {
			var n atomic.Int64
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if n.Add(1)%10 == 0 {
					http.Error(w, "boom", http.StatusInternalServerError)
					return
				}
				fmt.Fprintln(w, "ok")
			}))
			defer srv.Close()
			// One worker sends one request at a time, so the requests it
			// finished are the server's first ones, in order.
			c := runUntil(t, Options{URL: srv.URL, Workers: 1, Mode: mode}, 205)
			checkSum(t, c)
			if want := c.Requests / 10; c.Non2xx != want || c.TransportErrors != 0 {
				t.Fatalf("counts %+v: want non-2xx %d and no transport errors", c, want)
			}
			if c.ByBody["boom"] != c.Non2xx || c.ByBody["ok"] != c.OK {
				t.Errorf("by body %v, want boom %d and ok %d", c.ByBody, c.Non2xx, c.OK)
			}
		})
	}
}

// TestLoadAbruptKeepAliveClose is the positive control of the two modes: a
// server that drops a keep-alive connection instead of answering is a
// failure to a strict client and a retry to a browser-like one.
func TestLoadAbruptKeepAliveClose(t *testing.T) {
	tests := []struct {
		name string
		m    misbehaviour
		mode Mode
		want func(Counts) string
	}{
		{"close/strict", closeAfter, Strict, strictFails},
		{"reset/strict", resetAfter, Strict, strictFails},
		{"close/retrying", closeAfter, Retrying, retryingHides},
		{"reset/retrying", resetAfter, Retrying, retryingHides},
		// A response that began is not retried, even on a reused connection.
		{"partial/retrying", partialAfter, Retrying, strictFails},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := startRaw(t, 5, tt.m)
			c := runUntil(t, Options{URL: s.url(), Workers: 2, Mode: tt.mode}, 200)
			checkSum(t, c)
			if msg := tt.want(c); msg != "" {
				t.Fatalf("counts %+v: %s", c, msg)
			}
		})
	}
}

func strictFails(c Counts) string {
	if c.TransportErrors == 0 || c.Retried != 0 || c.Non2xx != 0 {
		return "want transport errors, no retries, no non-2xx"
	}
	if len(c.Errors) == 0 || !strings.HasPrefix(c.Errors[0], "read: ") {
		return "want a read error described"
	}
	return ""
}

func retryingHides(c Counts) string {
	if c.Failures() != 0 || c.Retried == 0 || c.OK != c.Requests {
		return "want no failures and some retries"
	}
	return ""
}

func TestLoadConnectionCloseIsNotAFailure(t *testing.T) {
	tests := []struct {
		name    string
		handler http.HandlerFunc
	}{
		{"connection close", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Connection", "close")
			fmt.Fprintln(w, "ok")
		}},
		{"chunked", func(w http.ResponseWriter, r *http.Request) {
			fmt.Fprint(w, "o")
			w.(http.Flusher).Flush()
			fmt.Fprintln(w, "k")
		}},
		{"big body", func(w http.ResponseWriter, r *http.Request) {
			fmt.Fprintln(w, "ok")
			w.Write(make([]byte, 3*maxBody))
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(tt.handler)
			defer srv.Close()
			c := runUntil(t, Options{URL: srv.URL, Workers: 2}, 100)
			checkSum(t, c)
			if c.Failures() != 0 || c.ByBody["ok"] != c.Requests {
				t.Fatalf("counts %+v, want all OK with body ok", c)
			}
		})
	}
}

func TestLoadServerDown(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	url := "http://" + ln.Addr().String() + "/"
	ln.Close()
	for _, mode := range []Mode{Strict, Retrying} {
		t.Run(mode.String(), func(t *testing.T) {
			c := runUntil(t, Options{URL: url, Workers: 2, Mode: mode}, 3)
			checkSum(t, c)
			if c.TransportErrors != c.Requests || c.OK != 0 || c.Retried != 0 {
				t.Fatalf("counts %+v, want only transport errors and no retries", c)
			}
			if len(c.Errors) != 1 || !strings.HasPrefix(c.Errors[0], "dial: ") || !strings.Contains(c.Errors[0], "refused") {
				t.Errorf("errors %q, want one dial error, refused", c.Errors)
			}
		})
	}
}

// TestLoadStopCutsRequestsShort: Stop does not wait for a server that
// never answers, and a request it cut short is not counted.
func TestLoadStopCutsRequestsShort(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	accepted := make(chan net.Conn, 4)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			accepted <- c
		}
	}()
	l := Start(t.Context(), Options{URL: "http://" + ln.Addr().String() + "/", Workers: 2, Timeout: time.Hour})
	for range 2 {
		c := <-accepted
		defer c.Close()
	}
	stopped := make(chan Counts)
	go func() { stopped <- l.Stop() }()
	select {
	case c := <-stopped:
		if c.Requests != 0 || len(c.Errors) != 0 {
			t.Fatalf("counts %+v, want nothing counted", c)
		}
	case <-time.After(time.Minute): // a hang detector, far above any real duration
		t.Fatal("Stop waited for requests that the server never answers")
	}
}

func TestLoadEndsWithContext(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer srv.Close()
	ctx, cancel := context.WithCancel(t.Context())
	l := Start(ctx, Options{URL: srv.URL, Workers: 1})
	for l.Snapshot().Requests == 0 {
		time.Sleep(time.Millisecond)
	}
	cancel()
	<-l.Done()
	before := l.Snapshot()
	if after := l.Stop(); after.Requests != before.Requests {
		t.Fatalf("requests went on after the context ended: %d then %d", before.Requests, after.Requests)
	}
}

func TestLoadRateLimits(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer srv.Close()
	limited := Start(t.Context(), Options{URL: srv.URL, Workers: 2, Rate: 20})
	unlimited := runUntil(t, Options{URL: srv.URL, Workers: 2}, 2000)
	c := limited.Stop()
	checkSum(t, c)
	if c.Requests == 0 || c.Requests*10 > unlimited.Requests {
		t.Fatalf("rate 20/s sent %d requests while unlimited sent %d", c.Requests, unlimited.Requests)
	}
}

func TestLoadExpect(t *testing.T) {
	var n atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if n.Add(1)%2 == 0 {
			fmt.Fprintln(w, "maintenance")
			return
		}
		w.WriteHeader(http.StatusTeapot)
		fmt.Fprintln(w, "app")
	}))
	defer srv.Close()
	expect := func(resp *http.Response, body []byte) bool { return string(body) == "app\n" }
	c := runUntil(t, Options{URL: srv.URL, Workers: 1, Expect: expect}, 50)
	checkSum(t, c)
	if c.OK != c.ByBody["app"] || c.Non2xx != c.ByBody["maintenance"] || c.OK == 0 || c.Non2xx == 0 {
		t.Fatalf("counts %+v: want the teapot app OK and maintenance counted as failing", c)
	}
}

func TestLoadCapsBodies(t *testing.T) {
	var n atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "body %d\n", n.Add(1))
	}))
	defer srv.Close()
	c := runUntil(t, Options{URL: srv.URL, Workers: 2}, 100)
	checkSum(t, c)
	if len(c.ByBody) != maxBodyKeys || c.ByBody[OtherBodies] == 0 {
		t.Fatalf("by body %v, want %d keys with %q", c.ByBody, maxBodyKeys, OtherBodies)
	}
}

func TestLoadInvalidOptionsFail(t *testing.T) {
	c := Start(t.Context(), Options{URL: "https://127.0.0.1/"}).Stop()
	if c.Requests != 1 || c.TransportErrors != 1 || len(c.Errors) != 1 || !strings.Contains(c.Errors[0], "only http://") {
		t.Fatalf("counts %+v, want one error naming the problem", c)
	}
}
