package analysis

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/slipwayhq/slipway/internal/testenv"
)

const nginxBinary = "/usr/sbin/nginx"

// TestNginxSourceReadsARealRoute runs a private nginx with the route
// providers/nginx renders for a 25% canary (its golden file), sends
// requests through it, and checks that the source counts exactly what the
// client saw, per group, from the log nginx itself wrote.
func TestNginxSourceReadsARealRoute(t *testing.T) {
	_, err := os.Stat(nginxBinary)
	testenv.Require(t, "nginx", err)
	golden, err := os.ReadFile(filepath.Join("..", "..", "providers", "nginx", "testdata", "canary_25.conf"))
	if err != nil {
		t.Fatal(err)
	}
	var candHits atomic.Int64
	stable := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "stable\n")
	}))
	defer stable.Close()
	candidate := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if candHits.Add(1)%3 == 0 {
			w.WriteHeader(http.StatusBadGateway)
		}
		io.WriteString(w, "candidate\n")
	}))
	defer candidate.Close()

	dir := t.TempDir()
	logPath := filepath.Join(dir, "slipway.log")
	port := freePort(t)
	conf := string(golden)
	for old, repl := range map[string]string{
		"/var/log/nginx/slipway.log": logPath,
		"listen 8080;":               "listen 127.0.0.1:" + port + ";",
		"127.0.0.1:49153":            stable.Listener.Addr().String(),
		"127.0.0.1:49154":            stable.Listener.Addr().String(),
		"127.0.0.1:49155":            candidate.Listener.Addr().String(),
	} {
		if !strings.Contains(conf, old) {
			t.Fatalf("the golden route no longer contains %q: update this test", old)
		}
		conf = strings.ReplaceAll(conf, old, repl)
	}
	startNginx(t, dir, conf)

	from := time.Now()
	client := &http.Client{}
	seen := map[string]*side{GroupStable: {}, GroupCandidate: {}}
	const n = 300
	for i := range n {
		req, _ := http.NewRequest(http.MethodGet, "http://127.0.0.1:"+port+fmt.Sprintf("/api/items?i=%d", i), nil)
		req.Host = "thebot.example.com"
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		s := seen[resp.Header.Get(GroupHeader)]
		if s == nil {
			t.Fatalf("response without a known %s: %q", GroupHeader, resp.Header.Get(GroupHeader))
		}
		s.reqs++
		if resp.StatusCode >= 500 {
			s.errs++
		}
	}
	// A confirmation probe is not logged.
	req, _ := http.NewRequest(http.MethodGet, "http://127.0.0.1:"+port+"/", nil)
	req.Host = "thebot.example.com"
	req.Header.Set("X-Slipway-Confirm", "1")
	if resp, err := client.Do(req); err == nil {
		resp.Body.Close()
	}

	src := NewNginx(logPath, Route("thebot", "prod", "backend"))
	defer src.Close()
	// nginx writes each line as the request ends; wait for all of them,
	// then read the one window.
	deadline := time.Now().Add(10 * time.Second)
	for {
		if countLines(t, logPath) >= n {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("nginx logged %d of %d requests", countLines(t, logPath), n)
		}
		time.Sleep(20 * time.Millisecond)
	}
	w, err := src.Read(context.Background(), from, time.Now().Add(2*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	st, ca := seen[GroupStable], seen[GroupCandidate]
	if st.reqs == 0 || ca.reqs == 0 || ca.errs == 0 {
		t.Fatalf("the client saw stable %+v, candidate %+v: both groups and some errors are needed", *st, *ca)
	}
	wantCounts(t, w, st.reqs, st.errs, ca.reqs, ca.errs)
	if src.Malformed() != 0 || w.QueryErrors != 0 {
		t.Fatalf("%d malformed lines, %d query errors (%s)", src.Malformed(), w.QueryErrors, w.QueryError)
	}
	if !(w.Stable.P50 >= 0) || !(w.Candidate.P99 >= w.Candidate.P50) {
		t.Fatalf("latencies stable p50 %v, candidate p50 %v p99 %v", w.Stable.P50, w.Candidate.P50, w.Candidate.P99)
	}
	v, reason := NewJudge(standard(), JudgeOptions{}).Observe(w)
	if v != Fail || !strings.Contains(reason, "candidate error rate") {
		t.Fatalf("verdict %s %q, want fail on the candidate's error rate", v, reason)
	}
}

// countLines counts the lines of the file at path, 0 when it is missing.
func countLines(t *testing.T, path string) int {
	b, err := os.ReadFile(path)
	if os.IsNotExist(err) {
		return 0
	}
	if err != nil {
		t.Fatal(err)
	}
	return strings.Count(string(b), "\n")
}

// freePort returns a loopback port that was free a moment ago.
func freePort(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	_, port, _ := net.SplitHostPort(l.Addr().String())
	return port
}

// startNginx runs a private nginx in dir with route as its only server,
// until the test ends.
func startNginx(t *testing.T, dir, route string) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(dir, "route.conf"), []byte(route), 0o644); err != nil {
		t.Fatal(err)
	}
	var temps strings.Builder
	for _, k := range []string{"client_body", "proxy", "fastcgi", "uwsgi", "scgi"} {
		fmt.Fprintf(&temps, "    %s_temp_path %s;\n", k, filepath.Join(dir, k))
	}
	conf := filepath.Join(dir, "nginx.conf")
	main := fmt.Sprintf("daemon off;\nworker_processes 2;\n%spid %s/nginx.pid;\nerror_log %s/error.log;\nevents { worker_connections 64; }\nhttp {\n    access_log off;\n%s    include %s/route.conf;\n}\n",
		userLine(), dir, dir, temps.String(), dir)
	if err := os.WriteFile(conf, []byte(main), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(nginxBinary, "-p", dir, "-c", conf)
	cmd.Stderr = os.Stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start nginx: %v", err)
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGQUIT)
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			<-done
		}
	})
	deadline := time.Now().Add(10 * time.Second)
	for {
		if _, err := os.Stat(filepath.Join(dir, "nginx.pid")); err == nil {
			return
		}
		select {
		case <-done:
			t.Fatal("nginx exited at start; see its output above")
		default:
		}
		if time.Now().After(deadline) {
			t.Fatal("nginx did not write its pid file")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// userLine keeps nginx workers as root when the test runs as root, so they
// can write the log in the test's temporary directory.
func userLine() string {
	if os.Geteuid() == 0 {
		return "user root;\n"
	}
	return ""
}
