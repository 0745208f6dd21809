package docker

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/slipwayhq/slipway/providers"
)

func TestPingNamesTheEngine(t *testing.T) {
	host := "unix://" + filepath.Join(t.TempDir(), "no-docker.sock")
	d, err := New(host)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	err = d.Ping(context.Background())
	if err == nil {
		t.Fatal("ping of a missing socket succeeded")
	}
	for _, want := range []string{"cannot reach the Docker engine at " + host + ": ", "; is dockerd running?"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("ping error %q lacks %q", err, want)
		}
	}
}

// TestWaitHealthyReturnsWhenTheEngineHangs points the runtime at an engine
// that never answers: WaitHealthy must still come back with a HealthError
// instead of blocking (the test would time out otherwise).
func TestWaitHealthyReturnsWhenTheEngineHangs(t *testing.T) {
	stop := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-stop:
		}
	}))
	defer srv.Close()
	defer close(stop)
	d, err := New("tcp://" + srv.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()

	for _, path := range []string{"/health", ""} {
		h := providers.HealthSpec{Path: path, Interval: 50 * time.Millisecond, Timeout: 100 * time.Millisecond, Deadline: 300 * time.Millisecond}
		err = d.WaitHealthy(context.Background(), providers.Container{Name: "stuck"}, h)
		var he *providers.HealthError
		if !errors.As(err, &he) {
			t.Fatalf("path %q: err = %v, want *providers.HealthError", path, err)
		}
		if !strings.Contains(he.Reason, "not healthy within 300ms") {
			t.Errorf("path %q: reason = %q", path, he.Reason)
		}
		if len(he.Logs) != 1 || !strings.HasPrefix(he.Logs[0], "(logs unavailable: ") {
			t.Errorf("path %q: logs = %q", path, he.Logs)
		}
	}
}
