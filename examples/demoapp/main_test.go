package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func TestHealthcheckFlag(t *testing.T) {
	tests := []struct {
		name   string
		status int
		want   int
	}{
		{name: "healthy", status: 200, want: 0},
		{name: "unhealthy", status: 503, want: 1},
		{name: "204 is not healthy", status: 204, want: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var asked string
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				asked = r.URL.Path
				w.WriteHeader(tt.status)
			}))
			defer srv.Close()
			_, port, _ := net.SplitHostPort(srv.Listener.Addr().String())
			var stderr strings.Builder
			got := run(context.Background(), []string{"-healthcheck"}, envFunc("PORT", port), nil, io.Discard, &stderr)
			if got != tt.want {
				t.Errorf("exit %d, want %d (stderr %q)", got, tt.want, stderr.String())
			}
			if asked != "/health" {
				t.Errorf("asked %q, want /health", asked)
			}
		})
	}
	t.Run("nothing listening", func(t *testing.T) {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		_, port, _ := net.SplitHostPort(ln.Addr().String())
		ln.Close()
		if got := run(context.Background(), []string{"-healthcheck"}, envFunc("PORT", port), nil, io.Discard, io.Discard); got != 1 {
			t.Errorf("exit %d, want 1", got)
		}
	})
}

func TestRunUsageErrors(t *testing.T) {
	tests := []struct {
		name string
		args []string
		env  []string
		want string
	}{
		{name: "bad env", env: []string{"FAIL_RATE", "2"}, want: "FAIL_RATE"},
		{name: "unknown flag", args: []string{"-nope"}, want: "flag provided but not defined"},
		{name: "stray argument", args: []string{"serve"}, want: `unexpected argument "serve"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stderr strings.Builder
			if got := run(context.Background(), tt.args, envFunc(tt.env...), nil, io.Discard, &stderr); got != 2 {
				t.Errorf("exit %d, want 2", got)
			}
			if !strings.Contains(stderr.String(), tt.want) {
				t.Errorf("stderr %q lacks %q", stderr.String(), tt.want)
			}
		})
	}
}

func TestRunLogsEnvironment(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	ln.Close()
	ctx, cancel := context.WithCancel(context.Background())
	cancel() // serve starts and stops at once
	var stdout strings.Builder
	env := envFunc("PORT", port, "DEMO_LOG_ENV", "1")
	code := run(ctx, nil, env, func() []string { return []string{"SECRET_KEY=hunter2", "PORT=" + port} }, &stdout, io.Discard)
	if code != 0 {
		t.Fatalf("exit %d", code)
	}
	want := fmt.Sprintf("SECRET_KEY=hunter2\nPORT=%s\ndemoapp: listening on [::]:%s version=dev color=none\ndemoapp: stopped\n", port, port)
	if stdout.String() != want {
		t.Errorf("stdout %q, want %q", stdout.String(), want)
	}
}

func TestGracefulShutdownFinishesInFlight(t *testing.T) {
	s := newServer(config{Version: "v1", Latency: 300 * time.Millisecond}, nil)
	addr, stop := startServer(t, s)
	type result struct {
		body string
		err  error
	}
	resc := make(chan result, 1)
	go func() {
		resp, err := http.Get("http://" + addr + "/")
		if err != nil {
			resc <- result{err: err}
			return
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		resc <- result{string(b), err}
	}()
	for s.served.Load() == 0 { // the request is inside the handler
		time.Sleep(time.Millisecond)
	}
	out, err := stop()
	if err != nil {
		t.Fatalf("serve: %v", err)
	}
	r := <-resc
	if r.err != nil || r.body != "demoapp version=v1 color=\n" {
		t.Errorf("in-flight request got %q, %v; want it answered", r.body, r.err)
	}
	if lines := strings.Split(strings.TrimSpace(out), "\n"); len(lines) != 2 || !strings.HasPrefix(lines[0], "demoapp: listening on 127.0.0.1:") || lines[1] != "demoapp: stopped" {
		t.Errorf("log lines %q, want one start and one stop line", lines)
	}
	if _, err := http.Get("http://" + addr + "/"); err == nil {
		t.Error("server still answers after shutdown")
	}
}
