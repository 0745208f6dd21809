package reliability

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
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

// TestSoak makes 50 consecutive blue-green releases alternating v1 and v2
// under constant load (make reliability only). With dynamic switching
// (nginx's Lua module) a strict keep-alive client sees no failed request;
// in reload mode, when the module is missing, a retrying client (one retry
// of an idempotent request on a connection closed under it) must see
// none. Open files of nginx, its worker processes and the project's
// containers do not grow from the second release to the last.
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
		if os.Getenv("CI") == "true" {
			t.Fatalf("the soak needs nginx's Lua module under CI=true: %v", err)
		}
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
	started := time.Now()
	for i := 3; i <= releases; i++ {
		v := "v1"
		if i%2 == 0 {
			v = "v2"
		}
		w.must(0, "apply", "-auto-approve", "-var", "version="+v)
		g := w.gauges()
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
	if c.Requests == 0 || c.Failures() > 0 {
		t.Errorf("%d of %d requests failed: %v", c.Failures(), c.Requests, c.Errors)
	}
	if end.containers > base.containers {
		t.Errorf("containers grew from %d to %d", base.containers, end.containers)
	}
	if end.workers > base.workers {
		t.Errorf("nginx workers grew from %d to %d", base.workers, end.workers)
	}
	// The load's own keep-alive connections come and go; a leak grows
	// with every release, far beyond this margin after 48 of them.
	if end.openFiles > base.openFiles+8 {
		t.Errorf("nginx open files grew from %d to %d", base.openFiles, end.openFiles)
	}
}
