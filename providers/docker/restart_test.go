package docker

import (
	"errors"
	"net"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/slipwayhq/slipway/providers"
)

// observed returns the container named name among project's.
func (e *env) observed(t *testing.T, project, name string) providers.Container {
	t.Helper()
	list, err := e.d.Observe(ctxT(t, 30*time.Second), project, "")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range list {
		if c.Name == name {
			return c
		}
	}
	t.Fatalf("container %s not observed among %+v", name, list)
	return providers.Container{}
}

// testKilledKeepsAddress: a container whose main process dies (kill -9
// from the host, as an out-of-memory kill would) is restarted by its
// policy on the same host port, which its label names; Observe reports
// the policy and the restart.
func testKilledKeepsAddress(t *testing.T, e *env) {
	ctx := ctxT(t, time.Minute)
	p := e.project(t)
	spec := e.spec(t, p, e.plain, 1)
	spec.Restart = "unless-stopped"
	c, err := e.d.Start(ctx, spec)
	if err != nil {
		t.Fatal(err)
	}
	in, err := e.d.cli.ContainerInspect(ctx, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	if _, port, _ := net.SplitHostPort(c.HostAddr); in.Config.Labels[LabelHostPort] != port || port == "" {
		t.Fatalf("label %s = %q, want the published port of %s", LabelHostPort, in.Config.Labels[LabelHostPort], c.HostAddr)
	}
	if err := syscall.Kill(in.State.Pid, syscall.SIGKILL); err != nil {
		t.Fatalf("kill -9 %d: %v", in.State.Pid, err)
	}
	var back providers.Container
	for deadline := time.Now().Add(30 * time.Second); ; {
		back = e.observed(t, p, spec.Name)
		if back.Running() && back.RestartCount > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("not running again after kill -9: %+v", back)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if back.HostAddr != c.HostAddr {
		t.Fatalf("restarted on %s, was %s: nginx would route to a dead port", back.HostAddr, c.HostAddr)
	}
	if back.Restart != "unless-stopped" || back.RestartCount != 1 {
		t.Fatalf("observed restart policy %q, count %d; want unless-stopped, 1", back.Restart, back.RestartCount)
	}
	if err := e.d.WaitHealthy(ctx, back, providers.HealthSpec{Path: "/health", Interval: 100 * time.Millisecond, Deadline: 20 * time.Second}); err != nil {
		t.Fatal(err)
	}
}

// testPortTakenTriesAnother: when the chosen host port is taken by the
// time the container starts, Start removes it and creates it on another;
// after portTries taken ports it gives up and says so.
func testPortTakenTriesAnother(t *testing.T, e *env) {
	ctx := ctxT(t, time.Minute)
	held, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer held.Close()
	taken := held.Addr().(*net.TCPAddr).Port
	d, err := New("")
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	calls := 0
	d.freePort = func(ip string) (int, error) {
		calls++
		if calls == 1 {
			return taken, nil
		}
		return kernelFreePort(ip)
	}
	p := e.project(t)
	spec := e.spec(t, p, e.plain, 1)
	c, err := d.Start(ctx, spec)
	if err != nil {
		t.Fatal(err)
	}
	if calls != 2 || c.HostAddr == "127.0.0.1:"+strconv.Itoa(taken) || !c.Running() {
		t.Fatalf("started %+v after %d port choices; want a second port, not %d", c, calls, taken)
	}

	// Stopped, its pinned port taken by another program: starting it
	// again says what to do, it does not move it.
	if err := d.Stop(ctx, spec.Name, time.Second); err != nil {
		t.Fatal(err)
	}
	again, err := net.Listen("tcp", c.HostAddr)
	if err != nil {
		t.Fatal(err)
	}
	_, err = d.Start(ctx, spec)
	again.Close()
	if err == nil || !strings.Contains(err.Error(), "its pinned host port is taken") || !strings.Contains(err.Error(), "docker rm "+spec.Name) {
		t.Fatalf("start with its pinned port taken: err = %v, want the port named taken and what to do", err)
	}

	d.freePort = func(string) (int, error) { return taken, nil }
	spec = e.spec(t, p, e.plain, 2)
	_, err = d.Start(ctx, spec)
	if err == nil || !strings.Contains(err.Error(), "tried 5 host ports") {
		t.Fatalf("start with every port taken: err = %v, want it to give up after 5 ports", err)
	}
	if _, ierr := d.cli.ContainerInspect(ctx, spec.Name); ierr == nil {
		t.Fatalf("a container %s that could not start was left behind", spec.Name)
	}
}

// testUpdateRestart: the policy of a live container changes in place,
// without a restart; a missing container and a bad policy are errors.
func testUpdateRestart(t *testing.T, e *env) {
	ctx := ctxT(t, time.Minute)
	p := e.project(t)
	spec := e.spec(t, p, e.plain, 1)
	spec.Restart = "no"
	c, err := e.d.Start(ctx, spec)
	if err != nil {
		t.Fatal(err)
	}
	if got := e.observed(t, p, spec.Name).Restart; got != "no" {
		t.Fatalf("observed restart policy %q, want no", got)
	}
	if err := e.d.UpdateRestart(ctx, spec.Name, "unless-stopped"); err != nil {
		t.Fatal(err)
	}
	now := e.observed(t, p, spec.Name)
	if now.Restart != "unless-stopped" || now.ID != c.ID || !now.Running() || now.HostAddr != c.HostAddr {
		t.Fatalf("after update: %+v; want the same running container with policy unless-stopped", now)
	}
	if err := e.d.UpdateRestart(ctx, p+"-missing", "no"); !errors.Is(err, providers.ErrNotFound) {
		t.Fatalf("update of a missing container: %v, want ErrNotFound", err)
	}
	if err := e.d.UpdateRestart(ctx, spec.Name, "sometimes"); !errors.Is(err, ErrInvalidSpec) {
		t.Fatalf("update to a bad policy: %v, want ErrInvalidSpec", err)
	}
}
