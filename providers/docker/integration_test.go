package docker

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/docker/docker/api/types/build"
	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/api/types/image"
	"github.com/docker/docker/api/types/network"

	"github.com/slipwayhq/slipway/internal/testenv"
	"github.com/slipwayhq/slipway/providers"
)

// testApp is the tiny server the test images run. Its behaviour comes from
// the environment: HEALTH_STATUS (status of /health), EXIT_CODE (exit at
// once), SECRET_KEY (printed, to prove masking). With -probe URL it is its
// own HEALTHCHECK client.
const testApp = `package main

import (
	"fmt"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"syscall"
)

func main() {
	if len(os.Args) == 3 && os.Args[1] == "-probe" {
		resp, err := http.Get(os.Args[2])
		if err != nil || resp.StatusCode/100 != 2 {
			fmt.Println("probe failed")
			os.Exit(1)
		}
		os.Exit(0)
	}
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGTERM)
	go func() { <-sig; fmt.Println("got SIGTERM"); os.Exit(0) }()
	fmt.Println("starting; secret is", os.Getenv("SECRET_KEY"))
	for i := 0; i < 60; i++ {
		fmt.Fprintln(os.Stderr, "warming up line", i)
	}
	if c := os.Getenv("EXIT_CODE"); c != "" {
		n, _ := strconv.Atoi(c)
		fmt.Fprintln(os.Stderr, "key is", os.Getenv("SECRET_KEY"))
		fmt.Fprintln(os.Stderr, "exiting with", n)
		os.Exit(n)
	}
	status := 200
	if s := os.Getenv("HEALTH_STATUS"); s != "" {
		status, _ = strconv.Atoi(s)
	}
	http.HandleFunc("/health", func(w http.ResponseWriter, r *http.Request) {
		fmt.Println("health check answered", status, "key", os.Getenv("SECRET_KEY"))
		w.WriteHeader(status)
	})
	http.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintln(w, "hello from", os.Getenv("HOSTNAME"))
	})
	if err := http.ListenAndServe(":8000", nil); err != nil {
		fmt.Println(err)
		os.Exit(2)
	}
}
`

// env is what the integration tests share: one runtime and two images.
type env struct {
	d       *Docker
	plain   string // tag of the image without HEALTHCHECK
	checked string // tag of the image with HEALTHCHECK
	prefix  string // unique per test run
}

func randHex(t *testing.T, n int) string {
	t.Helper()
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b)
}

// setup connects to the engine (skipping, or failing under CI=true, when
// there is none) and builds the test images FROM scratch.
func setup(t *testing.T) *env {
	t.Helper()
	d, err := New("")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	testenv.Require(t, "docker", d.Ping(ctx))
	e := &env{d: d, prefix: "sltest-" + randHex(t, 4)}
	e.plain = e.prefix + "/app:plain"
	e.checked = e.prefix + "/app:checked"
	bin := buildTestApp(t)
	buildImage(t, d, bin, e.plain, "FROM scratch\nCOPY app /app\nEXPOSE 8000\nENTRYPOINT [\"/app\"]\n")
	buildImage(t, d, bin, e.checked, "FROM scratch\nCOPY app /app\nEXPOSE 8000\n"+
		"HEALTHCHECK --interval=1s --timeout=1s --retries=2 CMD [\"/app\", \"-probe\", \"http://127.0.0.1:8000/health\"]\n"+
		"ENTRYPOINT [\"/app\"]\n")
	return e
}

// buildTestApp compiles testApp into a static linux binary.
func buildTestApp(t *testing.T) []byte {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "main.go"), []byte(testApp), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "go.mod"), []byte("module testapp\n\ngo 1.21\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("go", "build", "-trimpath", "-ldflags=-s -w", "-o", "app", ".")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOWORK=off", "GOFLAGS=")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("build test app: %v\n%s", err, out)
	}
	bin, err := os.ReadFile(filepath.Join(dir, "app"))
	if err != nil {
		t.Fatal(err)
	}
	return bin
}

// buildImage builds an image from a Dockerfile and the app binary through
// the engine API and removes it when the test ends.
func buildImage(t *testing.T, d *Docker, bin []byte, tag, dockerfile string) {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, f := range []struct {
		name string
		mode int64
		data []byte
	}{{"Dockerfile", 0o644, []byte(dockerfile)}, {"app", 0o755, bin}} {
		if err := tw.WriteHeader(&tar.Header{Name: f.name, Mode: f.mode, Size: int64(len(f.data))}); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write(f.data); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	resp, err := d.cli.ImageBuild(ctx, &buf, build.ImageBuildOptions{
		Tags: []string{tag}, Remove: true, ForceRemove: true, Version: build.BuilderV1,
	})
	if err != nil {
		t.Fatalf("build image %s: %v", tag, err)
	}
	defer resp.Body.Close()
	dec := json.NewDecoder(resp.Body)
	for {
		var msg struct {
			Error string `json:"error"`
		}
		if err := dec.Decode(&msg); err == io.EOF {
			break
		} else if err != nil {
			t.Fatalf("build image %s: %v", tag, err)
		}
		if msg.Error != "" {
			t.Fatalf("build image %s: %s", tag, msg.Error)
		}
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if _, err := d.cli.ImageRemove(ctx, tag, image.RemoveOptions{Force: true, PruneChildren: true}); err != nil {
			t.Logf("remove image %s: %v", tag, err)
		}
	})
}

// project returns a project name unique to the test and removes its
// containers when the test ends.
func (e *env) project(t *testing.T) string {
	t.Helper()
	p := e.prefix + "-" + randHex(t, 3)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		list, err := e.d.cli.ContainerList(ctx, container.ListOptions{
			All: true, Filters: filters.NewArgs(filters.Arg("label", providers.LabelProject+"="+p)),
		})
		if err != nil {
			t.Logf("list containers of %s: %v", p, err)
			return
		}
		for _, c := range list {
			_ = e.d.cli.ContainerRemove(ctx, c.ID, container.RemoveOptions{Force: true, RemoveVolumes: true})
		}
	})
	return p
}

// spec returns a container spec of the plain image in project.
func (e *env) spec(t *testing.T, project, ref string, index int) providers.ContainerSpec {
	t.Helper()
	ctx := context.Background()
	id, err := e.d.ResolveImage(ctx, ref)
	if err != nil {
		t.Fatal(err)
	}
	return providers.ContainerSpec{
		Name:        fmt.Sprintf("%s-web-r1-%d", project, index),
		Project:     project,
		Service:     "web",
		Release:     1,
		Color:       "blue",
		Index:       index,
		ConfigHash:  "h1",
		Image:       ref,
		ImageID:     id,
		Port:        8000,
		StopTimeout: 5 * time.Second,
	}
}

func ctxT(t *testing.T, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

func TestIntegration(t *testing.T) {
	e := setup(t)

	t.Run("start publishes on loopback and is idempotent", func(t *testing.T) {
		t.Parallel()
		ctx := ctxT(t, time.Minute)
		p := e.project(t)
		spec := e.spec(t, p, e.plain, 1)
		c, err := e.d.Start(ctx, spec)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(c.HostAddr, "127.0.0.1:") || c.HostAddr == "127.0.0.1:8000" {
			t.Fatalf("host addr = %q, want an ephemeral loopback port", c.HostAddr)
		}
		if c.Name != spec.Name || c.Project != p || c.Release != 1 || c.Index != 1 || c.Color != "blue" ||
			c.ConfigHash != "h1" || c.Image != e.plain || c.ImageID != spec.ImageID || !c.Running() {
			t.Fatalf("started container = %+v", c)
		}
		if err := e.d.WaitHealthy(ctx, c, providers.HealthSpec{Path: "/", Interval: 100 * time.Millisecond, Deadline: 20 * time.Second}); err != nil {
			t.Fatal(err)
		}
		resp, err := http.Get("http://" + c.HostAddr + "/")
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if !strings.HasPrefix(string(body), "hello from") {
			t.Fatalf("GET / = %q", body)
		}

		again, err := e.d.Start(ctx, spec)
		if err != nil || again.ID != c.ID {
			t.Fatalf("second start = %+v, %v; want the same container %s", again, err, c.ID)
		}

		if err := e.d.Stop(ctx, spec.Name, 5*time.Second); err != nil {
			t.Fatal(err)
		}
		restarted, err := e.d.Start(ctx, spec)
		if err != nil || restarted.ID != c.ID || !restarted.Running() {
			t.Fatalf("start after stop = %+v, %v; want %s running again", restarted, err, c.ID)
		}

		other := spec
		other.ConfigHash = "h2"
		if _, err := e.d.Start(ctx, other); !errors.Is(err, ErrConflict) {
			t.Fatalf("start with other labels: err = %v, want ErrConflict", err)
		}
		other = spec
		other.Image, other.ImageID = e.checked, ""
		if _, err := e.d.Start(ctx, other); !errors.Is(err, ErrConflict) {
			t.Fatalf("start with other image: err = %v, want ErrConflict", err)
		}
	})

	t.Run("exposed ports of an image", func(t *testing.T) {
		t.Parallel()
		ctx := ctxT(t, time.Minute)
		got, err := e.d.ExposedPorts(ctx, e.plain)
		if err != nil || !reflect.DeepEqual(got, []int{8000}) {
			t.Fatalf("ExposedPorts(%s) = %v, %v; want [8000]", e.plain, got, err)
		}
		if _, err := e.d.ExposedPorts(ctx, e.prefix+"/missing:v0"); !errors.Is(err, providers.ErrImageNotFound) {
			t.Fatalf("ExposedPorts of a missing image: %v, want ErrImageNotFound", err)
		}
	})

	t.Run("observe by labels", func(t *testing.T) {
		t.Parallel()
		ctx := ctxT(t, time.Minute)
		p := e.project(t)
		a := e.spec(t, p, e.plain, 1)
		a.Env = "staging"
		b := e.spec(t, p, e.plain, 2)
		b.Env = "staging"
		def := e.spec(t, p, e.plain, 3)
		for _, s := range []providers.ContainerSpec{a, b, def} {
			if _, err := e.d.Start(ctx, s); err != nil {
				t.Fatal(err)
			}
		}
		if err := e.d.Stop(ctx, b.Name, time.Second); err != nil {
			t.Fatal(err)
		}
		got, err := e.d.Observe(ctx, p, "staging")
		if err != nil {
			t.Fatal(err)
		}
		states := map[string]string{}
		for _, c := range got {
			states[c.Name] = c.State
			if c.Env != "staging" || c.Project != p || c.Service != "web" || c.Image != e.plain || c.ImageID != a.ImageID {
				t.Errorf("observed %+v", c)
			}
			if c.Running() && !strings.HasPrefix(c.HostAddr, "127.0.0.1:") {
				t.Errorf("observed running %s without its address: %q", c.Name, c.HostAddr)
			}
		}
		if len(got) != 2 || states[a.Name] != "running" || states[b.Name] != "exited" {
			t.Fatalf("observe staging = %v, want %s running and %s exited", states, a.Name, b.Name)
		}
		got, err = e.d.Observe(ctx, p, "")
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 1 || got[0].Name != def.Name || got[0].Index != 3 {
			t.Fatalf("observe default env = %+v, want only %s", got, def.Name)
		}
		if err := e.d.Remove(ctx, a.Name); err != nil {
			t.Fatal(err)
		}
		got, _ = e.d.Observe(ctx, p, "staging")
		if len(got) != 1 || got[0].Name != b.Name {
			t.Fatalf("after remove, observe = %+v, want only %s", got, b.Name)
		}
	})

	t.Run("health by http probe", func(t *testing.T) {
		t.Parallel()
		ctx := ctxT(t, time.Minute)
		c, err := e.d.Start(ctx, e.spec(t, e.project(t), e.plain, 1))
		if err != nil {
			t.Fatal(err)
		}
		c.HostAddr = "" // read back from the engine
		h := providers.HealthSpec{Path: "/health", Interval: 200 * time.Millisecond, Timeout: time.Second, HealthyThreshold: 3, Deadline: 30 * time.Second}
		if err := e.d.WaitHealthy(ctx, c, h); err != nil {
			t.Fatal(err)
		}
	})

	t.Run("health failure carries masked logs", func(t *testing.T) {
		t.Parallel()
		ctx := ctxT(t, time.Minute)
		secret := "topsecret-" + randHex(t, 8)
		spec := e.spec(t, e.project(t), e.plain, 1)
		spec.Vars = []providers.EnvVar{{Name: "HEALTH_STATUS", Value: "503"}, {Name: "SECRET_KEY", Value: secret, Sensitive: true}}
		c, err := e.d.Start(ctx, spec)
		if err != nil {
			t.Fatal(err)
		}
		h := providers.HealthSpec{Path: "/health", Interval: 200 * time.Millisecond, Timeout: time.Second, HealthyThreshold: 1, Deadline: 2 * time.Second}
		err = e.d.WaitHealthy(ctx, c, h)
		var he *providers.HealthError
		if !errors.As(err, &he) {
			t.Fatalf("err = %v, want *providers.HealthError", err)
		}
		if !strings.Contains(he.Reason, "status 503") || he.Container != spec.Name {
			t.Errorf("health error = %+v", he)
		}
		if len(he.Logs) != HealthLogLines {
			t.Errorf("got %d log lines, want %d", len(he.Logs), HealthLogLines)
		}
		all := strings.Join(he.Logs, "\n")
		if strings.Contains(all, secret) || strings.Contains(err.Error(), secret) {
			t.Fatalf("secret leaked:\n%s", all)
		}
		if !strings.Contains(all, "health check answered 503 key (sensitive)") {
			t.Fatalf("logs lack the masked probe line:\n%s", all)
		}

		// Another process knows the sensitive names from the label only.
		fresh, err := New("")
		if err != nil {
			t.Fatal(err)
		}
		defer fresh.Close()
		lines, err := fresh.Logs(ctx, spec.Name, 1000)
		if err != nil {
			t.Fatal(err)
		}
		all = strings.Join(lines, "\n")
		if strings.Contains(all, secret) || !strings.Contains(all, "starting; secret is (sensitive)") {
			t.Fatalf("fresh runtime logs not masked:\n%s", all)
		}
		if !strings.Contains(all, "warming up line 59") {
			t.Fatalf("stderr lines missing from logs:\n%s", all)
		}
	})

	t.Run("health fails at once when the container exits", func(t *testing.T) {
		t.Parallel()
		ctx := ctxT(t, 2*time.Minute)
		spec := e.spec(t, e.project(t), e.plain, 1)
		spec.Vars = []providers.EnvVar{{Name: "EXIT_CODE", Value: "3"}}
		c, err := e.d.Start(ctx, spec)
		if err != nil {
			t.Fatal(err)
		}
		err = e.d.WaitHealthy(ctx, c, providers.HealthSpec{Path: "/health", Interval: 100 * time.Millisecond, Deadline: time.Minute})
		var he *providers.HealthError
		if !errors.As(err, &he) || he.Reason != "exited with code 3" {
			t.Fatalf("err = %v, want a HealthError: exited with code 3", err)
		}
		// The engine keeps order within a stream, not across stdout and
		// stderr; the exit line follows every other stderr line.
		if len(he.Logs) != HealthLogLines || !contains(he.Logs[HealthLogLines-2:], "exiting with 3") {
			t.Fatalf("logs = %q", he.Logs)
		}
	})

	t.Run("health by image HEALTHCHECK", func(t *testing.T) {
		t.Parallel()
		ctx := ctxT(t, 2*time.Minute)
		p := e.project(t)
		good := e.spec(t, p, e.checked, 1)
		bad := e.spec(t, p, e.checked, 2)
		bad.Vars = []providers.EnvVar{{Name: "HEALTH_STATUS", Value: "500"}}
		gc, err := e.d.Start(ctx, good)
		if err != nil {
			t.Fatal(err)
		}
		bc, err := e.d.Start(ctx, bad)
		if err != nil {
			t.Fatal(err)
		}
		h := providers.HealthSpec{Interval: 200 * time.Millisecond, Deadline: time.Minute}
		if err := e.d.WaitHealthy(ctx, gc, h); err != nil {
			t.Fatal(err)
		}
		obs, err := e.d.Observe(ctx, p, "")
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range obs {
			if c.Name == good.Name && c.Health != "healthy" {
				t.Errorf("observed health of %s = %q, want healthy", c.Name, c.Health)
			}
		}
		err = e.d.WaitHealthy(ctx, bc, h)
		var he *providers.HealthError
		if !errors.As(err, &he) || !strings.Contains(he.Reason, "unhealthy") {
			t.Fatalf("err = %v, want a HealthError saying unhealthy", err)
		}
	})

	t.Run("no HEALTHCHECK: running counts", func(t *testing.T) {
		t.Parallel()
		ctx := ctxT(t, time.Minute)
		c, err := e.d.Start(ctx, e.spec(t, e.project(t), e.plain, 1))
		if err != nil {
			t.Fatal(err)
		}
		if err := e.d.WaitHealthy(ctx, c, providers.HealthSpec{Interval: 100 * time.Millisecond, HealthyThreshold: 2, Deadline: 20 * time.Second}); err != nil {
			t.Fatal(err)
		}
	})

	t.Run("cancelled wait returns the context error", func(t *testing.T) {
		t.Parallel()
		c, err := e.d.Start(ctxT(t, time.Minute), e.spec(t, e.project(t), e.plain, 1))
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		err = e.d.WaitHealthy(ctx, c, providers.HealthSpec{Path: "/nope", Deadline: time.Minute})
		var he *providers.HealthError
		if !errors.Is(err, context.Canceled) || errors.As(err, &he) {
			t.Fatalf("err = %v, want context.Canceled", err)
		}
	})

	t.Run("graceful stop then remove", func(t *testing.T) {
		t.Parallel()
		ctx := ctxT(t, time.Minute)
		p := e.project(t)
		spec := e.spec(t, p, e.plain, 1)
		c, err := e.d.Start(ctx, spec)
		if err != nil {
			t.Fatal(err)
		}
		// Serving means the app has its SIGTERM handler.
		if err := e.d.WaitHealthy(ctx, c, providers.HealthSpec{Path: "/", Interval: 100 * time.Millisecond, Deadline: 20 * time.Second}); err != nil {
			t.Fatal(err)
		}
		if err := e.d.Stop(ctx, spec.Name, 10*time.Second); err != nil {
			t.Fatal(err)
		}
		in, err := e.d.cli.ContainerInspect(ctx, spec.Name)
		if err != nil {
			t.Fatal(err)
		}
		if in.State.Running || in.State.ExitCode != 0 {
			t.Fatalf("after stop: running=%v exit=%d, want a clean SIGTERM exit", in.State.Running, in.State.ExitCode)
		}
		if in.Config.StopTimeout == nil || *in.Config.StopTimeout != 5 {
			t.Errorf("stop timeout = %v, want 5", in.Config.StopTimeout)
		}
		lines, err := e.d.Logs(ctx, spec.Name, 1)
		if err != nil || len(lines) != 1 || lines[0] != "got SIGTERM" {
			t.Fatalf("last log line = %q, %v; want got SIGTERM", lines, err)
		}
		if err := e.d.Remove(ctx, spec.Name); err != nil {
			t.Fatal(err)
		}
		if obs, _ := e.d.Observe(ctx, p, ""); len(obs) != 0 {
			t.Fatalf("after remove, observe = %+v", obs)
		}
	})

	t.Run("missing containers", func(t *testing.T) {
		t.Parallel()
		ctx := ctxT(t, time.Minute)
		name := e.prefix + "-missing"
		if err := e.d.Stop(ctx, name, time.Second); err != nil {
			t.Errorf("stop missing: %v", err)
		}
		if err := e.d.Remove(ctx, name); err != nil {
			t.Errorf("remove missing: %v", err)
		}
		if _, err := e.d.Logs(ctx, name, 10); !errors.Is(err, providers.ErrNotFound) {
			t.Errorf("logs of missing: err = %v, want ErrNotFound", err)
		}
		err := e.d.WaitHealthy(ctx, providers.Container{Name: name}, providers.HealthSpec{Deadline: time.Minute})
		var he *providers.HealthError
		if !errors.As(err, &he) || he.Reason != "container does not exist" {
			t.Errorf("wait for missing: err = %v", err)
		}
	})

	t.Run("images", func(t *testing.T) {
		t.Parallel()
		ctx := ctxT(t, time.Minute)
		missing := e.prefix + "/nope:1"
		_, err := e.d.ResolveImage(ctx, missing)
		if !errors.Is(err, providers.ErrImageNotFound) || !strings.Contains(err.Error(), missing) {
			t.Fatalf("resolve missing: err = %v, want ErrImageNotFound naming it", err)
		}
		id, err := e.d.ResolveImage(ctx, e.plain)
		if err != nil || !strings.HasPrefix(id, "sha256:") {
			t.Fatalf("resolve %s = %q, %v", e.plain, id, err)
		}
		if ok, err := e.d.ImageExists(ctx, id); !ok || err != nil {
			t.Fatalf("exists(%s) = %v, %v", id, ok, err)
		}
		gone := "sha256:" + strings.Repeat("0", 64)
		if ok, err := e.d.ImageExists(ctx, gone); ok || err != nil {
			t.Fatalf("exists(gone) = %v, %v", ok, err)
		}
		spec := e.spec(t, e.project(t), e.plain, 1)
		spec.Image, spec.ImageID = missing, gone
		_, err = e.d.Start(ctx, spec)
		if !errors.Is(err, providers.ErrImageNotFound) || !strings.Contains(err.Error(), missing) {
			t.Fatalf("start from a missing image: err = %v", err)
		}
	})

	t.Run("one-off tasks", func(t *testing.T) {
		t.Parallel()
		ctx := ctxT(t, 2*time.Minute)
		p := e.project(t)
		spec := e.spec(t, p, e.plain, 1)
		spec.Name = p + "-web-r1-migrate"
		gone := func() {
			t.Helper()
			if _, err := e.d.cli.ContainerInspect(ctx, spec.Name); err == nil {
				t.Fatalf("task container %s left behind", spec.Name)
			}
		}

		// A leftover of an interrupted run is replaced.
		if _, err := e.d.Start(ctx, spec); err != nil {
			t.Fatal(err)
		}
		ok := spec
		ok.Vars = []providers.EnvVar{{Name: "EXIT_CODE", Value: "0"}}
		res, err := e.d.RunTask(ctx, ok)
		if err != nil || res.ExitCode != 0 || !contains(res.Logs, "exiting with 0") {
			t.Fatalf("task = %+v, %v", res, err)
		}
		gone()

		secret := "tasksecret-" + randHex(t, 8)
		bad := spec
		bad.Vars = []providers.EnvVar{{Name: "EXIT_CODE", Value: "4"}, {Name: "SECRET_KEY", Value: secret, Sensitive: true}}
		res, err = e.d.RunTask(ctx, bad)
		if !errors.Is(err, ErrTaskFailed) || res.ExitCode != 4 {
			t.Fatalf("failing task = %+v, %v; want ErrTaskFailed with code 4", res, err)
		}
		all := strings.Join(res.Logs, "\n")
		if strings.Contains(all, secret) || !strings.Contains(all, "key is (sensitive)") {
			t.Fatalf("task logs not masked:\n%s", all)
		}
		gone()

		other := spec
		other.ConfigHash = "other"
		if _, err := e.d.Start(ctx, other); err != nil {
			t.Fatal(err)
		}
		if _, err := e.d.RunTask(ctx, spec); !errors.Is(err, ErrConflict) {
			t.Fatalf("task over another container: err = %v, want ErrConflict", err)
		}
		if err := e.d.Remove(ctx, other.Name); err != nil {
			t.Fatal(err)
		}

		// A task that never ends is killed and removed with its context.
		short, cancel := context.WithTimeout(ctx, time.Second)
		defer cancel()
		if _, err := e.d.RunTask(short, spec); !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("endless task: err = %v, want context.DeadlineExceeded", err)
		}
		gone()
	})

	t.Run("networks, extra hosts and limits", func(t *testing.T) {
		t.Parallel()
		ctx := ctxT(t, time.Minute)
		var nets []string
		for i := range 2 {
			n := fmt.Sprintf("%s-net%d-%s", e.prefix, i, randHex(t, 2))
			if _, err := e.d.cli.NetworkCreate(ctx, n, network.CreateOptions{}); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = e.d.cli.NetworkRemove(context.Background(), n) })
			nets = append(nets, n)
		}
		spec := e.spec(t, e.project(t), e.plain, 1)
		spec.Networks = nets
		spec.ExtraHosts = []string{"host.docker.internal:host-gateway"}
		spec.Memory = 64 << 20
		spec.CPUs = 0.5
		spec.Restart = "unless-stopped"
		c, err := e.d.Start(ctx, spec)
		if err != nil {
			t.Fatal(err)
		}
		in, err := e.d.cli.ContainerInspect(ctx, c.ID)
		if err != nil {
			t.Fatal(err)
		}
		for _, n := range nets {
			ep, ok := in.NetworkSettings.Networks[n]
			if !ok {
				t.Errorf("not connected to %s: %v", n, in.NetworkSettings.Networks)
				continue
			}
			if !contains(ep.Aliases, "web") {
				t.Errorf("aliases on %s = %v, want web among them", n, ep.Aliases)
			}
		}
		if in.HostConfig.Memory != 64<<20 || in.HostConfig.NanoCPUs != 500_000_000 || in.HostConfig.RestartPolicy.Name != "unless-stopped" {
			t.Errorf("host config: memory=%d nanocpus=%d restart=%v", in.HostConfig.Memory, in.HostConfig.NanoCPUs, in.HostConfig.RestartPolicy)
		}
		if !contains(in.HostConfig.ExtraHosts, "host.docker.internal:host-gateway") {
			t.Errorf("extra hosts = %v", in.HostConfig.ExtraHosts)
		}
		if !strings.HasPrefix(c.HostAddr, "127.0.0.1:") {
			t.Errorf("host addr on a user network = %q", c.HostAddr)
		}
		if err := e.d.WaitHealthy(ctx, c, providers.HealthSpec{Path: "/health", Interval: 100 * time.Millisecond, Deadline: 20 * time.Second}); err != nil {
			t.Fatal(err)
		}
		if err := e.d.Remove(ctx, c.Name); err != nil {
			t.Fatal(err)
		}
	})

	t.Run("a killed container comes back on its pinned address", func(t *testing.T) {
		t.Parallel()
		testKilledKeepsAddress(t, e)
	})
	t.Run("another host port when the pinned one is taken", func(t *testing.T) {
		t.Parallel()
		testPortTakenTriesAnother(t, e)
	})
	t.Run("restart policy updated in place", func(t *testing.T) {
		t.Parallel()
		testUpdateRestart(t, e)
	})
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}
