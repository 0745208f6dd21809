package main

// Script commands that check a release's traffic from outside slipway: the
// access log nginx writes, the containers' published ports, a private
// Prometheus. They prove what slipway's own record claims.

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/client"
	"github.com/rogpeppe/go-internal/testscript"
	"github.com/slipwayhq/slipway/internal/testenv"
)

// logLine is one line of slipway's access-log format
// (providers/nginx.LogFormatFields).
type logLine struct {
	time     string // time_iso8601, one-second resolution
	status   int
	upstream string
	route    string
	version  string
}

// readLog reads the lines of path from offset on, and returns them with
// the offset after the last whole line.
func readLog(path string, offset int64) ([]logLine, int64, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, offset, err
	}
	defer f.Close()
	if _, err := f.Seek(offset, io.SeekStart); err != nil {
		return nil, offset, err
	}
	var out []logLine
	r := bufio.NewReader(f)
	for {
		s, err := r.ReadString('\n')
		if err != nil {
			break // a partial last line is read next time
		}
		offset += int64(len(s))
		fs := strings.Split(strings.TrimSuffix(s, "\n"), "\t")
		if len(fs) != 10 {
			continue
		}
		st, _ := strconv.Atoi(fs[2])
		out = append(out, logLine{time: fs[0], status: st, upstream: fs[7], route: fs[8], version: fs[9]})
	}
	return out, offset, nil
}

// logSize returns the size of the access log, 0 when it does not exist yet.
func logSize(ts *testscript.TestScript) int64 {
	st, err := os.Stat(ts.Getenv("NGINX_ACCESS_LOG"))
	if err != nil {
		return 0
	}
	return st.Size()
}

// ours keeps the lines of the script's own project's routes.
func ours(ts *testscript.TestScript, lines []logLine) []logLine {
	prefix := ts.Getenv("PROJECT") + "/"
	var out []logLine
	for _, l := range lines {
		if strings.HasPrefix(l.route, prefix) {
			out = append(out, l)
		}
	}
	return out
}

// share URL N [VERSION PERCENT] sends N GETs through URL (8 keep-alive
// workers, one retry as a browser would) and prints the share of each
// version among the access-log lines written meanwhile. With VERSION and
// PERCENT, it fails unless there are at least 2000 lines and VERSION's
// share is within 2 percentage points of PERCENT. Needs NGINX_ACCESS_LOG.
func cmdShare(ts *testscript.TestScript, neg bool, args []string) {
	if neg || (len(args) != 2 && len(args) != 4) {
		ts.Fatalf("usage: share URL N [VERSION PERCENT]")
	}
	n, err := strconv.Atoi(args[1])
	ts.Check(err)
	start := logSize(ts)
	tr := &http.Transport{MaxIdleConnsPerHost: 8}
	defer tr.CloseIdleConnections()
	c := &http.Client{Transport: tr, Timeout: 10 * time.Second}
	get := func() bool {
		for try := 0; try < 2; try++ {
			resp, err := c.Get(args[0])
			if err != nil {
				continue
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			return resp.StatusCode/100 == 2
		}
		return false
	}
	var next, failed atomic.Int64
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for next.Add(1) <= int64(n) {
				if !get() {
					failed.Add(1)
				}
			}
		}()
	}
	wg.Wait()
	lines, _, err := readLog(ts.Getenv("NGINX_ACCESS_LOG"), start)
	ts.Check(err)
	lines = ours(ts, lines)
	count := map[string]int{}
	for _, l := range lines {
		count[l.version]++
	}
	var versions []string
	for v := range count {
		versions = append(versions, v)
	}
	sort.Strings(versions)
	pct := func(v string) float64 { return 100 * float64(count[v]) / float64(max(len(lines), 1)) }
	var parts []string
	for _, v := range versions {
		parts = append(parts, fmt.Sprintf("%s %d (%.2f%%)", v, count[v], pct(v)))
	}
	fmt.Fprintf(ts.Stdout(), "share: %d requests, %d failed; %d log lines: %s\n", n, failed.Load(), len(lines), strings.Join(parts, ", "))
	if failed.Load() > 0 {
		ts.Fatalf("share: %d of %d requests failed", failed.Load(), n)
	}
	if len(args) == 4 {
		want, err := strconv.ParseFloat(args[3], 64)
		ts.Check(err)
		if len(lines) < 2000 {
			ts.Fatalf("share: %d log lines, want at least 2000", len(lines))
		}
		if got := pct(args[2]); math.Abs(got-want) > 2 {
			ts.Fatalf("share: %s served %.2f%% of requests, want %.0f%% ± 2", args[2], got, want)
		}
	}
}

var upstreamMarks sync.Map // script work dir -> access-log offset

// upstreams mark | upstreams check MIN: check, for every whole second of
// the access log since the mark (the first and last seconds, which are
// partial, aside), that at least MIN distinct upstream addresses answered
// 2xx, and that no request failed. A 499 (the client gave up, as a load
// does when it stops) is counted apart, not as a failure.
func cmdUpstreams(ts *testscript.TestScript, neg bool, args []string) {
	key := ts.MkAbs(".")
	switch {
	case !neg && len(args) == 1 && args[0] == "mark":
		upstreamMarks.Store(key, logSize(ts))
	case !neg && len(args) == 2 && args[0] == "check":
		min, err := strconv.Atoi(args[1])
		ts.Check(err)
		v, ok := upstreamMarks.Load(key)
		if !ok {
			ts.Fatalf("upstreams check: no mark")
		}
		lines, _, err := readLog(ts.Getenv("NGINX_ACCESS_LOG"), v.(int64))
		ts.Check(err)
		lines = ours(ts, lines)
		bySecond := map[string]map[string]bool{}
		var seconds []string
		bad, gaveUp := 0, 0
		for _, l := range lines {
			if l.status == 499 {
				gaveUp++
				continue
			}
			if l.status/100 != 2 {
				bad++
				if bad <= 5 {
					fmt.Fprintf(ts.Stdout(), "  %s status %d from %s\n", l.time, l.status, l.upstream)
				}
				continue
			}
			if bySecond[l.time] == nil {
				bySecond[l.time] = map[string]bool{}
				seconds = append(seconds, l.time)
			}
			bySecond[l.time][l.upstream] = true
		}
		sort.Strings(seconds)
		if len(seconds) < 3 {
			ts.Fatalf("upstreams: %d seconds of log since the mark, want at least 3", len(seconds))
		}
		fewest, at := math.MaxInt, ""
		all := map[string]bool{}
		for _, s := range seconds[1 : len(seconds)-1] {
			if n := len(bySecond[s]); n < fewest {
				fewest, at = n, s
			}
			for a := range bySecond[s] {
				all[a] = true
			}
		}
		fmt.Fprintf(ts.Stdout(), "upstreams: %d lines over %d whole seconds, %d failed, %d given up by the client; %d addresses in all, at least %d each second (fewest at %s)\n",
			len(lines), len(seconds)-2, bad, gaveUp, len(all), fewest, at)
		if bad > 0 {
			ts.Fatalf("upstreams: %d requests were not answered 2xx", bad)
		}
		if fewest < min {
			ts.Fatalf("upstreams: only %d upstream addresses served at %s, want at least %d", fewest, at, min)
		}
	default:
		ts.Fatalf("usage: upstreams mark | upstreams check MIN")
	}
}

// replicaWatch polls the published ports of a project's running
// containers and keeps the fewest that answered /health at once.
type replicaWatch struct {
	cancel  context.CancelFunc
	done    chan struct{}
	fewest  int
	most    int
	samples int
	errs    []string
}

var watches sync.Map // script work dir -> *replicaWatch

// replicas start | replicas stop MIN: poll, every 100ms, every running
// container of the script's project through its published port
// (GET /health) and fail on stop when fewer than MIN answered at any
// moment.
func cmdReplicas(ts *testscript.TestScript, neg bool, args []string) {
	key := ts.MkAbs(".")
	switch {
	case !neg && len(args) == 1 && args[0] == "start":
		cli, err := client.NewClientWithOpts(client.FromEnv, client.WithAPIVersionNegotiation())
		ts.Check(err)
		ctx, cancel := context.WithCancel(context.Background())
		w := &replicaWatch{cancel: cancel, done: make(chan struct{}), fewest: math.MaxInt}
		watches.Store(key, w)
		ts.Defer(func() { cancel(); <-w.done; cli.Close() })
		go w.run(ctx, cli, ts.Getenv("PROJECT"))
	case !neg && len(args) == 2 && args[0] == "stop":
		min, err := strconv.Atoi(args[1])
		ts.Check(err)
		v, ok := watches.LoadAndDelete(key)
		if !ok {
			ts.Fatalf("replicas stop: no watch was started")
		}
		w := v.(*replicaWatch)
		w.cancel()
		<-w.done
		fmt.Fprintf(ts.Stdout(), "replicas: %d samples, %d to %d healthy at once\n", w.samples, w.fewest, w.most)
		for _, e := range w.errs {
			fmt.Fprintf(ts.Stdout(), "  error: %s\n", e)
		}
		if w.samples < 10 {
			ts.Fatalf("replicas: only %d samples", w.samples)
		}
		if w.fewest < min {
			ts.Fatalf("replicas: %d healthy replicas at one moment, want at least %d", w.fewest, min)
		}
	default:
		ts.Fatalf("usage: replicas start | replicas stop MIN")
	}
}

func (w *replicaWatch) run(ctx context.Context, cli *client.Client, project string) {
	defer close(w.done)
	hc := &http.Client{Timeout: time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for {
		list, err := cli.ContainerList(ctx, container.ListOptions{Filters: filters.NewArgs(filters.Arg("label", "io.slipway.project="+project))})
		if ctx.Err() != nil {
			return
		}
		if err != nil {
			w.errs = append(w.errs, err.Error())
		} else {
			var healthy atomic.Int64
			var wg sync.WaitGroup
			for _, c := range list {
				for _, p := range c.Ports {
					if p.PublicPort == 0 || p.IP != "127.0.0.1" {
						continue
					}
					wg.Add(1)
					go func(port uint16) {
						defer wg.Done()
						resp, err := hc.Get(fmt.Sprintf("http://127.0.0.1:%d/health", port))
						if err == nil {
							resp.Body.Close()
							if resp.StatusCode == 200 {
								healthy.Add(1)
							}
						}
					}(p.PublicPort)
				}
			}
			wg.Wait()
			if ctx.Err() != nil {
				return
			}
			n := int(healthy.Load())
			w.samples++
			w.fewest = min(w.fewest, n)
			w.most = max(w.most, n)
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

// prometheus start runs a private Prometheus (Debian's package) that
// discovers the script's project's containers through the Docker API,
// scrapes their published /metrics every 500ms and labels each series with
// the container's release (label "release", from io.slipway.release). It
// sets PROM_URL.
func cmdPrometheus(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 || args[0] != "start" {
		ts.Fatalf("usage: prometheus start")
	}
	bin, err := exec.LookPath("prometheus")
	if err != nil {
		ts.Fatalf("prometheus not found: apt-get install -y prometheus")
	}
	dir := ts.MkAbs("prometheus")
	ts.Check(os.MkdirAll(filepath.Join(dir, "data"), 0o755))
	host := os.Getenv("DOCKER_HOST")
	if host == "" {
		host = "unix:///var/run/docker.sock"
	}
	cfg := fmt.Sprintf(`global:
  scrape_interval: 500ms
  scrape_timeout: 400ms
scrape_configs:
  - job_name: slipway
    docker_sd_configs:
      - host: %q
        refresh_interval: 1s
        filters:
          - name: label
            values: ["io.slipway.project=%s"]
    relabel_configs:
      - source_labels: [__meta_docker_port_private]
        regex: "8080"
        action: keep
      - source_labels: [__meta_docker_port_public_ip]
        regex: "127\\.0\\.0\\.1"
        action: keep
      - source_labels: [__meta_docker_port_public]
        target_label: __address__
        replacement: "127.0.0.1:$1"
      - source_labels: [__meta_docker_container_label_io_slipway_release]
        target_label: release
      - source_labels: [__meta_docker_container_name]
        regex: "/?(.*)"
        target_label: container
`, host, ts.Getenv("PROJECT"))
	ts.Check(os.WriteFile(filepath.Join(dir, "prometheus.yml"), []byte(cfg), 0o644))
	port, err := testenv.FreePort()
	ts.Check(err)
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	logf, err := os.Create(filepath.Join(dir, "prometheus.log"))
	ts.Check(err)
	cmd := exec.Command(bin, "--config.file="+filepath.Join(dir, "prometheus.yml"), "--web.listen-address="+addr,
		"--storage.tsdb.path="+filepath.Join(dir, "data"), "--storage.tsdb.retention.time=1h")
	cmd.Stdout, cmd.Stderr = logf, logf
	ts.Check(cmd.Start())
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait(); logf.Close() }()
	ts.Defer(func() {
		_ = cmd.Process.Signal(os.Interrupt)
		select {
		case <-exited:
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
			<-exited
		}
	})
	url := "http://" + addr
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := http.Get(url + "/-/ready")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				break
			}
		}
		select {
		case err := <-exited:
			exited <- err
			ts.Fatalf("prometheus exited: %v (see %s)", err, logf.Name())
		default:
		}
		if time.Now().After(deadline) {
			ts.Fatalf("prometheus not ready after 30s (see %s)", logf.Name())
		}
		time.Sleep(100 * time.Millisecond)
	}
	ts.Setenv("PROM_URL", url)
}

// prometheusOK says whether a prometheus binary is installed.
func prometheusOK() error {
	if _, err := exec.LookPath("prometheus"); err != nil {
		return errors.New("prometheus not found: apt-get install -y prometheus")
	}
	return nil
}
