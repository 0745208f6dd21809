package nginx

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"maps"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/slipwayhq/slipway/executor/prober"
	"github.com/slipwayhq/slipway/internal/testenv"
)

// workerPIDs lists the live children of n's master: a reload replaces them.
func workerPIDs(t *testing.T, n *testNginx) map[int]bool {
	t.Helper()
	master := n.cmd.Process.Pid
	kids := map[int]bool{}
	ents, err := os.ReadDir("/proc")
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil {
			continue
		}
		f := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+1:]))
		if len(f) > 1 && f[0] != "Z" && f[1] == strconv.Itoa(master) {
			kids[pid] = true
		}
	}
	return kids
}

// waitWorkers waits until n's workers are no longer those in old (after a
// reload by hand), for at most 10 seconds.
func waitWorkers(t *testing.T, n *testNginx, old map[int]bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		now := workerPIDs(t, n)
		fresh := len(now) > 0
		for pid := range now {
			if old[pid] {
				fresh = false
			}
		}
		if fresh {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatal("nginx's workers were not replaced within 10s")
}

func (l *liveRoute) live(t *testing.T) LiveTable {
	t.Helper()
	lt, err := l.router.Live(context.Background(), l.spec.Project, l.spec.Env, l.spec.Service)
	if err != nil {
		t.Fatalf("live table: %v", err)
	}
	return lt
}

func (l *liveRoute) planSwitch(t *testing.T) SwitchPlan {
	t.Helper()
	p, err := l.router.PlanSwitch(context.Background(), l.spec)
	if err != nil {
		t.Fatalf("plan switch: %v", err)
	}
	return p
}

// wantTable is the table Apply sets for the route's spec.
func (l *liveRoute) wantTable(t *testing.T) Table {
	t.Helper()
	r, err := render(l.spec, l.router.renderOptions(true))
	if err != nil {
		t.Fatal(err)
	}
	return r.table
}

// TestDynamicSwitchNeedsNoReload: a new route is loaded by a reload; every
// traffic change after it (blue-green switch, canary share, rollback) is
// set over the admin endpoint, read back, written to the file for the next
// start, and leaves nginx's workers alone.
func TestDynamicSwitchNeedsNoReload(t *testing.T) {
	l := newLiveRouteMode(t, SwitchDynamic)
	if p := l.planSwitch(t); p.Mode != SwitchReload || !strings.Contains(p.Reason, "not loaded") {
		t.Fatalf("plan of a new route: %+v, want a reload", p)
	}
	l.apply(t)
	if lt := l.live(t); lt.Source != "file" || !lt.Table.Equal(l.wantTable(t)) {
		t.Fatalf("live table after the first apply: %+v, want the file's %+v", lt, l.wantTable(t))
	}
	workers := workerPIDs(t, l.ngx)

	for _, step := range []struct {
		name    string
		release int
		weight  int
		want    map[string]int // answers out of 20; nil: both sides
	}{
		{"blue-green switch", 2, 100, map[string]int{"candidate": 20}},
		{"canary share", 3, 50, nil},
		{"rollback", 1, 0, map[string]int{"stable": 20}},
	} {
		l.spec.Release, l.spec.CandidateWeight = step.release, step.weight
		if p := l.planSwitch(t); p.Mode != SwitchDynamic || p.Reason != "" {
			t.Fatalf("%s: plan %+v, want dynamic", step.name, p)
		}
		f := l.apply(t)
		got := l.count(t, 20)
		if step.want != nil && !maps.Equal(got, step.want) {
			t.Fatalf("%s: answers %v, want %v", step.name, got, step.want)
		}
		if step.want == nil && (got["stable"] == 0 || got["candidate"] == 0) {
			t.Fatalf("%s: answers %v, want both sides", step.name, got)
		}
		lt := l.live(t)
		if lt.Source != "live" || !lt.Table.Equal(l.wantTable(t)) {
			t.Fatalf("%s: live table %+v, want %+v set live", step.name, lt, l.wantTable(t))
		}
		// The file on disk is what was set, for the next start.
		content, err := os.ReadFile(f.Path)
		if err != nil {
			t.Fatal(err)
		}
		if want, _ := l.router.Render(l.spec); string(content) != string(want) {
			t.Fatalf("%s: the route file is not the new rendering", step.name)
		}
		if ft, ok := fileTable(content); !ok || !ft.Equal(lt.Table) {
			t.Fatalf("%s: file table %+v, want %+v", step.name, ft, lt.Table)
		}
		if now := workerPIDs(t, l.ngx); !maps.Equal(now, workers) {
			t.Fatalf("%s: nginx's workers changed from %v to %v: it reloaded", step.name, workers, now)
		}
	}
	files, err := l.router.Observe(context.Background(), "demo", "test")
	if err != nil || len(files) != 1 || files[0].Edited() || files[0].Release != 1 {
		t.Fatalf("observe: %+v, %v", files, err)
	}
}

// TestDynamicStrictLoadSeesNoFailure is issue 7's acceptance: a client
// that never retries, on keep-alive connections, counts no failure across
// a blue-green switch, a canary step and a rollback.
func TestDynamicStrictLoadSeesNoFailure(t *testing.T) {
	l := newLiveRouteMode(t, SwitchDynamic)
	l.apply(t)
	workers := workerPIDs(t, l.ngx)
	load := prober.Start(context.Background(), prober.Options{
		URL:  "http://127.0.0.1:" + strconv.Itoa(l.spec.Listen) + "/",
		Host: l.spec.ServerName, Rate: 2000, Workers: 8, Mode: prober.Strict,
	})
	pause := func() { time.Sleep(500 * time.Millisecond) }
	pause()
	for _, step := range []struct{ release, weight int }{{2, 100}, {3, 25}, {1, 0}} {
		l.spec.Release, l.spec.CandidateWeight = step.release, step.weight
		l.apply(t)
		pause()
	}
	c := load.Stop()
	if c.Failures() != 0 || c.Requests < 1000 {
		t.Fatalf("strict load across dynamic switches: %+v, want at least 1000 requests and no failure", c)
	}
	if c.ByBody["stable"] == 0 || c.ByBody["candidate"] == 0 {
		t.Fatalf("answers %v: the load did not span the switches", c.ByBody)
	}
	if now := workerPIDs(t, l.ngx); !maps.Equal(now, workers) {
		t.Fatalf("nginx's workers changed: it reloaded")
	}
	t.Logf("strict load: %+v", c)
}

// murmur2 is nginx's ngx_murmur_hash2, which split_clients hashes with.
func murmur2(b []byte) uint32 {
	const m = 0x5bd1e995
	h := uint32(len(b))
	for len(b) >= 4 {
		k := uint32(b[0]) | uint32(b[1])<<8 | uint32(b[2])<<16 | uint32(b[3])<<24
		k *= m
		k ^= k >> 24
		k *= m
		h = h*m ^ k
		b = b[4:]
	}
	switch len(b) {
	case 3:
		h ^= uint32(b[2]) << 16
		fallthrough
	case 2:
		h ^= uint32(b[1]) << 8
		fallthrough
	case 1:
		h ^= uint32(b[0])
		h *= m
	}
	h ^= h >> 13
	h *= m
	h ^= h >> 15
	return h
}

// TestDynamicGroupChoiceMatchesSplitClients: for the same sticky cookie
// both modes choose the same group, the one split_clients computes, so a
// client keeps its side when the switch mode changes and analysis sees the
// same split.
func TestDynamicGroupChoiceMatchesSplitClients(t *testing.T) {
	routes := map[string]*liveRoute{}
	for _, mode := range []string{SwitchReload, SwitchDynamic} {
		l := newLiveRouteMode(t, mode)
		l.spec.StickyCookie = "slipway_web"
		routes[mode] = l
	}
	for _, weight := range []int{25, 50, 77} {
		for mode, l := range routes {
			l.spec.CandidateWeight = weight
			l.spec.Release++
			l.apply(t)
			mismatches := 0
			for i := range 60 {
				key := fmt.Sprintf("k%d%s", i*7919, strings.Repeat("x", i%5)) // every length mod 4
				want := "stable"
				if uint64(murmur2([]byte(key))) < uint64(weight)*100*0xffffffff/10000 {
					want = "candidate"
				}
				got, _ := l.get(t, "Cookie", "slipway_web="+key)
				if got != want {
					mismatches++
					t.Errorf("%s at %d%%: cookie %q went to %s, split_clients says %s", mode, weight, key, got, want)
				}
			}
			if mismatches > 0 {
				t.FailNow()
			}
		}
	}
}

// TestDynamicRestartKeepsRouting: nginx stopped and started (not
// reloaded) after a dynamic switch, or reloaded by someone else, serves
// the routing slipway set last.
func TestDynamicRestartKeepsRouting(t *testing.T) {
	l := newLiveRouteMode(t, SwitchDynamic)
	l.apply(t)
	l.spec.Release, l.spec.CandidateWeight = 2, 100
	l.apply(t)
	want := l.wantTable(t)

	l.ngx.stop()
	if _, err := os.Stat(AdminSocket(l.router.opts.AdminDir, "demo", "test", "web")); !os.IsNotExist(err) {
		t.Fatalf("admin socket left by a stopped nginx: %v", err)
	}
	l.ngx.start(t)
	if got := l.count(t, 20); got["candidate"] != 20 {
		t.Fatalf("after a restart: answers %v, want all candidate", got)
	}
	if lt := l.live(t); lt.Source != "file" || !lt.Table.Equal(want) {
		t.Fatalf("after a restart: live table %+v, want %+v from the file", lt, want)
	}
	_, resp := l.get(t)
	if tag := resp.Header.Get(HeaderRelease); tag != want.Tag {
		t.Fatalf("after a restart: %s %q, want %q", HeaderRelease, tag, want.Tag)
	}

	// A switch after the restart is dynamic again; a reload by hand keeps it.
	l.spec.Release, l.spec.CandidateWeight = 3, 0
	if p := l.planSwitch(t); p.Mode != SwitchDynamic {
		t.Fatalf("plan after a restart: %+v, want dynamic", p)
	}
	l.apply(t)
	old := workerPIDs(t, l.ngx)
	if err := l.ngx.cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	waitWorkers(t, l.ngx, old)
	if got := l.count(t, 20); got["stable"] != 20 {
		t.Fatalf("after a reload by hand: answers %v, want all stable", got)
	}
}

// TestDynamicShapeChangeReloads: a new server name cannot go live through
// the table: it reloads, and the next traffic change is dynamic again.
func TestDynamicShapeChangeReloads(t *testing.T) {
	l := newLiveRouteMode(t, SwitchDynamic)
	l.apply(t)
	workers := workerPIDs(t, l.ngx)

	l.spec.Release, l.spec.ServerName = 2, "other.test"
	if p := l.planSwitch(t); p.Mode != SwitchReload || !strings.Contains(p.Reason, "shape changed") {
		t.Fatalf("plan of a new server name: %+v, want a reload for the shape", p)
	}
	l.apply(t)
	if got := l.count(t, 10); got["stable"] != 10 {
		t.Fatalf("on the new server name: answers %v", got)
	}
	if now := workerPIDs(t, l.ngx); maps.Equal(now, workers) {
		t.Fatal("nginx's workers unchanged: the new shape was not reloaded")
	}
	if lt := l.live(t); lt.Source != "file" || !lt.Table.Equal(l.wantTable(t)) {
		t.Fatalf("after the reload: live table %+v", lt)
	}

	workers = workerPIDs(t, l.ngx)
	l.spec.Release, l.spec.CandidateWeight = 3, 100
	l.apply(t)
	if got := l.count(t, 10); got["candidate"] != 10 {
		t.Fatalf("after the switch: answers %v", got)
	}
	if now := workerPIDs(t, l.ngx); !maps.Equal(now, workers) {
		t.Fatal("a weight change after the reload reloaded again")
	}
}

// TestAdminSocketOnlyRoot: the admin endpoint is a unix socket in a
// directory only its owner can enter; another local user is refused, and
// nginx listens on nothing new beyond loopback.
func TestAdminSocketOnlyRoot(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to run a command as nobody")
	}
	testenv.RequireProgram(t, "runuser")
	testenv.RequireProgram(t, "curl")
	l := newLiveRouteMode(t, SwitchDynamic)
	l.apply(t)
	sock := AdminSocket(l.router.opts.AdminDir, "demo", "test", "web")
	info, err := os.Stat(l.router.opts.AdminDir)
	if err != nil || info.Mode().Perm() != 0o700 {
		t.Fatalf("admin dir: %v, mode %v; want 0700", err, info.Mode().Perm())
	}
	// The test's temp dirs must let nobody through, so that only the
	// admin dir itself stands in the way.
	for _, dir := range []string{filepath.Dir(l.router.opts.AdminDir), filepath.Dir(filepath.Dir(l.router.opts.AdminDir))} {
		if err := os.Chmod(dir, 0o755); err != nil {
			t.Fatal(err)
		}
	}

	curl := func(user string, args ...string) (string, error) {
		cmd := exec.Command("curl", append([]string{"-sS", "--max-time", "3", "--unix-socket", sock}, args...)...)
		if user != "" {
			cmd = exec.Command("runuser", append([]string{"-u", user, "--", "curl", "-sS", "--max-time", "3", "--unix-socket", sock}, args...)...)
		}
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	if out, err := curl("", "http://x/table"); err != nil || !strings.Contains(out, "release 1") {
		t.Fatalf("root's GET: %v\n%s", err, out)
	}
	out, err := curl("nobody", "http://x/table")
	if err == nil || strings.Contains(out, "release") {
		t.Fatalf("nobody's GET was served: %v\n%s", err, out)
	}
	out, err = curl("nobody", "-X", "PUT", "--data-binary", "release 9\ntag 9/x\nweight 100\nstable 127.0.0.1:1\ncandidate 127.0.0.1:1\n", "http://x/table")
	if err == nil {
		t.Fatalf("nobody's PUT was served:\n%s", out)
	}
	if lt := l.live(t); !lt.Table.Equal(l.wantTable(t)) {
		t.Fatalf("live table changed by nobody: %+v", lt)
	}
	// The directory is the barrier: nginx made the socket world-writable.
	if err := os.Chmod(l.router.opts.AdminDir, 0o755); err != nil {
		t.Fatal(err)
	}
	out, err = curl("nobody", "http://x/table")
	if err := os.Chmod(l.router.opts.AdminDir, 0o700); err != nil {
		t.Fatal(err)
	}
	if err != nil || !strings.Contains(out, "release 1") {
		t.Fatalf("with the admin dir open, nobody's GET: %v\n%s; the test proves nothing", err, out)
	}
	if got := l.count(t, 5); got["stable"] != 5 {
		t.Fatalf("routing disturbed: %v", got)
	}

	// Every TCP socket nginx listens on is loopback; its only unix socket
	// is the admin one.
	tcp, unix := listeners(t, l.ngx)
	for _, addr := range tcp {
		if !strings.HasPrefix(addr, "127.0.0.1:") {
			t.Errorf("nginx listens on %s, not loopback", addr)
		}
	}
	if len(tcp) != 1 || len(unix) != 1 || unix[0] != sock {
		t.Fatalf("nginx listens on tcp %v and unix %v; want the route's port and %s", tcp, unix, sock)
	}
}

// listeners returns the TCP addresses and unix paths that n's processes
// listen on, from /proc.
func listeners(t *testing.T, n *testNginx) (tcp, unix []string) {
	t.Helper()
	inodes := map[string]bool{}
	pids := workerPIDs(t, n)
	pids[n.cmd.Process.Pid] = true
	for pid := range pids {
		fds, _ := filepath.Glob(fmt.Sprintf("/proc/%d/fd/*", pid))
		for _, fd := range fds {
			if target, err := os.Readlink(fd); err == nil && strings.HasPrefix(target, "socket:[") {
				inodes[strings.TrimSuffix(strings.TrimPrefix(target, "socket:["), "]")] = true
			}
		}
	}
	seen := map[string]bool{}
	for _, table := range []string{"/proc/net/tcp", "/proc/net/tcp6"} {
		f, err := os.Open(table)
		if err != nil {
			continue
		}
		sc := bufio.NewScanner(f)
		sc.Scan() // header
		for sc.Scan() {
			fields := strings.Fields(sc.Text())
			if len(fields) < 10 || fields[3] != "0A" || !inodes[fields[9]] || seen[fields[9]] {
				continue
			}
			seen[fields[9]] = true
			tcp = append(tcp, procAddr(fields[1]))
		}
		f.Close()
	}
	f, err := os.Open("/proc/net/unix")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		// Num RefCount Protocol Flags Type St Inode Path; listening: St 01, flag __SO_ACCEPTCON.
		fields := strings.Fields(sc.Text())
		if len(fields) >= 8 && inodes[fields[6]] && fields[3] == "00010000" && !seen[fields[6]] {
			seen[fields[6]] = true
			unix = append(unix, fields[7])
		}
	}
	return tcp, unix
}

// procAddr turns /proc/net/tcp's "0100007F:1F90" into "127.0.0.1:8080";
// IPv6 addresses are returned in hex.
func procAddr(s string) string {
	hexIP, hexPort, _ := strings.Cut(s, ":")
	port, _ := strconv.ParseUint(hexPort, 16, 16)
	if len(hexIP) != 8 {
		return hexIP + ":" + strconv.FormatUint(port, 10)
	}
	v, _ := strconv.ParseUint(hexIP, 16, 32)
	return fmt.Sprintf("%d.%d.%d.%d:%d", v&0xff, v>>8&0xff, v>>16&0xff, v>>24, port)
}

// The admin client reports a route that is not dynamic as ErrNoAdmin.
func TestLiveOfReloadRoute(t *testing.T) {
	l := newLiveRouteMode(t, SwitchReload)
	l.apply(t)
	_, err := l.router.Live(context.Background(), "demo", "test", "web")
	if !errors.Is(err, ErrNoAdmin) {
		t.Fatalf("live table of a reload route: %v, want ErrNoAdmin", err)
	}
}

// TestDynamicApplyClearsAStaleSocket: a socket file nobody listens on (left
// by an nginx killed with SIGKILL) would make the reload's bind fail; Apply
// removes it first.
func TestDynamicApplyClearsAStaleSocket(t *testing.T) {
	l := newLiveRouteMode(t, SwitchDynamic)
	if err := ensureAdminDir(l.router.opts.AdminDir); err != nil {
		t.Fatal(err)
	}
	sock := AdminSocket(l.router.opts.AdminDir, "demo", "test", "web")
	ln, err := net.ListenUnix("unix", &net.UnixAddr{Name: sock, Net: "unix"})
	if err != nil {
		t.Fatal(err)
	}
	ln.SetUnlinkOnClose(false)
	ln.Close()
	if _, err := os.Stat(sock); err != nil {
		t.Fatalf("no stale socket to test with: %v", err)
	}
	l.apply(t)
	if lt := l.live(t); !lt.Table.Equal(l.wantTable(t)) {
		t.Fatalf("live table %+v", lt)
	}
}
