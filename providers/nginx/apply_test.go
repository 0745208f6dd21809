package nginx

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/slipwayhq/slipway/providers"
)

// fakeNginx stands in for nginx in Apply's logic: Activate "loads" the tag
// of the route file on disk, and an HTTP server answers with the loaded
// tag, like a route's X-Slipway-Release.
type fakeNginx struct {
	dir, file string
	fail      error // returned by Activate when set

	mu          sync.Mutex
	live        string
	activations int
}

func (f *fakeNginx) Name() string { return "fake" }

func (f *fakeNginx) Activate(ctx context.Context) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.activations++
	if f.fail != nil {
		return f.fail
	}
	f.live = ""
	if content, err := os.ReadFile(filepath.Join(f.dir, f.file)); err == nil {
		_, f.live, _ = liveOf(content)
	}
	return nil
}

func (f *fakeNginx) count() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.activations
}

func (f *fakeNginx) forget() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.live = ""
}

// newFake returns a router on a fake nginx and a spec its server answers.
func newFake(t *testing.T) (*Nginx, *fakeNginx, providers.RouteSpec) {
	t.Helper()
	spec := baseSpec()
	fake := &fakeNginx{dir: t.TempDir(), file: FileName(spec.Project, spec.Env, spec.Service)}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fake.mu.Lock()
		defer fake.mu.Unlock()
		if fake.live != "" {
			w.Header().Set(HeaderRelease, fake.live)
		}
	}))
	t.Cleanup(srv.Close)
	spec.Listen = srv.Listener.Addr().(*net.TCPAddr).Port
	spec.ServerName = ""
	n, err := New(Options{ConfigDir: fake.dir, Switcher: fake, ConfirmTimeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	n.settle = 0
	return n, fake, spec
}

func TestApplyIsANoOpWhenLive(t *testing.T) {
	n, fake, spec := newFake(t)
	ctx := context.Background()
	first, err := n.Apply(ctx, spec)
	if err != nil {
		t.Fatal(err)
	}
	info, _ := os.Stat(first.Path)
	again, err := n.Apply(ctx, spec)
	if err != nil || !reflect.DeepEqual(again, first) {
		t.Fatalf("second apply: %+v, %v; want %+v", again, err, first)
	}
	if got := fake.count(); got != 1 {
		t.Fatalf("%d activations, want 1", got)
	}
	if info2, _ := os.Stat(first.Path); !os.SameFile(info, info2) {
		t.Fatal("file rewritten by a no-op apply")
	}

	// The right file that is not live (a crash between write and switch)
	// is switched again.
	fake.forget()
	if _, err := n.Apply(ctx, spec); err != nil {
		t.Fatal(err)
	}
	if got := fake.count(); got != 2 {
		t.Fatalf("%d activations, want 2", got)
	}
}

func TestApplyRestoresAfterFailedSwitch(t *testing.T) {
	n, fake, spec := newFake(t)
	ctx := context.Background()
	f, err := n.Apply(ctx, spec)
	if err != nil {
		t.Fatal(err)
	}
	before, _ := os.ReadFile(f.Path)
	fake.fail = &CommandError{Args: []string{"nginx", "-s", "reload"}, Output: "nginx: [error] invalid PID number", Kind: ErrReloadFailed, Err: errors.New("exit status 1")}
	spec.Release++
	_, err = n.Apply(ctx, spec)
	if !errors.Is(err, ErrReloadFailed) || !errors.Is(err, fake.fail.(*CommandError).Kind) {
		t.Fatalf("apply: %v, want ErrReloadFailed", err)
	}
	var ce *CommandError
	if !errors.As(err, &ce) || ce.Output != "nginx: [error] invalid PID number" {
		t.Fatalf("nginx's message lost: %v", err)
	}
	after, _ := os.ReadFile(f.Path)
	if string(after) != string(before) {
		t.Fatal("previous file not restored")
	}
	if got := fake.count(); got != 3 {
		t.Fatalf("%d activations, want 3 (apply, failed apply, restore)", got)
	}
	assertNoTempFiles(t, fake.dir)
}

// TestRouteFileMode: a new route file is 0644, so that nginx's workers
// can read it whoever they run as; a mode the operator gave one is kept
// when slipway rewrites it, and when it restores it after a failed switch.
func TestRouteFileMode(t *testing.T) {
	n, fake, spec := newFake(t)
	ctx := context.Background()
	mode := func() os.FileMode {
		t.Helper()
		fi, err := os.Stat(filepath.Join(fake.dir, fake.file))
		if err != nil {
			t.Fatal(err)
		}
		return fi.Mode().Perm()
	}
	if _, err := n.Apply(ctx, spec); err != nil {
		t.Fatal(err)
	}
	if got := mode(); got != 0o644 {
		t.Fatalf("new route file mode %04o, want 0644", got)
	}
	if err := os.Chmod(filepath.Join(fake.dir, fake.file), 0o640); err != nil {
		t.Fatal(err)
	}
	spec.Release++
	if _, err := n.Apply(ctx, spec); err != nil {
		t.Fatal(err)
	}
	if got := mode(); got != 0o640 {
		t.Fatalf("rewritten route file mode %04o, want the operator's 0640", got)
	}
	fake.fail = errors.New("reload failed")
	spec.Release++
	if _, err := n.Apply(ctx, spec); err == nil {
		t.Fatal("apply with a failing reload succeeded")
	}
	if got := mode(); got != 0o640 {
		t.Fatalf("restored route file mode %04o, want the operator's 0640", got)
	}
}

func TestApplyRefusesFilesItDoesNotOwn(t *testing.T) {
	for _, tc := range []struct {
		name    string
		content string
	}{
		{"hand written", "server { listen 80; }\n"},
		{"another service", "# managed by slipway: project=thebot env=prod service=other release=1 checksum=sha256:00\n"},
		{"another env", "# managed by slipway: project=thebot env= service=prod-backend release=1 checksum=sha256:00\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			n, fake, spec := newFake(t)
			path := filepath.Join(fake.dir, fake.file)
			if err := os.WriteFile(path, []byte(tc.content), 0o644); err != nil {
				t.Fatal(err)
			}
			if _, err := n.Apply(context.Background(), spec); !errors.Is(err, ErrNotManaged) {
				t.Fatalf("apply: %v, want ErrNotManaged", err)
			}
			if err := n.Remove(context.Background(), spec.Project, spec.Env, spec.Service); !errors.Is(err, ErrNotManaged) {
				t.Fatalf("remove: %v, want ErrNotManaged", err)
			}
			if got, _ := os.ReadFile(path); string(got) != tc.content || fake.count() != 0 {
				t.Fatal("a file slipway does not own was touched")
			}
		})
	}
}

func TestApplyInvalidSpecTouchesNothing(t *testing.T) {
	n, fake, spec := newFake(t)
	spec.Location = "/a b"
	if _, err := n.Apply(context.Background(), spec); !errors.Is(err, ErrInvalidSpec) {
		t.Fatalf("apply: %v, want ErrInvalidSpec", err)
	}
	if entries, _ := os.ReadDir(fake.dir); len(entries) != 0 || fake.count() != 0 {
		t.Fatalf("something was written or switched: %v", entries)
	}
}

func TestObserve(t *testing.T) {
	dir := t.TempDir()
	n, err := New(Options{ConfigDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	write := func(project, env, service string, release int) string {
		spec := baseSpec()
		spec.Project, spec.Env, spec.Service, spec.Release = project, env, service, release
		content, err := n.Render(spec)
		if err != nil {
			t.Fatal(err)
		}
		path := filepath.Join(dir, FileName(project, env, service))
		if err := os.WriteFile(path, content, 0o644); err != nil {
			t.Fatal(err)
		}
		return path
	}
	backend := write("thebot", "prod", "backend", 7)
	frontend := write("thebot", "prod", "frontend", 6)
	write("thebot", "staging", "backend", 9)
	write("other", "prod", "backend", 1)
	if err := os.WriteFile(filepath.Join(dir, "default.conf"), []byte("server {}\n"), 0o644); err != nil {
		t.Fatal(err)
	}

	files, err := n.Observe(context.Background(), "thebot", "prod")
	if err != nil {
		t.Fatal(err)
	}
	if len(files) != 2 || files[0].Path != backend || files[0].Release != 7 || files[0].Edited() ||
		files[1].Path != frontend || files[1].Service != "frontend" || files[1].Edited() {
		t.Fatalf("observe: %+v", files)
	}

	// A hand edit of the body is drift.
	f, _ := os.OpenFile(backend, os.O_APPEND|os.O_WRONLY, 0)
	_, _ = f.WriteString("# tuned by hand\n")
	_ = f.Close()
	// So is a damaged header: the file is still listed, by its name.
	content, _ := os.ReadFile(frontend)
	if err := os.WriteFile(frontend, content[1:], 0o644); err != nil {
		t.Fatal(err)
	}
	files, err = n.Observe(context.Background(), "thebot", "prod")
	if err != nil {
		t.Fatal(err)
	}
	if len(files) != 2 || !files[0].Edited() || files[0].Release != 7 ||
		!files[1].Edited() || files[1].Service != "frontend" {
		t.Fatalf("observe after edits: %+v", files)
	}

	if _, err := New(Options{ConfigDir: filepath.Join(dir, "missing")}); err != nil {
		t.Fatal(err)
	}
	missing, _ := New(Options{ConfigDir: filepath.Join(dir, "missing")})
	if _, err := missing.Observe(context.Background(), "thebot", "prod"); err == nil {
		t.Fatal("observe of a missing config dir succeeded")
	}
}

func TestNewOptions(t *testing.T) {
	if _, err := New(Options{}); err == nil {
		t.Fatal("New without a config dir succeeded")
	}
	if _, err := New(Options{ConfigDir: "/x", AccessLog: `/var/log/"a`}); err == nil {
		t.Fatal("New accepted a quote in the access log path")
	}
	n, err := New(Options{ConfigDir: "/x"})
	if err != nil {
		t.Fatal(err)
	}
	r, ok := n.switcher.(*Reload)
	if !ok || r.Binary != "nginx" || n.opts.ConfirmTimeout != 5*time.Second || n.Mode() != "reload" {
		t.Fatalf("defaults: %+v %+v", n.opts, n.switcher)
	}
}

func TestProbeFor(t *testing.T) {
	n, _ := New(Options{ConfigDir: "/x", ListenHost: "0.0.0.0"})
	for _, tc := range []struct {
		serverName, location string
		tls                  bool
		url, host            string
	}{
		{"thebot.example.com", "/", false, "http://127.0.0.1:8080/", "thebot.example.com"},
		{"_", "/api/", false, "http://127.0.0.1:8080/api/", ""},
		{"", "= /health", true, "https://127.0.0.1:8080/health", ""},
		{"*.example.com", "/", false, "http://127.0.0.1:8080/", "slipway-confirm.example.com"},
	} {
		spec := providers.RouteSpec{Listen: 8080, ServerName: tc.serverName, Location: tc.location}
		if tc.tls {
			spec.TLSCert = "/c"
		}
		p := n.probeFor(spec)
		if p.url != tc.url || p.host != tc.host {
			t.Errorf("probeFor(%q, %q) = %s host %q, want %s host %q", tc.serverName, tc.location, p.url, p.host, tc.url, tc.host)
		}
	}
}

func TestApplyCancelledRestores(t *testing.T) {
	n, fake, spec := newFake(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := n.Apply(ctx, spec); !errors.Is(err, context.Canceled) {
		t.Fatalf("apply with a cancelled context: %v, want context.Canceled", err)
	}
	if _, err := os.Stat(filepath.Join(fake.dir, fake.file)); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("route file left after a cancelled apply: %v", err)
	}
}
