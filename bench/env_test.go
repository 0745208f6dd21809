package bench

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/filters"
	"github.com/slipwayhq/slipway/executor/prober"
	"github.com/slipwayhq/slipway/internal/testenv"
	"github.com/slipwayhq/slipway/providers"
	"github.com/slipwayhq/slipway/state/records"
)

// binary is the slipway executable, built once per test process on first
// use and removed by TestMain: every benchmark drives the real binary, as a
// user or a CI job would.
var binary struct {
	once sync.Once
	dir  string
	path string
	err  error
}

func TestMain(m *testing.M) {
	code := m.Run()
	if binary.dir != "" {
		_ = os.RemoveAll(binary.dir)
	}
	os.Exit(code)
}

// slipwayBinary builds cmd/slipway from the repository at root, once.
func slipwayBinary(root string) (string, error) {
	binary.once.Do(func() {
		dir, err := os.MkdirTemp("", "slipway-bench-bin-")
		if err != nil {
			binary.err = fmt.Errorf("build slipway: %w", err)
			return
		}
		binary.dir = dir
		path := filepath.Join(dir, "slipway")
		cmd := exec.Command("go", "build", "-trimpath", "-o", path, "./cmd/slipway")
		cmd.Dir = root
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := cmd.CombinedOutput(); err != nil {
			binary.err = fmt.Errorf("build slipway: %w: %s", err, out)
			return
		}
		binary.path = path
	})
	return binary.path, binary.err
}

// world is what every benchmark of a run shares: the slipway binary, the
// demo images slipway-demo:v1 and slipway-demo:v2, and a private nginx.
type world struct {
	bin   string
	nginx *testenv.Nginx
}

// newWorld skips b unless Docker and nginx are available (fails it under
// CI=true), then builds the binary and the demo images and starts a private
// nginx that is stopped when b ends.
func newWorld(b *testing.B) *world { return startWorld(b, testenv.StartNginxOpts{}) }

// newLuaWorld is newWorld with a private nginx that loads the Lua module;
// it also skips b unless the module is available.
func newLuaWorld(b *testing.B) *world { return startWorld(b, testenv.StartNginxOpts{Lua: true}) }

func startWorld(b *testing.B, opts testenv.StartNginxOpts) *world {
	b.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	testenv.Require(b, "docker", testenv.DockerAvailable(ctx))
	testenv.Require(b, "nginx", testenv.NginxAvailable())
	if opts.Lua {
		testenv.Require(b, "nginx-lua", testenv.LuaAvailable())
	}
	root, err := testenv.FindRepoRoot(".")
	if err != nil {
		b.Fatal(err)
	}
	bin, err := slipwayBinary(root)
	if err != nil {
		b.Fatal(err)
	}
	for _, tag := range []string{"slipway-demo:v1", "slipway-demo:v2"} {
		if err := testenv.BuildDemoImage(ctx, root, tag, nil); err != nil {
			b.Fatal(err)
		}
	}
	n, err := testenv.StartNginxWithOpts(filepath.Join(b.TempDir(), "nginx"), opts)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		if err := n.Stop(); err != nil {
			b.Errorf("stop nginx: %v", err)
		}
	})
	return &world{bin: bin, nginx: n}
}

// project is one slipway configuration directory with one routed service,
// "web", on its own nginx port.
type project struct {
	w    *world
	name string
	dir  string
	port int
}

// configTemplate is bluegreen_switch.txtar's configuration with the
// strategy block left open.
const configTemplate = `project "%s" {}

variable "version" {
  type    = string
  default = "v1"
}

nginx {
  config_dir = "%s"
  access_log = "%s"
  prefix     = "%s"
  conf       = "%s"
}

service "web" {
  image    = "slipway-demo:${var.version}"
  port     = 8080
  replicas = 2
  env = {
    COLOR_FROM_SLIPWAY = "yes"
  }
  route {
    listen = %d
  }
  %s
}
`

// newProject writes a configuration for strategy (an HCL block such as
// "blue_green {}") in a fresh directory and removes the project's
// containers and nginx file when b ends.
func (w *world) newProject(b *testing.B, strategy string) *project {
	b.Helper()
	suffix := make([]byte, 4)
	_, _ = rand.Read(suffix)
	p := &project{w: w, name: "bench" + hex.EncodeToString(suffix), dir: b.TempDir()}
	port, err := testenv.FreePort()
	if err != nil {
		b.Fatal(err)
	}
	p.port = port
	n := w.nginx
	hcl := fmt.Sprintf(configTemplate, p.name, n.ConfDir, n.AccessLog, n.Prefix, n.Conf, port, strategy)
	if err := os.WriteFile(filepath.Join(p.dir, "main.hcl"), []byte(hcl), 0o644); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { p.cleanup(b) })
	return p
}

// cleanup removes the project's containers and its nginx files.
func (p *project) cleanup(b *testing.B) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := removeContainers(ctx, p.name); err != nil {
		b.Errorf("clean up project %s: %v", p.name, err)
	}
	files, _ := filepath.Glob(filepath.Join(p.w.nginx.ConfDir, "*"+p.name+"*"))
	for _, f := range files {
		_ = os.Remove(f)
	}
	if len(files) > 0 {
		_ = p.w.nginx.Reload()
	}
}

// removeContainers force-removes every container labelled with project.
func removeContainers(ctx context.Context, project string) error {
	cli, err := testenv.NewDockerClient()
	if err != nil {
		return err
	}
	defer cli.Close()
	list, err := cli.ContainerList(ctx, container.ListOptions{All: true,
		Filters: filters.NewArgs(filters.Arg("label", providers.LabelProject+"="+project))})
	if err != nil {
		return fmt.Errorf("list containers of %q: %w", project, err)
	}
	for _, c := range list {
		if err := cli.ContainerRemove(ctx, c.ID, container.RemoveOptions{Force: true, RemoveVolumes: true}); err != nil {
			return fmt.Errorf("remove container %s: %w", c.ID, err)
		}
	}
	return nil
}

// url is where nginx serves the project's route.
func (p *project) url() string { return fmt.Sprintf("http://127.0.0.1:%d/", p.port) }

// slipway runs the binary on the project with args and returns how long it
// took; any exit code but 0 fails b with the output.
func (p *project) slipway(b *testing.B, args ...string) time.Duration {
	b.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, p.w.bin, append([]string{"-chdir=" + p.dir}, args...)...)
	cmd.Env = append(os.Environ(), "NO_COLOR=1", "HOME="+p.dir)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	start := time.Now()
	err := cmd.Run()
	took := time.Since(start)
	if err != nil {
		b.Fatalf("slipway %s: %v\n%s", strings.Join(args, " "), err, out.String())
	}
	return took
}

// expect fails b unless the route answers 200 with a body containing want.
func (p *project) expect(b *testing.B, want string) {
	b.Helper()
	c := &http.Client{Timeout: 5 * time.Second}
	resp, err := c.Get(p.url())
	if err != nil {
		b.Fatalf("GET %s: %v", p.url(), err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), want) {
		b.Fatalf("GET %s: status %d, body %q; want 200 and %q", p.url(), resp.StatusCode, body, want)
	}
}

// lastRecord loads the newest operation record of the project.
func (p *project) lastRecord(b *testing.B) *records.Record {
	b.Helper()
	all, err := records.List(filepath.Join(p.dir, ".slipway", "records"))
	if err != nil {
		b.Fatal(err)
	}
	if len(all) == 0 {
		b.Fatalf("no record in %s", filepath.Join(p.dir, ".slipway", "records"))
	}
	return all[len(all)-1]
}

// stepTime is the total duration of the record's steps of kind.
func stepTime(r *records.Record, kind string) (time.Duration, int) {
	var d time.Duration
	n := 0
	for _, s := range r.Steps {
		if s.Kind == kind && !s.Started.IsZero() && !s.Ended.IsZero() {
			d += s.Ended.Sub(s.Started)
			n++
		}
	}
	return d, n
}

// pair is two loads against one URL at once: a strict client that never
// retries and a browser-like one that retries a GET once on a reused
// connection.
type pair struct {
	strict, retrying *prober.Load
	started          time.Time
}

// loadRate is each client's request rate, and loadWorkers its number of
// keep-alive connections.
const (
	loadRate    = 600
	loadWorkers = 6
)

// startPair starts both loads at loadRate requests per second each.
func startPair(url string) *pair {
	ctx := context.Background()
	o := prober.Options{URL: url, Rate: loadRate, Workers: loadWorkers, Timeout: 5 * time.Second}
	p := &pair{started: time.Now()}
	o.Mode = prober.Strict
	p.strict = prober.Start(ctx, o)
	o.Mode = prober.Retrying
	p.retrying = prober.Start(ctx, o)
	return p
}

// stop ends both loads and returns their counts and how long they ran.
func (p *pair) stop() (strict, retrying prober.Counts, ran time.Duration) {
	strict = p.strict.Stop()
	retrying = p.retrying.Stop()
	return strict, retrying, time.Since(p.started)
}

// metrics sums values over the iterations of a benchmark and reports each
// one per iteration.
type metrics struct {
	order []string
	sum   map[string]float64
}

func (m *metrics) add(unit string, v float64) {
	if m.sum == nil {
		m.sum = map[string]float64{}
	}
	if _, ok := m.sum[unit]; !ok {
		m.order = append(m.order, unit)
	}
	m.sum[unit] += v
}

// addLoad records a load's achieved rate and failures under prefix.
func (m *metrics) addLoad(prefix string, c prober.Counts, ran time.Duration) {
	m.add(prefix+"-req/s", float64(c.Requests)/ran.Seconds())
	m.add(prefix+"-non2xx", float64(c.Non2xx))
	m.add(prefix+"-transport-errors", float64(c.TransportErrors))
}

func (m *metrics) report(b *testing.B) {
	for _, unit := range m.order {
		b.ReportMetric(m.sum[unit]/float64(b.N), unit)
	}
}
