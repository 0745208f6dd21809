package reliability

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/slipwayhq/slipway/executor/prober"
	"github.com/slipwayhq/slipway/internal/testenv"
)

const soakHCL = `project "${PROJECT}" {}

variable "version" {
  type    = string
  default = "v1"
}

nginx {
  listen_host = "127.0.0.1"
  config_dir  = "${NGINX_CONF_DIR}"
  access_log  = "${NGINX_ACCESS_LOG}"
  prefix      = "${NGINX_PREFIX}"
  conf        = "${NGINX_CONF}"
  switch      = "%s"
  admin_dir   = "${ADMIN_DIR}"
}

service "web" {
  image    = "slipway-demo:${var.version}"
  port     = 8080
  replicas = 2
  health {
    interval = "200ms"
  }
  route {
    listen = ${PORT}
  }
  blue_green {}
}
`

// gauges are what must not grow over a soak.
type gauges struct {
	openFiles  int // file descriptors of nginx's master and workers
	workers    int // nginx worker processes
	containers int // the project's containers, running or not
}

func (g gauges) String() string {
	return fmt.Sprintf("%d open files, %d workers, %d containers", g.openFiles, g.workers, g.containers)
}

func (w *world) gauges() gauges {
	w.t.Helper()
	g := gauges{containers: len(w.containers())}
	pids := []int{w.nginx.PID}
	out, _ := exec.Command("pgrep", "-P", strconv.Itoa(w.nginx.PID)).Output()
	for _, f := range strings.Fields(string(out)) {
		if pid, err := strconv.Atoi(f); err == nil {
			pids = append(pids, pid)
			g.workers++
		}
	}
	for _, pid := range pids {
		fds, _ := os.ReadDir(filepath.Join("/proc", strconv.Itoa(pid), "fd"))
		g.openFiles += len(fds)
	}
	return g
}

// fdKinds counts nginx's open files by kind (socket, pipe, anon_inode,
// or the file's path), for the log of a soak.
func (w *world) fdKinds() map[string]int {
	kinds := map[string]int{}
	pids := []string{strconv.Itoa(w.nginx.PID)}
	out, _ := exec.Command("pgrep", "-P", strconv.Itoa(w.nginx.PID)).Output()
	pids = append(pids, strings.Fields(string(out))...)
	for _, pid := range pids {
		dir := filepath.Join("/proc", pid, "fd")
		fds, _ := os.ReadDir(dir)
		for _, fd := range fds {
			target, err := os.Readlink(filepath.Join(dir, fd.Name()))
			if err != nil {
				continue
			}
			if i := strings.Index(target, ":["); i > 0 {
				target = target[:i]
			}
			kinds[target]++
		}
	}
	return kinds
}

// TestSoak makes 50 consecutive blue-green releases alternating v1 and v2
// under constant load (make reliability only). With dynamic switching
// (nginx's Lua module) a strict keep-alive client sees no failed request;
// in reload mode, when the module is missing, a retrying client (one retry
// of an idempotent request on a connection closed under it) must see
// none. Open files of nginx, its worker processes and the project's
// containers do not grow: containers and workers from the second release
// to the last, open files from the first half of the releases to the
// second.
func TestSoak(t *testing.T) {
	if !full() {
		t.Skip("the soak runs under make reliability (SLIPWAY_RELIABILITY=1)")
	}
	releases := 50
	if s := os.Getenv("SLIPWAY_SOAK_RELEASES"); s != "" {
		releases, _ = strconv.Atoi(s)
	}
	mode, clientMode := "dynamic", prober.Strict
	if err := testenv.LuaAvailable(); err != nil {
		testenv.Require(t, "nginx-lua", err)
		t.Logf("no Lua module (%v): soaking in reload mode with a retrying client", err)
		mode, clientMode = "reload", prober.Retrying
	}
	w := newWorld(t, fmt.Sprintf(soakHCL, mode), worldOpts{lua: mode == "dynamic"})
	w.must(0, "apply", "-auto-approve", "-var", "version=v1")

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	load := prober.Start(ctx, prober.Options{URL: fmt.Sprintf("http://127.0.0.1:%d/", w.port), Rate: 200, Workers: 4, Mode: clientMode})
	stopped := false
	defer func() {
		if !stopped {
			load.Stop()
		}
	}()

	w.must(0, "apply", "-auto-approve", "-var", "version=v2")
	base := w.gauges()
	peak := base
	series := []int{base.openFiles}
	started := time.Now()
	for i := 3; i <= releases; i++ {
		v := "v1"
		if i%2 == 0 {
			v = "v2"
		}
		w.must(0, "apply", "-auto-approve", "-var", "version="+v)
		g := w.gauges()
		series = append(series, g.openFiles)
		peak.openFiles, peak.workers, peak.containers = max(peak.openFiles, g.openFiles), max(peak.workers, g.workers), max(peak.containers, g.containers)
	}
	took := time.Since(started)
	end := w.gauges()
	c := load.Stop()
	stopped = true
	if got := w.served(10); got[map[bool]string{true: "v2", false: "v1"}[releases%2 == 0]] != 10 {
		t.Fatalf("the last release does not serve: %v", got)
	}
	t.Logf("soak (%s mode, %s client): %d releases in %s; %d requests, %d failed (%d non-2xx, %d transport errors, %d retried)",
		mode, clientMode, releases, took.Round(time.Second), c.Requests, c.Failures(), c.Non2xx, c.TransportErrors, c.Retried)
	t.Logf("after release 2: %s; after release %d: %s; peak: %s", base, releases, end, peak)
	t.Logf("nginx open files after each release from the 2nd: %v", series)
	t.Logf("nginx's files at the end: %v", w.fdKinds())
	if c.Requests == 0 || c.Failures() > 0 {
		t.Errorf("%d of %d requests failed: %v", c.Failures(), c.Requests, c.Errors)
	}
	if end.containers > base.containers {
		t.Errorf("containers grew from %d to %d", base.containers, end.containers)
	}
	if end.workers > base.workers {
		t.Errorf("nginx workers grew from %d to %d", base.workers, end.workers)
	}
	// Keep-alive connections (the load's, and nginx's to both colors)
	// come and go, and fill up over the first releases; a leak grows with
	// every release, so the second half would top the first by about as
	// many files as it has releases, far beyond this margin.
	half := len(series) / 2
	first, second := slices.Max(series[:half]), slices.Max(series[half:])
	if second > first+4 {
		t.Errorf("nginx open files grew: at most %d over the first %d releases, %d over the last %d", first, half, second, len(series)-half)
	}
}
