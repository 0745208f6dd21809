package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
)

func TestRun(t *testing.T) {
	// The first request to a flaky path fails, then every fifth.
	flaky := map[string]*atomic.Int64{"/flaky1": new(atomic.Int64), "/flaky2": new(atomic.Int64)}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if n := flaky[r.URL.Path]; n != nil && n.Add(1)%5 == 1 {
			http.Error(w, "down", http.StatusServiceUnavailable)
			return
		}
		fmt.Fprintln(w, "blue")
	}))
	defer srv.Close()
	tests := []struct {
		name     string
		args     []string
		code     int
		stdout   string // regexp
		stderr   string // regexp
		wantJSON bool
	}{
		{"text", []string{"-url", srv.URL, "-duration", "100ms", "-workers", "2"}, 0,
			`(?m)^requests [1-9]\d*  ok [1-9]\d*  non_2xx 0  transport_errors 0  retried 0  failures 0\n.*requests/s over .*\(strict, 2 workers, rate 0\)\nbody "blue" [1-9]\d*\n$`, `^$`, false},
		{"json", []string{"-url", srv.URL, "-duration", "100ms", "-mode", "retrying", "-rate", "100", "-json"}, 0, `"mode": "retrying"`, `^$`, true},
		{"failures", []string{"-url", srv.URL + "/flaky1", "-duration", "100ms", "-workers", "1"}, 1,
			`(?m)^body "down" [1-9]`, `^slipway-load: error: [1-9]\d* of [1-9]\d* requests failed\n$`, false},
		{"failures allowed", []string{"-url", srv.URL + "/flaky2", "-duration", "100ms", "-workers", "1", "-allow-failures", "-json"}, 0, `"non_2xx": [1-9]`, `^$`, true},
		{"no url", []string{"-duration", "1s"}, 2, `^$`, `-url is required`, false},
		{"bad mode", []string{"-url", srv.URL, "-mode", "browser"}, 2, `^$`, `parse mode "browser"`, false},
		{"https", []string{"-url", "https://127.0.0.1/"}, 2, `^$`, `only http://`, false},
		{"positional", []string{"-url", srv.URL, "extra"}, 2, `^$`, `unexpected argument "extra"`, false},
		{"zero duration", []string{"-url", srv.URL, "-duration", "0s"}, 2, `^$`, `-duration 0s must be positive`, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := run(t.Context(), tt.args, &stdout, &stderr)
			if code != tt.code {
				t.Fatalf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", code, tt.code, &stdout, &stderr)
			}
			if !regexp.MustCompile(tt.stdout).MatchString(stdout.String()) {
				t.Errorf("stdout does not match %s:\n%s", tt.stdout, &stdout)
			}
			if !regexp.MustCompile(tt.stderr).MatchString(stderr.String()) {
				t.Errorf("stderr does not match %s:\n%s", tt.stderr, &stderr)
			}
			if tt.wantJSON {
				var r struct {
					Requests, OK, Failures int
					Non2xx                 int `json:"non_2xx"`
				}
				if err := json.Unmarshal(stdout.Bytes(), &r); err != nil {
					t.Fatalf("decode json: %v", err)
				}
				if r.Requests == 0 || r.Failures != r.Non2xx || r.OK+r.Non2xx != r.Requests {
					t.Errorf("json counts %+v", r)
				}
			}
			if code == 2 && !strings.Contains(stderr.String(), "slipway-load: error: ") {
				t.Errorf("usage error without the error prefix: %s", &stderr)
			}
		})
	}
}
