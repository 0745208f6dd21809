package operation

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/slipwayhq/slipway/config"
	"github.com/slipwayhq/slipway/notify"
	"github.com/slipwayhq/slipway/planner"
	"github.com/slipwayhq/slipway/providers"
	"github.com/slipwayhq/slipway/state"
)

func TestDescribeDown(t *testing.T) {
	for _, tt := range []struct {
		r    planner.Replica
		want string
	}{
		{planner.Replica{Name: "w-1", State: "missing"}, "w-1 is gone (removed outside slipway)"},
		{planner.Replica{Name: "w-1", State: "exited", ExitCode: 137}, "w-1 is exited (exit code 137)"},
		{planner.Replica{Name: "w-1", State: "restarting", ExitCode: 1, RestartCount: 4}, "w-1 is restarting (exit code 1, restarted 4 times: a restart loop)"},
		{planner.Replica{Name: "w-1", State: "exited", ExitCode: 2, RestartCount: 1}, "w-1 is exited (exit code 2, restarted once: a restart loop)"},
		{planner.Replica{Name: "w-1", State: "running", Health: "unhealthy"}, "w-1 is running, unhealthy"},
		{planner.Replica{Name: "w-1", State: "running", RestartCount: 1, Moved: "127.0.0.1:2", Routed: "127.0.0.1:1"},
			"w-1 runs on 127.0.0.1:2, but nginx sends its requests to 127.0.0.1:1 (restarted on another port; 'slipway apply' routes to it again)"},
	} {
		if got := DescribeDown(tt.r); got != tt.want {
			t.Errorf("DescribeDown(%+v) = %q, want %q", tt.r, got, tt.want)
		}
	}
}

// fakeReplicas is a runtime whose containers a test changes; only
// Observe and Logs answer.
type fakeReplicas struct {
	providers.Runtime
	mu         sync.Mutex
	containers []providers.Container
	looked     chan struct{}
}

func (f *fakeReplicas) set(cs ...providers.Container) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.containers = cs
}

func (f *fakeReplicas) Observe(context.Context, string, string) ([]providers.Container, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	select {
	case f.looked <- struct{}{}:
	default:
	}
	return append([]providers.Container(nil), f.containers...), nil
}

func (f *fakeReplicas) Logs(_ context.Context, name string, n int) ([]string, error) {
	return []string{name + ": panic: out of memory"}, nil
}

// TestReplicaWatchTellsOnce: a watch tells once when the release becomes
// degraded (with the replica and its last log line, on its output and to
// the webhook), nothing while it stays so, and once when it recovers.
func TestReplicaWatchTellsOnce(t *testing.T) {
	var mu sync.Mutex
	var bodies []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		bodies = append(bodies, string(b))
		mu.Unlock()
	}))
	defer srv.Close()

	st := state.New("shop", "")
	st.Release = 3
	st.Services["web"] = &state.Service{Name: "web", Release: 3, Containers: []state.Container{{Name: "shop-web-r3-1"}, {Name: "shop-web-r3-2"}}}
	up := func(name string) providers.Container { return providers.Container{Name: name, State: "running"} }
	rt := &fakeReplicas{looked: make(chan struct{})}
	rt.set(up("shop-web-r3-1"), up("shop-web-r3-2"))

	var lines []string
	var lmu sync.Mutex
	var busy atomic.Bool
	w := &replicaWatch{runtime: rt, poll: time.Millisecond, mask: func(s string) string { return s },
		notifier: notify.New([]*config.Notify{{Name: "ops", Webhook: config.Secret{Value: srv.URL}}}, notify.Options{}),
		read:     func() (*state.State, bool, error) { return st, busy.Load(), nil },
		tell: func(l string) {
			lmu.Lock()
			lines = append(lines, l)
			lmu.Unlock()
		}}
	ctx, cancel := context.WithCancel(context.Background())
	wait := w.start(ctx)
	look := func(n int) {
		for range n {
			<-rt.looked
		}
	}
	look(3)
	// While an operation's journal exists, replicas come and go: no look.
	busy.Store(true)
	rt.set(up("shop-web-r3-1"))
	time.Sleep(20 * time.Millisecond)
	busy.Store(false)
	rt.set(up("shop-web-r3-1"), providers.Container{Name: "shop-web-r3-2", State: "restarting", ExitCode: 2, RestartCount: 5})
	look(5)
	rt.set(up("shop-web-r3-1"), up("shop-web-r3-2"))
	look(5)
	cancel()
	wait()

	want := []string{
		"slipway: release #3 is degraded: service.web: 1 of 2 replicas healthy",
		"  shop-web-r3-2 is restarting (exit code 2, restarted 5 times: a restart loop)",
		"    shop-web-r3-2: panic: out of memory",
		"slipway: release #3 serves with every replica again",
	}
	if strings.Join(lines, "\n") != strings.Join(want, "\n") {
		t.Fatalf("told:\n%s\nwant:\n%s", strings.Join(lines, "\n"), strings.Join(want, "\n"))
	}
	mu.Lock()
	defer mu.Unlock()
	if len(bodies) != 2 || !strings.Contains(bodies[0], `"event":"degraded"`) || !strings.Contains(bodies[0], "panic: out of memory") ||
		!strings.Contains(bodies[1], `"event":"recovered"`) {
		t.Fatalf("webhook got %q, want one degraded event with the log line, then one recovered", bodies)
	}
}
