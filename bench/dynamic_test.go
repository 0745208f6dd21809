package bench

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/slipwayhq/slipway/executor/prober"
	"github.com/slipwayhq/slipway/internal/clock"
	"github.com/slipwayhq/slipway/internal/testenv"
	"github.com/slipwayhq/slipway/state/records"
)

// Issue 7's benchmarks: the same strategies and loads under nginx's two
// switchers, "dynamic" (the Lua module's live table, no reload) and
// "reload" (rewrite, nginx -t, reload), on one nginx that has the Lua
// module loaded, so that the switcher is the only difference.

// dynRate is each load client's request rate, and dynWorkers its number of
// keep-alive connections: the strict and the retrying client run at once,
// so nginx is asked for 2*dynRate requests per second.
const (
	dynRate    = 1000
	dynWorkers = 32
)

// dynStrategy is one strategy of BenchmarkSwitchModes: its HCL block, its
// replicas, and how many applies one run makes (each alternating v2, v1,
// v2, ... over a live v1), enough for at least 5 traffic switches.
type dynStrategy struct {
	name     string
	block    string
	replicas int
	applies  int
}

// dynStrategies are blue-green (one switch per apply), canary without
// analysis (25, 50, 100: three switches per apply) and rolling (4
// replicas, one per batch: four switches per apply).
var dynStrategies = []dynStrategy{
	{"blue_green", "blue_green {}", 2, 5},
	{"canary", "canary {\n    steps = [25, 50, 100]\n    pause = \"1s\"\n  }", 2, 2},
	{"rolling", "rolling {\n    batch_size = 1\n    drain      = \"1s\"\n  }", 4, 2},
}

// dynModes are the nginx switchers compared, dynamic first.
var dynModes = []string{"dynamic", "reload"}

// BenchmarkSwitchModes measures what clients see while releases move
// traffic, for each strategy in dynamic and in reload mode side by side: a
// strict and a retrying load client, each at dynRate requests per second
// through a private nginx with the Lua module, run across several applies
// that alternate v2 and v1 over a live v1 (at least 5 traffic switches,
// counted from the records' traffic steps). It reports the switches, each
// client's achieved rate, non-2xx answers and transport errors, and
// whether nginx replaced its workers (a reload), and, as a yardstick, the
// total rate the same loads reached for 2 s before the applies, with
// nothing moving (idle-total-req/s, untimed); ns/op is the wall time
// of the applies plus the tail.
func BenchmarkSwitchModes(b *testing.B) {
	b.StopTimer()
	w := newLuaWorld(b)
	for _, s := range dynStrategies {
		b.Run(s.name, func(b *testing.B) {
			for _, mode := range dynModes {
				b.Run(mode, func(b *testing.B) { benchSwitchMode(b, w, s, mode) })
			}
		})
	}
}

func benchSwitchMode(b *testing.B, w *world, s dynStrategy, mode string) {
	var m metrics
	b.StopTimer()
	for range b.N {
		p := releaseFirst(b, w, mode, s.block, s.replicas)
		// The same loads with nothing moving: what this machine serves at
		// this moment, to read the rates during the applies against.
		idle := startRatedPair(p.url(), dynRate, dynWorkers)
		time.Sleep(2 * time.Second)
		is, ir, iran := idle.stop()
		workers := dynWorkerPIDs(w.nginx.PID)
		errFrom := dynFileSize(w.nginx.ErrorLog)

		b.StartTimer()
		l := startRatedPair(p.url(), dynRate, dynWorkers)
		switches := 0
		var recs []*records.Record
		for i := range s.applies {
			p.slipway(b, "apply", "-auto-approve", "-var", "version="+dynVersion(i))
			r := p.lastRecord(b)
			recs = append(recs, r)
			if r.Operation != records.OpApply || r.Result != records.ResultSucceeded {
				b.Fatalf("apply %d: last record is %s with result %q, want a succeeded apply", i+1, r.Operation, r.Result)
			}
			_, n := stepTime(r, "traffic")
			switches += n
		}
		time.Sleep(tail)
		strict, retrying, ran := l.stop()
		b.StopTimer()

		reloaded := !maps.Equal(workers, dynWorkerPIDs(w.nginx.PID))
		m.add("switches", float64(switches))
		m.addLoad("strict", strict, ran)
		m.addLoad("retrying", retrying, ran)
		m.add("total-req/s", float64(strict.Requests+retrying.Requests)/ran.Seconds())
		m.add("reloaded", b2f(reloaded))
		m.add("idle-total-req/s", float64(is.Requests+ir.Requests)/iran.Seconds())
		logf(b, "%s/%s: %d switches over %s; strict %+v; retrying %+v; nginx workers replaced: %v",
			s.name, mode, switches, ran.Round(time.Millisecond), strict, retrying, reloaded)
		if strict.Failures()+retrying.Failures() > 0 {
			for _, line := range dynRouteFailures(w.nginx.AccessLog, p.name) {
				logf(b, "access log: %s", line)
			}
			for _, line := range dynErrorLines(w.nginx.ErrorLog, errFrom) {
				logf(b, "error log: %s", line)
			}
			// When each traffic switch and each stop happened, to set
			// the failures' times against.
			for _, r := range recs {
				for _, st := range r.Steps {
					logf(b, "release #%d %-7s %s to %s %s", r.Release, st.Kind, st.Started.UTC().Format("15:04:05.000"), st.Ended.UTC().Format("15:04:05.000"), st.Detail)
				}
			}
		}
		if switches < 5 {
			b.Fatalf("%d traffic switches, want at least 5", switches)
		}
		if mode == "dynamic" && reloaded {
			b.Fatalf("nginx replaced its workers during dynamic switches: a reload happened")
		}
		spanned(b, s.name+" applies", strict, "version=v1", "version=v2")
		p.expect(b, "version="+dynVersion(s.applies-1))
		p.cleanup(b)
	}
	m.report(b)
}

// dynVersion is the version the i-th timed apply releases: v2, v1, v2, ...
func dynVersion(i int) string {
	if i%2 == 0 {
		return "v2"
	}
	return "v1"
}

// rollbackRuns is how many rollbacks one run of BenchmarkDynamicRollback
// times.
const rollbackRuns = 5

// pollEvery is the poller's interval in BenchmarkDynamicRollback.
const pollEvery = 5 * time.Millisecond

// BenchmarkDynamicRollback measures, for a blue-green service in dynamic
// and in reload mode, the time from the start of `slipway rollback
// -auto-approve` (v2 back to v1) to nginx answering v1: a poller sends a
// GET every 5 ms over a keep-alive connection from just before the
// command starts and notes the first v1 answer. Each run times 5
// rollbacks (apply v2, untimed, before each) and reports their median,
// with a breakdown from the rollback's record: the time before the record
// starts (process start, config, state, observing, planning), the health
// gate of the kept containers, the traffic step, and the command's whole
// wall time. Goal, dynamic mode: median under 300 ms. The reload
// sub-benchmark is there for contrast.
func BenchmarkDynamicRollback(b *testing.B) {
	b.StopTimer()
	w := newLuaWorld(b)
	for _, mode := range dynModes {
		b.Run(mode, func(b *testing.B) { benchDynRollback(b, w, mode) })
	}
}

func benchDynRollback(b *testing.B, w *world, mode string) {
	b.StopTimer()
	s := dynSamples{}
	for range b.N {
		p := releaseFirst(b, w, mode, "blue_green {}", 2)
		for range rollbackRuns {
			p.slipway(b, "apply", "-auto-approve", "-var", "version=v2")
			p.expect(b, "version=v2")

			poll := startVersionPoller(p.url(), "version=v1", pollEvery)
			b.StartTimer()
			began := time.Now()
			took := p.slipway(b, "rollback", "-auto-approve")
			b.StopTimer()
			at, polls, err := poll.wait(5 * time.Second)
			if err != nil {
				b.Fatalf("after rollback (%d polls): %v", polls, err)
			}
			r := p.lastRecord(b)
			if r.Operation != records.OpRollback || r.Result != records.ResultSucceeded {
				b.Fatalf("last record is %s with result %q, want a succeeded rollback", r.Operation, r.Result)
			}
			healthStep, _ := stepTime(r, "health")
			traffic, _ := stepTime(r, "traffic")
			s.add("to-old-ms", ms(at.Sub(began)))
			s.add("exit-ms", ms(took))
			s.add("before-record-ms", ms(r.Started.Sub(began)))
			s.add("health-ms", ms(healthStep))
			s.add("traffic-ms", ms(traffic))
			s.add("after-record-ms", ms(began.Add(took).Sub(r.Ended)))
			for _, st := range r.Steps {
				if !st.Started.IsZero() && !st.Ended.IsZero() {
					logf(b, "step %-8s at +%4dms for %4dms %s", st.Kind, st.Started.Sub(began).Milliseconds(), st.Ended.Sub(st.Started).Milliseconds(), st.Outcome)
				}
			}
			logf(b, "%s: v1 answered at +%dms (%d polls); record +%dms to +%dms; slipway exited at +%dms",
				mode, at.Sub(began).Milliseconds(), polls, r.Started.Sub(began).Milliseconds(), r.Ended.Sub(began).Milliseconds(), took.Milliseconds())
			p.expect(b, "version=v1")
		}
		p.cleanup(b)
	}
	s.reportMedians(b)
}

// switchConfig is dynamic_strict_load.txtar's configuration with the
// switcher, the replicas and the strategy block left open.
const switchConfig = `project "%s" {}

variable "version" {
  type    = string
  default = "v1"
}

nginx {
  listen_host = "127.0.0.1"
  config_dir  = "%s"
  access_log  = "%s"
  prefix      = "%s"
  conf        = "%s"
  switch      = "%s"
  admin_dir   = "%s"
}

service "web" {
  image    = "slipway-demo:${var.version}"
  port     = 8080
  replicas = %d
  route {
    listen = %d
  }
  %s
}
`

// newSwitchProject writes a configuration with the nginx switcher mode
// ("dynamic" or "reload"), replicas and a strategy block in a fresh
// directory, with its admin sockets in a short
// temporary directory (a unix socket path is limited to 108 bytes). The
// project's containers, nginx file and directories go when b ends.
func newSwitchProject(b *testing.B, w *world, mode, strategy string, replicas int) *project {
	b.Helper()
	suffix := make([]byte, 4)
	_, _ = rand.Read(suffix)
	p := &project{w: w, name: "bench" + hex.EncodeToString(suffix), dir: b.TempDir()}
	port, err := testenv.FreePort()
	if err != nil {
		b.Fatal(err)
	}
	p.port = port
	admin, err := os.MkdirTemp("", "swadm-")
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = os.RemoveAll(admin) })
	n := w.nginx
	hcl := fmt.Sprintf(switchConfig, p.name, n.ConfDir, n.AccessLog, n.Prefix, n.Conf, mode,
		filepath.Join(admin, "admin"), replicas, port, strategy)
	if err := os.WriteFile(filepath.Join(p.dir, "main.hcl"), []byte(hcl), 0o644); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { p.cleanup(b) })
	return p
}

// releaseFirst makes a project (see newSwitchProject) and releases v1,
// untimed. A first release that fails is tried once more as a new project
// on another port: on a machine shared with other suites, the free port a
// project picked can be taken before nginx listens on it.
func releaseFirst(b *testing.B, w *world, mode, strategy string, replicas int) *project {
	b.Helper()
	for try := 1; ; try++ {
		p := newSwitchProject(b, w, mode, strategy, replicas)
		out, err := p.dynRun("apply", "-auto-approve")
		if err == nil {
			p.expect(b, "version=v1")
			return p
		}
		if try == 2 {
			b.Fatalf("release v1 twice: %v\n%s", err, out)
		}
		logf(b, "release v1 on port %d failed, trying a new project: %v\n%s", p.port, err, out)
		p.cleanup(b)
	}
}

// dynRun runs the binary on the project with args and returns its combined
// output and the error of a non-zero exit.
func (p *project) dynRun(args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, p.w.bin, append([]string{"-chdir=" + p.dir}, args...)...)
	cmd.Env = append(os.Environ(), "NO_COLOR=1", "HOME="+p.dir)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// startRatedPair is startPair at rate requests per second and workers
// connections per client.
func startRatedPair(url string, rate, workers int) *pair {
	ctx := context.Background()
	o := prober.Options{URL: url, Rate: rate, Workers: workers, Timeout: 5 * time.Second}
	p := &pair{started: time.Now()}
	o.Mode = prober.Strict
	p.strict = prober.Start(ctx, o)
	o.Mode = prober.Retrying
	p.retrying = prober.Start(ctx, o)
	return p
}

// dynWorkerPIDs lists the live, non-zombie children of nginx's master:
// its workers. A reload replaces them all; a dynamic switch none.
func dynWorkerPIDs(master int) map[int]bool {
	kids := map[int]bool{}
	ents, err := os.ReadDir("/proc")
	if err != nil {
		return kids
	}
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		stat, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if err != nil {
			continue
		}
		if ppid, state, ok := parseProcStat(string(stat)); ok && ppid == master && state != "Z" {
			kids[pid] = true
		}
	}
	return kids
}

// parseProcStat reads the state and parent pid of a /proc/PID/stat line,
// whose second field, the command in parentheses, may hold spaces.
func parseProcStat(stat string) (ppid int, state string, ok bool) {
	i := strings.LastIndexByte(stat, ')')
	if i < 0 {
		return 0, "", false
	}
	f := strings.Fields(stat[i+1:])
	if len(f) < 2 {
		return 0, "", false
	}
	ppid, err := strconv.Atoi(f[1])
	return ppid, f[0], err == nil
}

func b2f(v bool) float64 {
	if v {
		return 1
	}
	return 0
}

// dynFileSize is the size of the file at path, 0 when it is missing.
func dynFileSize(path string) int64 {
	fi, err := os.Stat(path)
	if err != nil {
		return 0
	}
	return fi.Size()
}

// dynRouteFailures returns the lines of the tab-separated access log at
// path (see nginx.LogFormatFields) of project's routes whose status is not
// 2xx: which group, peer and version failed, and when. 499 (the client
// closed the connection: a load stopping mid-request) is left out, and at
// most 20 lines are returned.
func dynRouteFailures(path, project string) []string {
	data, err := os.ReadFile(path)
	if err != nil {
		return []string{err.Error()}
	}
	var out []string
	for _, line := range strings.Split(string(data), "\n") {
		f := strings.Split(line, "\t")
		if len(f) < 9 || !strings.HasPrefix(f[8], project+"/") || strings.HasPrefix(f[2], "2") || f[2] == "499" {
			continue
		}
		if len(out) == 20 {
			break
		}
		out = append(out, line)
	}
	return out
}

// dynErrorLines returns nginx's error log lines of level error or worse
// written after offset from.
func dynErrorLines(path string, from int64) []string {
	data, err := os.ReadFile(path)
	if err != nil {
		return []string{err.Error()}
	}
	if from > int64(len(data)) {
		from = 0
	}
	var out []string
	for _, line := range strings.Split(string(data[from:]), "\n") {
		for _, level := range []string{"[error]", "[crit]", "[alert]", "[emerg]"} {
			if strings.Contains(line, level) {
				out = append(out, line)
				break
			}
		}
	}
	return out
}

// versionPoller GETs a URL every interval over one keep-alive client until
// a 200 answer's body contains want, and notes when that answer arrived.
type versionPoller struct {
	cancel context.CancelFunc
	done   chan struct{}
	at     time.Time // when the first wanted answer arrived
	polls  int
	last   string // the last answer or error, for a failure message
}

// startVersionPoller starts polling url at once, in a goroutine.
func startVersionPoller(url, want string, every time.Duration) *versionPoller {
	ctx, cancel := context.WithCancel(context.Background())
	v := &versionPoller{cancel: cancel, done: make(chan struct{})}
	c := &http.Client{Timeout: 2 * time.Second}
	go func() {
		defer close(v.done)
		defer c.CloseIdleConnections()
		next := time.Now()
		for {
			v.polls++
			body, err := dynGet(ctx, c, url)
			switch {
			case err == nil && strings.Contains(body, want):
				v.at = time.Now()
				return
			case err != nil:
				v.last = err.Error()
			default:
				v.last = strings.TrimSpace(body)
			}
			next = next.Add(every)
			if clock.SleepUntil(ctx, next) != nil {
				return
			}
		}
	}()
	return v
}

// wait waits at most timeout for the wanted answer and returns when it
// arrived and how many polls were sent.
func (v *versionPoller) wait(timeout time.Duration) (time.Time, int, error) {
	t := time.NewTimer(timeout)
	defer t.Stop()
	select {
	case <-v.done:
	case <-t.C:
		v.cancel()
		<-v.done
	}
	v.cancel()
	if v.at.IsZero() {
		return time.Time{}, v.polls, fmt.Errorf("the wanted version never answered; last answer: %s", v.last)
	}
	return v.at, v.polls, nil
}

// dynGet GETs url and returns the body of a 200 answer.
func dynGet(ctx context.Context, c *http.Client, url string) (string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return "", err
	}
	resp, err := c.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 4096))
	if err != nil {
		return "", err
	}
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("status %d: %s", resp.StatusCode, strings.TrimSpace(string(body)))
	}
	return string(body), nil
}

// dynSamples keeps every sample of each unit, to report medians.
type dynSamples struct {
	order []string
	all   map[string][]float64
}

func (s *dynSamples) add(unit string, v float64) {
	if s.all == nil {
		s.all = map[string][]float64{}
	}
	if _, ok := s.all[unit]; !ok {
		s.order = append(s.order, unit)
	}
	s.all[unit] = append(s.all[unit], v)
}

// reportMedians reports each unit's median, and the first unit's minimum
// and maximum as min-<unit> and max-<unit>.
func (s *dynSamples) reportMedians(b *testing.B) {
	for i, unit := range s.order {
		v := s.all[unit]
		b.ReportMetric(dynMedian(v), unit)
		if i == 0 {
			b.ReportMetric(slices.Min(v), "min-"+unit)
			b.ReportMetric(slices.Max(v), "max-"+unit)
		}
	}
}

// dynMedian is the median of v (the mean of the middle two for an even
// count), or 0 for none.
func dynMedian(v []float64) float64 {
	if len(v) == 0 {
		return 0
	}
	s := slices.Clone(v)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

func TestDynMedian(t *testing.T) {
	tests := []struct {
		name string
		v    []float64
		want float64
	}{
		{"none", nil, 0},
		{"one", []float64{7}, 7},
		{"odd, unsorted", []float64{300, 100, 200}, 200},
		{"even: mean of the middle two", []float64{4, 1, 3, 2}, 2.5},
		{"an outlier does not move it", []float64{100, 110, 120, 130, 9000}, 120},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := slices.Clone(tt.v)
			if got := dynMedian(tt.v); got != tt.want {
				t.Errorf("dynMedian(%v) = %v, want %v", tt.v, got, tt.want)
			}
			if !slices.Equal(in, tt.v) {
				t.Errorf("dynMedian reordered its input: %v, was %v", tt.v, in)
			}
		})
	}
}

func TestDynVersionAlternates(t *testing.T) {
	var got []string
	for i := range 5 {
		got = append(got, dynVersion(i))
	}
	if want := []string{"v2", "v1", "v2", "v1", "v2"}; !slices.Equal(got, want) {
		t.Errorf("versions %v, want %v: every apply over a live v1 must change the version", got, want)
	}
}

func TestDynStrategiesSwitchAtLeastFiveTimes(t *testing.T) {
	// Traffic switches per apply: blue-green 1, canary one per step,
	// rolling one per batch of 1.
	perApply := map[string]int{"blue_green": 1, "canary": 3, "rolling": 4}
	for _, s := range dynStrategies {
		if n := perApply[s.name] * s.applies; n < 5 {
			t.Errorf("%s: %d applies make %d switches, want at least 5", s.name, s.applies, n)
		}
	}
}

func TestParseProcStat(t *testing.T) {
	tests := []struct {
		stat  string
		ppid  int
		state string
		ok    bool
	}{
		{"1234 (nginx) S 1200 1234 1234 0 -1", 1200, "S", true},
		{"1234 (nginx: worker process) R 1200 1234", 1200, "R", true},
		{"1234 (a) b) Z 7 1", 7, "Z", true},
		{"1234 nginx S 1200", 0, "", false},
		{"1234 (nginx) S", 0, "", false},
	}
	for _, tt := range tests {
		ppid, state, ok := parseProcStat(tt.stat)
		if ppid != tt.ppid || state != tt.state || ok != tt.ok {
			t.Errorf("parseProcStat(%q) = %d, %q, %v; want %d, %q, %v", tt.stat, ppid, state, ok, tt.ppid, tt.state, tt.ok)
		}
	}
}

func TestDynWorkerPIDsFindsChildren(t *testing.T) {
	cmd := exec.Command("sleep", "30")
	if err := cmd.Start(); err != nil {
		t.Skipf("start sleep: %v", err)
	}
	defer func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }()
	kids := dynWorkerPIDs(os.Getpid())
	if !kids[cmd.Process.Pid] {
		t.Errorf("children of %d = %v, want %d among them", os.Getpid(), kids, cmd.Process.Pid)
	}
	if len(dynWorkerPIDs(cmd.Process.Pid)) != 0 {
		t.Errorf("sleep has children: %v", dynWorkerPIDs(cmd.Process.Pid))
	}
}

func TestVersionPoller(t *testing.T) {
	tests := []struct {
		name    string
		answers []string // answered in turn; the last one repeats
		status  int
		wantErr bool
		minPoll int
	}{
		{"the first wanted answer ends it", []string{"version=v2", "version=v2", "version=v2", "version=v1"}, 200, false, 4},
		{"wanted at once", []string{"version=v1"}, 200, false, 1},
		{"never wanted", []string{"version=v2"}, 200, true, 2},
		{"a non-200 answer does not count", []string{"version=v1"}, 502, true, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var mu sync.Mutex
			var n int
			var wantedAt time.Time
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				mu.Lock()
				a := tt.answers[min(n, len(tt.answers)-1)]
				n++
				if tt.status == 200 && strings.Contains(a, "v1") && wantedAt.IsZero() {
					wantedAt = time.Now()
				}
				mu.Unlock()
				w.WriteHeader(tt.status)
				fmt.Fprintln(w, "demoapp "+a)
			}))
			defer srv.Close()
			began := time.Now()
			p := startVersionPoller(srv.URL, "version=v1", time.Millisecond)
			at, polls, err := p.wait(200 * time.Millisecond)
			if (err != nil) != tt.wantErr {
				t.Fatalf("wait: %v, want error %v", err, tt.wantErr)
			}
			if polls < tt.minPoll {
				t.Errorf("%d polls, want at least %d", polls, tt.minPoll)
			}
			if tt.wantErr {
				return
			}
			mu.Lock()
			defer mu.Unlock()
			if at.Before(wantedAt) || at.Before(began) {
				t.Errorf("noted the answer at %v, before the server sent it at %v", at, wantedAt)
			}
			if polls != len(tt.answers) {
				t.Errorf("%d polls, want it to stop at the first wanted answer, poll %d", polls, len(tt.answers))
			}
		})
	}
}

func TestDynRouteFailures(t *testing.T) {
	log := strings.Join([]string{
		"2025-01-02T03:04:05+00:00\tstable\t200\t0.001\t0.001\tGET\t/\t127.0.0.1:3001\tbenchaa//web\tv1",
		"2025-01-02T03:04:05+00:00\tcandidate\t502\t0.001\t0.001\tGET\t/\t127.0.0.1:3002\tbenchaa//web\tv2",
		"2025-01-02T03:04:06+00:00\tstable\t504\t5.000\t-\tGET\t/\t-\tbenchbb//web\tv1",
		"2025-01-02T03:04:06+00:00\tstable\t304\t0.001\t0.001\tGET\t/\t127.0.0.1:3001\tbenchaa/prod/web\tv1",
		"2025-01-02T03:04:07+00:00\tstable\t499\t0.001\t0.001\tGET\t/\t127.0.0.1:3001\tbenchaa//web\tv1",
		"garbage",
		"",
	}, "\n")
	path := filepath.Join(t.TempDir(), "access.log")
	if err := os.WriteFile(path, []byte(log), 0o644); err != nil {
		t.Fatal(err)
	}
	got := dynRouteFailures(path, "benchaa")
	if len(got) != 2 || !strings.Contains(got[0], "\t502\t") || !strings.Contains(got[1], "\t304\t") {
		t.Errorf("failures of benchaa = %q, want its 502 and 304 lines only (not its 499)", got)
	}
	if got := dynRouteFailures(path, "benchcc"); len(got) != 0 {
		t.Errorf("failures of benchcc = %q, want none", got)
	}
	many := strings.Repeat("2025-01-02T03:04:05+00:00\tstable\t502\t0\t0\tGET\t/\t-\tbenchaa//web\tv1\n", 30)
	if err := os.WriteFile(path, []byte(many), 0o644); err != nil {
		t.Fatal(err)
	}
	if got := dynRouteFailures(path, "benchaa"); len(got) != 20 {
		t.Errorf("30 failures gave %d lines, want the first 20", len(got))
	}
}

func TestDynErrorLines(t *testing.T) {
	before := "2025/01/02 03:04:05 [error] 12#12: old failure\n"
	after := "2025/01/02 03:04:06 [notice] 12#12: signal process started\n" +
		"2025/01/02 03:04:07 [error] 13#13: *5 connect() failed (111: Connection refused) while connecting to upstream\n" +
		"2025/01/02 03:04:08 [crit] 13#13: something worse\n"
	path := filepath.Join(t.TempDir(), "error.log")
	if err := os.WriteFile(path, []byte(before+after), 0o644); err != nil {
		t.Fatal(err)
	}
	got := dynErrorLines(path, int64(len(before)))
	if len(got) != 2 || !strings.Contains(got[0], "Connection refused") || !strings.Contains(got[1], "[crit]") {
		t.Errorf("error lines after the offset = %q, want the [error] and [crit] lines written after it", got)
	}
	if got := dynErrorLines(path, 1<<20); len(got) != 3 {
		t.Errorf("an offset past the end (a rotated log) gave %q, want all 3 lines of level error or worse", got)
	}
}
