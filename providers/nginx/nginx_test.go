package nginx

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/slipwayhq/slipway/executor/prober"
	"github.com/slipwayhq/slipway/providers"
)

// liveRoute is a router on a private nginx with a stable and a candidate
// backend, and a spec routing to them.
type liveRoute struct {
	ngx    *testNginx
	router *Nginx
	spec   providers.RouteSpec
	client *http.Client
}

func newLiveRoute(t *testing.T) *liveRoute {
	t.Helper()
	return newLiveRouteMode(t, SwitchReload)
}

// newLiveRouteMode is newLiveRoute with a router in the given switch
// mode; SwitchDynamic runs nginx with the Lua module and two workers.
func newLiveRouteMode(t *testing.T, mode string) *liveRoute {
	t.Helper()
	var ngx *testNginx
	o := Options{}
	if mode == SwitchDynamic {
		needLua(t)
		ngx = startNginxModules(t, luaModuleFiles, 2)
		o = ngx.options()
		o.Switch, o.AdminDir = SwitchDynamic, filepath.Join(t.TempDir(), "admin")
	} else {
		ngx = startNginx(t)
		o = ngx.options()
	}
	r, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	return &liveRoute{
		ngx:    ngx,
		router: r,
		spec: providers.RouteSpec{
			Project: "demo", Env: "test", Service: "web", Release: 1,
			Listen: freePort(t), ServerName: "demo.test", Location: "/",
			ProxyTimeout:  10 * time.Second,
			Stable:        []string{backend(t, "stable")},
			Candidate:     []string{backend(t, "candidate")},
			StableVersion: "1.0.0", CandidateVersion: "1.1.0",
		},
		// Fresh connections: after a reload, nginx's old workers finish
		// the keep-alive connections they hold with the old routing.
		client: &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}},
	}
}

func (l *liveRoute) apply(t *testing.T) providers.RouteFile {
	t.Helper()
	f, err := l.router.Apply(context.Background(), l.spec)
	if err != nil {
		t.Fatalf("apply: %v", err)
	}
	return f
}

// get sends one request to the route; it returns the body and response.
func (l *liveRoute) get(t *testing.T, header ...string) (string, *http.Response) {
	t.Helper()
	req, err := http.NewRequest("GET", "http://127.0.0.1:"+strconv.Itoa(l.spec.Listen)+"/", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Host = l.spec.ServerName
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := l.client.Do(req)
	if err != nil {
		t.Fatalf("get: %v", err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return string(body), resp
}

// count sends n requests and counts the answers by body.
func (l *liveRoute) count(t *testing.T, n int, header ...string) map[string]int {
	t.Helper()
	got := map[string]int{}
	for range n {
		body, resp := l.get(t, header...)
		if g := resp.Header.Get(HeaderGroup); g != body {
			t.Fatalf("%s = %q but %q answered", HeaderGroup, g, body)
		}
		got[body]++
	}
	return got
}

func TestApplySwitchesTraffic(t *testing.T) { forModes(t, testApplySwitchesTraffic) }

func testApplySwitchesTraffic(t *testing.T, mode string) {
	l := newLiveRouteMode(t, mode)
	f := l.apply(t)
	if f.Edited() || f.Release != 1 || f.Path != filepath.Join(l.ngx.ConfigDir, "slipway-demo-test-web.conf") {
		t.Fatalf("apply returned %+v", f)
	}
	if got := l.count(t, 20); got["stable"] != 20 {
		t.Fatalf("0%% candidate: answers %v, want all stable", got)
	}
	_, resp := l.get(t)
	if tag := resp.Header.Get(HeaderRelease); !strings.HasPrefix(tag, "1/") {
		t.Fatalf("%s = %q, want 1/<hash>", HeaderRelease, tag)
	}

	l.spec.Release, l.spec.CandidateWeight = 2, 100
	l.apply(t)
	if got := l.count(t, 20); got["candidate"] != 20 {
		t.Fatalf("100%% candidate: answers %v, want all candidate", got)
	}

	// Blue-green rollback re-applies an older release number: the new
	// routing must still be confirmed and live.
	l.spec.Release, l.spec.CandidateWeight = 1, 0
	l.apply(t)
	if got := l.count(t, 20); got["stable"] != 20 {
		t.Fatalf("rollback to release 1: answers %v, want all stable", got)
	}
}

func TestSharesAndAccessLog(t *testing.T) { forModes(t, testSharesAndAccessLog) }

func testSharesAndAccessLog(t *testing.T, mode string) {
	l := newLiveRouteMode(t, mode)
	for _, tc := range []struct {
		weight   int
		min, max int // candidate answers out of 1000
	}{
		{0, 0, 0},
		{50, 400, 600}, // binomial sd is about 16
		{100, 1000, 1000},
	} {
		l.spec.CandidateWeight = tc.weight
		l.spec.Release++
		l.apply(t)
		if got := l.count(t, 1000)["candidate"]; got < tc.min || got > tc.max {
			t.Errorf("weight %d: %d of 1000 requests went to the candidate, want %d-%d", tc.weight, got, tc.min, tc.max)
		}
	}

	// Every proxied request is in the access log with the group that
	// served it; confirmation probes are not.
	lf, err := os.Open(l.ngx.AccessLog)
	if err != nil {
		t.Fatal(err)
	}
	defer lf.Close()
	names := strings.Split(LogFormatFields, "\t")
	lines := 0
	sc := bufio.NewScanner(lf)
	for sc.Scan() {
		fields := strings.Split(sc.Text(), "\t")
		if len(fields) != len(names) {
			t.Fatalf("log line has %d fields, want %d (%s): %q", len(fields), len(names), LogFormatFields, sc.Text())
		}
		rec := map[string]string{}
		for i, name := range names {
			rec[name] = fields[i]
		}
		wantVersion := map[string]string{"stable": "1.0.0", "candidate": "1.1.0"}[rec["group"]]
		if rec["status"] != "200" || rec["route"] != "demo/test/web" || rec["version"] != wantVersion || rec["request_uri"] != "/" {
			t.Fatalf("unexpected log record %v", rec)
		}
		lines++
	}
	if lines != 3000 {
		t.Fatalf("access log has %d lines, want 3000", lines)
	}
}

// logLines returns the lines of the access log so far.
func (l *liveRoute) logLines(t *testing.T) []string {
	t.Helper()
	b, err := os.ReadFile(l.ngx.AccessLog)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		t.Fatal(err)
	}
	return strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")[:strings.Count(string(b), "\n")]
}

func TestProbeHeaderIsNotLogged(t *testing.T) { forModes(t, testProbeHeaderIsNotLogged) }

// testProbeHeaderIsNotLogged: slipway's prober, which marks its requests
// with HeaderProbe, reaches the containers of both groups but stays out of
// the access log; requests without the mark (or with an empty one) are
// logged, one line each.
func testProbeHeaderIsNotLogged(t *testing.T, mode string) {
	l := newLiveRouteMode(t, mode)
	l.spec.CandidateWeight = 50
	l.apply(t)
	before := len(l.logLines(t))

	load := prober.Start(t.Context(), prober.Options{
		URL:  "http://127.0.0.1:" + strconv.Itoa(l.spec.Listen) + "/",
		Host: l.spec.ServerName, Workers: 2, Mode: prober.Strict,
		Headers: map[string]string{HeaderProbe: ProbeValue},
	})
	for load.Snapshot().Requests < 200 {
		select {
		case <-load.Done():
			t.Fatalf("probe ended early: %+v", load.Snapshot())
		case <-time.After(time.Millisecond):
		}
	}
	c := load.Stop()
	if c.Failures() != 0 || c.ByBody["stable"] == 0 || c.ByBody["candidate"] == 0 || c.ByBody["stable"]+c.ByBody["candidate"] != c.Requests {
		t.Fatalf("marked probe counts %+v: want every request answered by a group, both groups seen", c)
	}
	if got := l.count(t, 20, HeaderProbe, "yes"); got["stable"]+got["candidate"] != 20 {
		t.Fatalf("marked requests answered %v", got)
	}
	if lines := l.logLines(t); len(lines) != before {
		t.Fatalf("%d marked requests wrote %d access log lines, want none; the first: %q", c.Requests+20, len(lines)-before, lines[before])
	}

	// Unmarked requests, and an empty mark, are real traffic.
	l.count(t, 10)
	l.count(t, 5, HeaderProbe, "")
	// nginx writes a line once the response is sent: wait for them all.
	lines := l.logLines(t)
	for deadline := time.Now().Add(5 * time.Second); len(lines)-before < 15 && time.Now().Before(deadline); {
		time.Sleep(10 * time.Millisecond)
		lines = l.logLines(t)
	}
	if len(lines)-before != 15 {
		t.Fatalf("15 unmarked requests wrote %d access log lines, want 15", len(lines)-before)
	}
	for _, line := range lines[before:] {
		if f := strings.Split(line, "\t"); len(f) < 3 || f[2] != "200" {
			t.Fatalf("log line %q, want a 200", line)
		}
	}
}

func TestCanaryHeaderAndSticky(t *testing.T) { forModes(t, testCanaryHeaderAndSticky) }

func testCanaryHeaderAndSticky(t *testing.T, mode string) {
	l := newLiveRouteMode(t, mode)
	l.spec.CanaryHeader = "X-Canary"
	l.spec.StickyCookie = "slipway_web"
	l.apply(t)
	if got := l.count(t, 20, "X-Canary", "1"); got["candidate"] != 20 {
		t.Fatalf("with X-Canary at 0%%: answers %v, want all candidate", got)
	}

	l.spec.Release, l.spec.CandidateWeight = 2, 50
	l.apply(t)
	// A new client gets a cookie; with it, it stays on one side.
	sides := map[string]bool{}
	for range 20 {
		body, resp := l.get(t)
		var cookie string
		for _, c := range resp.Cookies() {
			if c.Name == "slipway_web" {
				cookie = c.Value
			}
		}
		if cookie == "" {
			t.Fatalf("first response sets no slipway_web cookie: %v", resp.Header)
		}
		for range 10 {
			again, resp := l.get(t, "Cookie", "slipway_web="+cookie)
			if again != body {
				t.Fatalf("client with cookie %s moved from %s to %s", cookie, body, again)
			}
			if resp.Header.Get("Set-Cookie") != "" {
				t.Fatalf("cookie set again: %v", resp.Header)
			}
		}
		sides[body] = true
	}
	if !sides["stable"] || !sides["candidate"] {
		t.Fatalf("20 new clients at 50%% all went to one side: %v", sides)
	}
}

func TestProxyHeadersAndTimeout(t *testing.T) { forModes(t, testProxyHeadersAndTimeout) }

func testProxyHeadersAndTimeout(t *testing.T, mode string) {
	l := newLiveRouteMode(t, mode)
	seen := make(chan http.Header, 1)
	slow := make(chan struct{})
	t.Cleanup(func() { close(slow) })
	srv := newServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/slow" {
			select {
			case <-slow:
			case <-r.Context().Done():
			}
			return
		}
		h := r.Header.Clone()
		h.Set("Host", r.Host)
		seen <- h
	}))
	l.spec.Stable, l.spec.Candidate = []string{srv}, nil
	l.spec.ProxyTimeout = time.Second
	l.apply(t)
	l.get(t, "Upgrade", "websocket", "Connection", "Upgrade")
	h := <-seen
	for k, want := range map[string]string{"Upgrade": "websocket", "Connection": "upgrade", "Host": "demo.test"} {
		if got := h.Get(k); got != want {
			t.Errorf("backend saw %s: %q, want %q", k, got, want)
		}
	}
	if h.Get("X-Request-Id") == "" || h.Get("X-Forwarded-For") != "127.0.0.1" {
		t.Errorf("backend saw no request id or forwarded-for: %v", h)
	}

	req, _ := http.NewRequest("GET", "http://127.0.0.1:"+strconv.Itoa(l.spec.Listen)+"/slow", nil)
	req.Host = "demo.test"
	resp, err := l.client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusGatewayTimeout || resp.Header.Get(HeaderGroup) != "stable" {
		t.Fatalf("slow backend: %s %v, want 504 from stable", resp.Status, resp.Header)
	}
}

func TestRejectedRestoresPreviousFile(t *testing.T) {
	l := newLiveRoute(t)
	f := l.apply(t)
	before, err := os.ReadFile(f.Path)
	if err != nil {
		t.Fatal(err)
	}
	broken := filepath.Join(l.ngx.ConfigDir, "zz-broken.conf")
	if err := os.WriteFile(broken, []byte("this is not nginx;\n"), 0o644); err != nil {
		t.Fatal(err)
	}

	l.spec.Release, l.spec.CandidateWeight = 2, 100
	_, err = l.router.Apply(context.Background(), l.spec)
	if !errors.Is(err, ErrRejected) {
		t.Fatalf("apply with a broken include: %v, want ErrRejected", err)
	}
	var ce *CommandError
	if !errors.As(err, &ce) || !strings.Contains(err.Error(), `unknown directive "this"`) {
		t.Fatalf("error does not carry nginx's message: %v", err)
	}
	after, err := os.ReadFile(f.Path)
	if err != nil || string(after) != string(before) {
		t.Fatalf("route file not restored byte for byte (err %v)", err)
	}

	// A route that never existed is removed again.
	other := l.spec
	other.Service, other.Listen = "api", freePort(t)
	if _, err := l.router.Apply(context.Background(), other); !errors.Is(err, ErrRejected) {
		t.Fatalf("apply of a new route with a broken include: %v, want ErrRejected", err)
	}
	if _, err := os.Stat(filepath.Join(l.ngx.ConfigDir, FileName("demo", "test", "api"))); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("new route file left behind: %v", err)
	}

	if err := os.Remove(broken); err != nil {
		t.Fatal(err)
	}
	if got := l.count(t, 10); got["stable"] != 10 {
		t.Fatalf("after the failed apply: answers %v, want the old routing (all stable)", got)
	}
	assertNoTempFiles(t, l.ngx.ConfigDir)
}

func TestReloadDoingNothingIsNotConfirmed(t *testing.T) {
	l := newLiveRoute(t)
	f := l.apply(t)
	before, _ := os.ReadFile(f.Path)

	// A wrapper that validates for real but ignores "-s reload".
	wrapper := filepath.Join(t.TempDir(), "nginx")
	script := "#!/bin/sh\nfor a in \"$@\"; do [ \"$a\" = reload ] && exit 0; done\nexec " + nginxBinary + " \"$@\"\n"
	if err := os.WriteFile(wrapper, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	o := l.ngx.options()
	o.Binary, o.ConfirmTimeout = wrapper, 300*time.Millisecond
	lazy, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	l.spec.Release, l.spec.CandidateWeight = 2, 100
	_, err = lazy.Apply(context.Background(), l.spec)
	if !errors.Is(err, ErrNotConfirmed) || !strings.Contains(err.Error(), "did not start serving release 2") {
		t.Fatalf("apply through a reload that does nothing: %v, want ErrNotConfirmed", err)
	}
	after, _ := os.ReadFile(f.Path)
	if string(after) != string(before) {
		t.Fatal("route file not restored after an unconfirmed switch")
	}
	if got := l.count(t, 10); got["stable"] != 10 {
		t.Fatalf("answers %v, want the old routing (all stable)", got)
	}
}

func TestRemove(t *testing.T) { forModes(t, testRemove) }

func testRemove(t *testing.T, mode string) {
	l := newLiveRouteMode(t, mode)
	f := l.apply(t)
	if err := l.router.Remove(context.Background(), "demo", "test", "web"); err != nil {
		t.Fatalf("remove: %v", err)
	}
	if _, err := os.Stat(AdminSocket(l.router.opts.AdminDir, "demo", "test", "web")); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("admin socket left after remove: %v", err)
	}
	if _, err := os.Stat(f.Path); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("route file still there: %v", err)
	}
	if _, err := l.client.Get("http://127.0.0.1:" + strconv.Itoa(l.spec.Listen) + "/"); err == nil {
		t.Fatal("the removed route still answers")
	}
	if err := l.router.Remove(context.Background(), "demo", "test", "web"); err != nil {
		t.Fatalf("remove of a missing route: %v", err)
	}
}

func TestTLS(t *testing.T) { forModes(t, testTLS) }

func testTLS(t *testing.T, mode string) {
	l := newLiveRouteMode(t, mode)
	l.spec.TLSCert, l.spec.TLSKey = writeSelfSigned(t, "demo.test")
	l.apply(t) // confirmation goes over https
	probe := l.router.probeFor(l.spec)
	if !strings.HasPrefix(probe.url, "https://") {
		t.Fatalf("probe url %s", probe.url)
	}
	tag, err := probe.get(context.Background())
	if err != nil || !strings.HasPrefix(tag, "1/") {
		t.Fatalf("https answer: %q, %v", tag, err)
	}
}

func assertNoTempFiles(t *testing.T, dir string) {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if strings.Contains(e.Name(), ".tmp-") {
			t.Errorf("temporary file left behind: %s", e.Name())
		}
	}
}

// Two services on one listen port and server name cannot both be routed,
// each in its own server block: nginx keeps one and warns. Apply must
// refuse the second before it takes over the first, and say why.
func TestConflictingServerIsRejected(t *testing.T) {
	l := newLiveRoute(t)
	l.apply(t)
	o := l.ngx.options()
	o.ConfirmTimeout = 500 * time.Millisecond
	r, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	api := l.spec
	api.Service, api.Location = "api", "/api/"
	_, err = r.Apply(context.Background(), api)
	if !errors.Is(err, ErrRejected) || !strings.Contains(err.Error(), `conflicting server name "demo.test"`) {
		t.Fatalf("apply of a second server on the same port and name: %v, want ErrRejected with nginx's warning", err)
	}
	if _, err := os.Stat(filepath.Join(l.ngx.ConfigDir, FileName("demo", "test", "api"))); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("rejected route file left behind: %v", err)
	}
	if got := l.count(t, 5); got["stable"] != 5 {
		t.Fatalf("first route disturbed: %v", got)
	}
}

func TestObserveServing(t *testing.T) { forModes(t, testObserveServing) }

// testObserveServing: Observe reports the peers a route file names and
// what nginx serves now, which after an interrupted switch differs from
// the file: in reload mode a file written but not reloaded is a routing
// that cannot be read back, in dynamic mode the live table is read.
func testObserveServing(t *testing.T, mode string) {
	l := newLiveRouteMode(t, mode)
	stable, candidate := l.spec.Stable[0], l.spec.Candidate[0]
	both := []string{stable, candidate}
	slices.Sort(both)
	l.spec.CandidateWeight = 50
	l.apply(t)
	observe := func() providers.RouteFile {
		t.Helper()
		files, err := l.router.Observe(context.Background(), "demo", "test")
		if err != nil || len(files) != 1 {
			t.Fatalf("observe: %+v, %v", files, err)
		}
		return files[0]
	}
	f := observe()
	if !slices.Equal(f.Peers, both) || f.Serving == nil || !f.Serving.Known || !slices.Equal(f.Serving.Peers, both) || f.Serving.Tag == "" {
		t.Fatalf("after a switch: peers %v, serving %+v; want both backends in the file and served", f.Peers, f.Serving)
	}
	tag := f.Serving.Tag

	// The next routing (stable only) reaches the file, not nginx.
	next := l.spec
	next.Release, next.Candidate, next.CandidateWeight = 2, nil, 0
	r, err := render(next, l.router.renderOptions(mode == SwitchDynamic))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(f.Path, r.content, 0o644); err != nil {
		t.Fatal(err)
	}
	f = observe()
	if !slices.Equal(f.Peers, []string{stable}) {
		t.Fatalf("peers of the new file = %v, want %v", f.Peers, []string{stable})
	}
	switch mode {
	case SwitchDynamic:
		// The live table still sends half the requests to the candidate.
		if f.Serving == nil || !f.Serving.Known || !slices.Equal(f.Serving.Peers, both) || f.Serving.Tag != tag {
			t.Fatalf("dynamic, file written only: serving %+v, want the live table's %v (%s)", f.Serving, both, tag)
		}
	default:
		// nginx answers with the old file's tag, whose routing is gone
		// from disk.
		if f.Serving == nil || f.Serving.Known || f.Serving.Tag != tag {
			t.Fatalf("reload, file written only: serving %+v, want unknown with tag %s", f.Serving, tag)
		}
	}

	// Nothing serves the route while nginx is down.
	l.ngx.stop()
	f = observe()
	if f.Serving == nil || !f.Serving.Known || len(f.Serving.Peers) != 0 {
		t.Fatalf("nginx stopped: serving %+v, want known and empty", f.Serving)
	}
}
