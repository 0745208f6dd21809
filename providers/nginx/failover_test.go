package nginx

import (
	"bufio"
	"context"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/slipwayhq/slipway/executor/analysis"
)

// deadAddr returns a loopback address nothing listens on: a connection
// to it is refused, as to a container whose process was killed.
func deadAddr(t *testing.T) string {
	t.Helper()
	return "127.0.0.1:" + strconv.Itoa(freePort(t))
}

// accessLines returns the access log's lines as fields.
func accessLines(t *testing.T, path string) [][]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out [][]string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		out = append(out, strings.Split(sc.Text(), "\t"))
	}
	return out
}

// TestDeadPeerIsRoutedAround is issue 15's first point, in both switch
// modes: with one peer of each group refusing connections, every request
// (a POST too) is answered by the live peer of its own group, never by
// the other group's; the access log names the group and, last in
// upstream_addr, the peer that answered; analysis counts every request in
// its group without an error. In dynamic mode the balancer remembers the
// failure and stops trying the dead peer for a while, where reload mode
// tries it for every other request of its group.
func TestDeadPeerIsRoutedAround(t *testing.T) { forModes(t, testDeadPeerIsRoutedAround) }

func testDeadPeerIsRoutedAround(t *testing.T, mode string) {
	l := newLiveRouteMode(t, mode)
	liveStable, liveCand := l.spec.Stable[0], l.spec.Candidate[0]
	deadStable, deadCand := deadAddr(t), deadAddr(t)
	l.spec.Stable = []string{liveStable, deadStable}
	l.spec.Candidate = []string{liveCand, deadCand}
	l.spec.CandidateWeight = 50
	l.apply(t)

	src := analysis.NewNginx(l.ngx.AccessLog, analysis.Route(l.spec.Project, l.spec.Env, l.spec.Service))
	defer src.Close()
	from := time.Now()
	const n = 100
	got := l.count(t, n)
	if got["stable"]+got["candidate"] != n || got["stable"] == 0 || got["candidate"] == 0 {
		t.Fatalf("answers %v, want %d from both groups' live peers", got, n)
	}
	for range 5 {
		req, err := http.NewRequest("POST", "http://127.0.0.1:"+strconv.Itoa(l.spec.Listen)+"/", strings.NewReader("order=1"))
		if err != nil {
			t.Fatal(err)
		}
		req.Host = l.spec.ServerName
		resp, err := l.client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Fatalf("POST answered %d, want 200: a refused connection sent nothing, so another peer may take it", resp.StatusCode)
		}
	}

	peers := map[string]map[string]bool{
		"stable":    {liveStable: true, deadStable: true},
		"candidate": {liveCand: true, deadCand: true},
	}
	answering := map[string]string{"stable": liveStable, "candidate": liveCand}
	deadTried := map[string]int{}
	// nginx writes a line once the answer went out: wait for the last.
	lines := accessLines(t, l.ngx.AccessLog)
	for deadline := time.Now().Add(10 * time.Second); len(lines) < n+5 && time.Now().Before(deadline); {
		time.Sleep(20 * time.Millisecond)
		lines = accessLines(t, l.ngx.AccessLog)
	}
	if len(lines) != n+5 {
		t.Fatalf("%d access-log lines, want %d", len(lines), n+5)
	}
	for _, f := range lines {
		group, status, addrs := f[1], f[2], strings.Split(f[7], ", ")
		if status != "200" {
			t.Fatalf("logged status %s: %q", status, f)
		}
		for _, a := range addrs {
			if !peers[group][a] {
				t.Fatalf("a %s request went to %s, a peer of the other group: %q", group, a, f)
			}
			if a != answering[group] {
				deadTried[group]++
			}
		}
		if last := addrs[len(addrs)-1]; last != answering[group] {
			t.Fatalf("a %s request is logged as answered by %s, want %s: %q", group, last, answering[group], f)
		}
	}
	w, err := src.Read(context.Background(), from, time.Now().Add(2*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	if w.Stable.Requests+w.Candidate.Requests != n+5 || w.Stable.Errors+w.Candidate.Errors != 0 || src.Malformed() != 0 {
		t.Fatalf("analysis read stable %+v, candidate %+v (%d malformed), want %d requests without error", w.Stable, w.Candidate, src.Malformed(), n+5)
	}
	t.Logf("%s: answers %v; the dead peers were tried %v times", mode, got, deadTried)
	for g, tries := range deadTried {
		if tries == 0 {
			t.Fatalf("the dead %s peer was never tried: the test proves nothing", g)
		}
		// Reload mode tries it for every other request of its group;
		// the Lua balancer skips it for failMemory after a failure.
		if mode == SwitchDynamic && tries*4 > got[g] {
			t.Errorf("dynamic: the dead %s peer was tried %d times for %d requests, want it skipped after a failure", g, tries, got[g])
		}
	}
}

// TestDynamicPeerComesBack: a peer the balancer skipped after a failure
// gets requests again once it answers and failMemory has passed; and when
// every peer of a group failed, the balancer still tries them rather than
// refusing at once.
func TestDynamicPeerComesBack(t *testing.T) {
	l := newLiveRouteMode(t, SwitchDynamic)
	first, second := freePort(t), freePort(t)
	addr := func(port int) string { return "127.0.0.1:" + strconv.Itoa(port) }
	l.spec.Stable = []string{addr(first), addr(second)}
	l.spec.Candidate = nil
	l.apply(t)

	if _, resp := l.get(t); resp.StatusCode != http.StatusBadGateway {
		t.Fatalf("both peers dead: status %d, want 502", resp.StatusCode)
	}
	// Both are remembered as failing; the one that comes back is tried
	// all the same.
	serveOn(t, addr(second), "second")
	if body, resp := l.get(t); resp.StatusCode != 200 || body != "second" {
		t.Fatalf("one peer back, both remembered as failing: status %d, body %q; want the live peer", resp.StatusCode, body)
	}
	serveOn(t, addr(first), "first")
	time.Sleep(failMemory + 500*time.Millisecond)
	seen := map[string]int{}
	for range 20 {
		body, resp := l.get(t)
		if resp.StatusCode != 200 {
			t.Fatalf("status %d", resp.StatusCode)
		}
		seen[body]++
	}
	if seen["first"] == 0 || seen["second"] == 0 {
		t.Fatalf("answers %v after %s: the peer that came back gets no request", seen, failMemory)
	}
}

// serveOn answers name on addr until the test ends.
func serveOn(t *testing.T, addr, name string) {
	t.Helper()
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte(name))
	})}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })
}
