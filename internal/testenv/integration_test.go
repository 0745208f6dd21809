package testenv

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/docker/docker/api/types/container"
	"github.com/docker/go-connections/nat"
	"github.com/jackc/pgx/v5"
)

// httpGet fetches url on a new connection and returns status, body and
// headers.
func httpGet(url string) (int, string, http.Header, error) {
	// No keep-alive: a reused connection would stay on an old nginx worker.
	c := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	resp, err := c.Get(url)
	if err != nil {
		return 0, "", nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), resp.Header, err
}

// eventually polls f every 50ms until it returns nil or timeout passes.
func eventually(t *testing.T, timeout time.Duration, f func() error) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		err := f()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("still failing after %v: %v", timeout, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func randomName(prefix string) string {
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	return prefix + hex.EncodeToString(b)
}

func TestDemoImageRuns(t *testing.T) {
	ctx := t.Context()
	Require(t, "docker", DockerAvailable(ctx))
	root, err := FindRepoRoot(".")
	if err != nil {
		t.Fatal(err)
	}
	tag := randomName("slipway-testenv-") + ":v7"
	t.Cleanup(func() {
		if err := RemoveImage(context.Background(), tag); err != nil {
			t.Errorf("cleanup: %v", err)
		}
	})
	if err := BuildDemoImage(ctx, root, tag, map[string]string{"COLOR": "teal"}); err != nil {
		t.Fatal(err)
	}
	cli, err := NewDockerClient()
	if err != nil {
		t.Fatal(err)
	}
	defer cli.Close()

	img, err := cli.ImageInspect(ctx, tag)
	if err != nil {
		t.Fatal(err)
	}
	if img.Config.Labels[TestLabel] != "1" {
		t.Errorf("image labels %v lack %s=1", img.Config.Labels, TestLabel)
	}
	if hc := img.Config.Healthcheck; hc == nil || strings.Join(hc.Test, " ") != "CMD /demoapp -healthcheck" || hc.Interval != time.Second {
		t.Errorf("image healthcheck %+v", hc)
	}

	created, err := cli.ContainerCreate(ctx,
		&container.Config{Image: tag, Labels: map[string]string{TestLabel: "1"}, ExposedPorts: nat.PortSet{"8080/tcp": {}}},
		&container.HostConfig{PortBindings: nat.PortMap{"8080/tcp": {{HostIP: "127.0.0.1", HostPort: ""}}}},
		nil, nil, randomName("slipway-testenv-"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := cli.ContainerRemove(context.Background(), created.ID, container.RemoveOptions{Force: true}); err != nil {
			t.Errorf("cleanup: %v", err)
		}
	})
	if err := cli.ContainerStart(ctx, created.ID, container.StartOptions{}); err != nil {
		t.Fatal(err)
	}
	info, err := cli.ContainerInspect(ctx, created.ID)
	if err != nil {
		t.Fatal(err)
	}
	bindings := info.NetworkSettings.Ports["8080/tcp"]
	if len(bindings) == 0 || bindings[0].HostIP != "127.0.0.1" {
		t.Fatalf("port bindings %v, want one on 127.0.0.1", bindings)
	}
	url := "http://127.0.0.1:" + bindings[0].HostPort + "/"
	eventually(t, 15*time.Second, func() error {
		code, body, hdr, err := httpGet(url)
		if err != nil {
			return err
		}
		if code != 200 || body != "demoapp version=v7 color=teal\n" || hdr.Get("X-Demo-Version") != "v7" {
			return fmt.Errorf("GET / = %d %q (X-Demo-Version %q)", code, body, hdr.Get("X-Demo-Version"))
		}
		return nil
	})
	// The HEALTHCHECK runs the binary's -healthcheck inside the scratch image.
	eventually(t, 30*time.Second, func() error {
		info, err := cli.ContainerInspect(ctx, created.ID)
		if err != nil {
			return err
		}
		if info.State.Health == nil || info.State.Health.Status != "healthy" {
			return fmt.Errorf("container health %+v", info.State.Health)
		}
		return nil
	})
}

func TestRemoveImageMissing(t *testing.T) {
	ctx := t.Context()
	Require(t, "docker", DockerAvailable(ctx))
	if err := RemoveImage(ctx, randomName("slipway-testenv-missing-")+":v1"); err != nil {
		t.Errorf("RemoveImage of a missing image: %v", err)
	}
}

func TestRemoveImageRemoves(t *testing.T) {
	ctx := t.Context()
	Require(t, "docker", DockerAvailable(ctx))
	root, err := FindRepoRoot(".")
	if err != nil {
		t.Fatal(err)
	}
	tag := randomName("slipway-testenv-") + ":gone"
	if err := BuildDemoImage(ctx, root, tag, nil); err != nil {
		t.Fatal(err)
	}
	if err := RemoveImage(ctx, tag); err != nil {
		t.Fatal(err)
	}
	cli, err := NewDockerClient()
	if err != nil {
		t.Fatal(err)
	}
	defer cli.Close()
	if _, err := cli.ImageInspect(ctx, tag); !cerrdefs.IsNotFound(err) {
		t.Errorf("after RemoveImage, inspect says %v; want not found", err)
		_ = RemoveImage(ctx, tag)
	}
}

// startTestNginx starts nginx in a temporary directory and stops it at the
// end of the test.
func startTestNginx(t *testing.T, opts StartNginxOpts) *Nginx {
	t.Helper()
	Require(t, "nginx", NginxAvailable())
	if opts.Lua {
		Require(t, "nginx-lua", LuaAvailable())
	}
	n, err := StartNginxWithOpts(t.TempDir(), opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := n.Stop(); err != nil {
			t.Errorf("cleanup: %v", err)
		}
	})
	return n
}

func writeServer(t *testing.T, n *Nginx, port int, body string) {
	t.Helper()
	conf := fmt.Sprintf("server {\n    listen 127.0.0.1:%d;\n    access_log %s;\n    location / {\n        %s\n    }\n}\n", port, n.AccessLog, body)
	if err := os.WriteFile(filepath.Join(n.ConfDir, "test.conf"), []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestNginxStartReloadStop(t *testing.T) {
	n := startTestNginx(t, StartNginxOpts{})
	if !processAlive(n.PID) {
		t.Fatalf("master %d is not running", n.PID)
	}
	port, err := FreePort()
	if err != nil {
		t.Fatal(err)
	}
	url := fmt.Sprintf("http://127.0.0.1:%d/", port)
	if _, _, _, err := httpGet(url); err == nil {
		t.Fatal("a fresh instance answers on a port nobody configured")
	}

	// Reload returns once the new configuration serves: no polling needed.
	for _, v := range []string{"one", "two"} {
		writeServer(t, n, port, fmt.Sprintf("return 200 %q;", v))
		if err := n.Reload(); err != nil {
			t.Fatal(err)
		}
		if code, body, _, err := httpGet(url); err != nil || code != 200 || body != v {
			t.Fatalf("after reload to %q: %d %q %v", v, code, body, err)
		}
	}
	// nginx logs a request after answering it: wait for the lines.
	eventually(t, 5*time.Second, func() error {
		if b, err := os.ReadFile(n.AccessLog); err != nil || strings.Count(string(b), "\n") != 2 {
			return fmt.Errorf("access log %q (%v), want two lines", b, err)
		}
		return nil
	})

	// A broken configuration is refused and the old one keeps serving.
	writeServer(t, n, port, "return 200 \"three\"") // missing semicolon
	if err := n.Reload(); err == nil || !strings.Contains(err.Error(), "test.conf") {
		t.Errorf("reload of a broken file: %v, want nginx -t's complaint", err)
	}
	if code, body, _, err := httpGet(url); err != nil || code != 200 || body != "two" {
		t.Errorf("after a refused reload: %d %q %v, want the old config", code, body, err)
	}

	// OpenNginx finds the running instance by its pid file.
	o, err := OpenNginx(n.Prefix)
	if err != nil || o.PID != n.PID || o.Lua {
		t.Fatalf("OpenNginx() = %+v, %v", o, err)
	}
	if _, err := StartNginx(n.Prefix); err == nil {
		t.Error("a second instance started in the same directory")
	}

	workers := childPIDs(n.PID)
	if err := o.Stop(); err != nil {
		t.Fatal(err)
	}
	if processAlive(n.PID) {
		t.Errorf("master %d alive after Stop", n.PID)
	}
	for w := range workers {
		if processAlive(w) {
			t.Errorf("worker %d alive after Stop", w)
		}
	}
	if _, _, _, err := httpGet(url); err == nil {
		t.Error("nginx still answers after Stop")
	}
	if err := n.Stop(); err != nil {
		t.Errorf("second Stop: %v", err)
	}
}

func TestNginxLua(t *testing.T) {
	n := startTestNginx(t, StartNginxOpts{Lua: true})
	port, err := FreePort()
	if err != nil {
		t.Fatal(err)
	}
	writeServer(t, n, port, `content_by_lua_block { ngx.print("lua " .. (1 + 1)) }`)
	if err := n.Reload(); err != nil {
		t.Fatal(err)
	}
	code, body, _, err := httpGet(fmt.Sprintf("http://127.0.0.1:%d/", port))
	if err != nil || code != 200 || body != "lua 2" {
		t.Errorf("GET = %d %q %v, want the Lua block's output", code, body, err)
	}
}

func TestPostgres(t *testing.T) {
	Require(t, "postgres", PostgresAvailable())
	ctx := t.Context()
	p, err := StartPostgres(ctx)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := p.Stop(); err != nil {
			t.Errorf("cleanup: %v", err)
		}
	})
	if !strings.HasPrefix(p.Dir, "/tmp/") {
		t.Errorf("Dir %q is not under /tmp", p.Dir)
	}
	conn, err := pgx.Connect(ctx, p.URL())
	if err != nil {
		t.Fatal(err)
	}
	var who, db, version string
	err = conn.QueryRow(ctx, "SELECT current_user, current_database(), current_setting('server_version_num')").Scan(&who, &db, &version)
	conn.Close(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if who != p.User || db != p.Database || !strings.HasPrefix(version, "15") {
		t.Errorf("connected as %q to %q on %s, want %q on %q, version 15", who, db, version, p.User, p.Database)
	}

	// The password is required.
	wrong := *p
	wrong.Password = "not-the-password"
	if c, err := pgx.Connect(ctx, wrong.URL()); err == nil {
		c.Close(ctx)
		t.Error("connected with a wrong password")
	}

	dir := p.Dir
	if err := p.Stop(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Errorf("directory %q left after Stop (%v)", dir, err)
	}
	if c, err := pgx.Connect(ctx, p.URL()); err == nil {
		c.Close(ctx)
		t.Error("server still answers after Stop")
	}
	if err := p.Stop(); err != nil {
		t.Errorf("second Stop: %v", err)
	}
}
