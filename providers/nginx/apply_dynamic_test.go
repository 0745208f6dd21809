package nginx

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/slipwayhq/slipway/providers"
)

// fakeDynamic stands in for nginx with the Lua module in Apply's logic:
// Activate "loads" the route file on disk (its shape and table), the admin
// endpoint on the route's unix socket gets and sets the table, and an HTTP
// server answers with the live table's tag.
type fakeDynamic struct {
	dir, file string

	mu          sync.Mutex
	loaded      bool   // the admin endpoint answers
	shape       string // of the loaded file
	table       Table
	source      string
	lie         bool // the first GET after the next PUT answers another table
	lying       bool
	puts        []Table
	activations int
}

func (f *fakeDynamic) Name() string { return "fake" }

func (f *fakeDynamic) Activate(ctx context.Context) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.activations++
	f.loaded = false
	content, err := os.ReadFile(filepath.Join(f.dir, f.file))
	if err != nil {
		return nil
	}
	shape, ok1 := shapeOf(content)
	table, ok2 := fileTable(content)
	f.loaded, f.shape, f.table, f.source = ok1 && ok2, shape, table, "file"
	return nil
}

func (f *fakeDynamic) admin(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if !f.loaded {
		http.NotFound(w, r)
		return
	}
	if r.Method == http.MethodPut {
		body, _ := io.ReadAll(r.Body)
		var t Table
		if err := t.UnmarshalText(body); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		f.table, f.source = t, "live"
		f.puts = append(f.puts, t)
		f.lying, f.lie = f.lie, false
	}
	t := f.table
	if f.lying && r.Method == http.MethodGet {
		t.CandidateWeight = (t.CandidateWeight + 1) % 100
		f.lying = false
	}
	text, _ := t.MarshalText()
	w.Header().Set("X-Slipway-Source", f.source)
	w.Header().Set("X-Slipway-Shape", f.shape)
	_, _ = w.Write(text)
}

func (f *fakeDynamic) state() (activations int, puts []Table, table Table) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.activations, append([]Table(nil), f.puts...), f.table
}

// newFakeDynamic returns a dynamic router on a fakeDynamic and a spec its
// servers answer.
func newFakeDynamic(t *testing.T) (*Nginx, *fakeDynamic, providers.RouteSpec) {
	t.Helper()
	spec := baseSpec()
	fake := &fakeDynamic{dir: t.TempDir(), file: FileName(spec.Project, spec.Env, spec.Service)}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fake.mu.Lock()
		defer fake.mu.Unlock()
		if fake.loaded {
			w.Header().Set(HeaderRelease, fake.table.Tag)
		}
	}))
	t.Cleanup(srv.Close)
	spec.Listen = srv.Listener.Addr().(*net.TCPAddr).Port
	spec.ServerName = ""

	adminDir := filepath.Join(t.TempDir(), "admin")
	if err := ensureAdminDir(adminDir); err != nil {
		t.Fatal(err)
	}
	l, err := net.Listen("unix", AdminSocket(adminDir, spec.Project, spec.Env, spec.Service))
	if err != nil {
		t.Fatal(err)
	}
	adm := &http.Server{Handler: http.HandlerFunc(fake.admin)}
	go func() { _ = adm.Serve(l) }()
	t.Cleanup(func() { _ = adm.Close() })

	n, err := New(Options{ConfigDir: fake.dir, Switcher: fake, ConfirmTimeout: time.Second, Switch: SwitchDynamic, AdminDir: adminDir})
	if err != nil {
		t.Fatal(err)
	}
	n.settle = 0
	return n, fake, spec
}

func TestDynamicApplySetsTheTableWithoutActivating(t *testing.T) {
	n, fake, spec := newFakeDynamic(t)
	ctx := context.Background()
	first, err := n.Apply(ctx, spec)
	if err != nil {
		t.Fatal(err)
	}
	if a, puts, _ := fake.state(); a != 1 || len(puts) != 0 {
		t.Fatalf("first apply: %d activations and %d table sets, want a reload only", a, len(puts))
	}

	spec.Release, spec.CandidateWeight = 44, 100
	f, err := n.Apply(ctx, spec)
	if err != nil {
		t.Fatal(err)
	}
	a, puts, table := fake.state()
	want, _ := render(spec, n.renderOptions(true))
	if a != 1 || len(puts) != 1 || !puts[0].Equal(want.table) || !table.Equal(want.table) {
		t.Fatalf("switch: %d activations, sets %v; want one set of %v and no reload", a, puts, want.table)
	}
	content, _ := os.ReadFile(f.Path)
	if string(content) != string(want.content) || f.Checksum == first.Checksum || f.Release != 44 {
		t.Fatalf("route file not rewritten for the next start (%+v)", f)
	}

	// Applying it again changes nothing.
	info, _ := os.Stat(f.Path)
	if _, err := n.Apply(ctx, spec); err != nil {
		t.Fatal(err)
	}
	if a, puts, _ := fake.state(); a != 1 || len(puts) != 1 {
		t.Fatalf("no-op apply: %d activations, %d sets", a, len(puts))
	}
	if info2, _ := os.Stat(f.Path); !os.SameFile(info, info2) {
		t.Fatal("file rewritten by a no-op apply")
	}
}

func TestDynamicApplyRestoresWhenTheReadBackDiffers(t *testing.T) {
	n, fake, spec := newFakeDynamic(t)
	ctx := context.Background()
	f, err := n.Apply(ctx, spec)
	if err != nil {
		t.Fatal(err)
	}
	before, _ := os.ReadFile(f.Path)
	_, _, live := fake.state()

	fake.mu.Lock()
	fake.lie = true
	fake.mu.Unlock()
	spec.Release, spec.CandidateWeight = 44, 100
	_, err = n.Apply(ctx, spec)
	if !errors.Is(err, ErrNotConfirmed) {
		t.Fatalf("apply with a wrong read-back: %v, want ErrNotConfirmed", err)
	}
	after, _ := os.ReadFile(f.Path)
	if string(after) != string(before) {
		t.Fatal("previous route file not restored")
	}
	a, puts, table := fake.state()
	if a != 1 || len(puts) != 2 || !puts[1].Equal(live) || !table.Equal(live) {
		t.Fatalf("after the failed switch: %d activations, sets %v, table %v; want the previous table %v set back", a, puts, table, live)
	}
	assertNoTempFiles(t, fake.dir)
}

func TestDynamicApplyReloadsWhenTheEndpointIsGone(t *testing.T) {
	n, fake, spec := newFakeDynamic(t)
	ctx := context.Background()
	if _, err := n.Apply(ctx, spec); err != nil {
		t.Fatal(err)
	}
	// As if nginx were restarted on an older configuration.
	fake.mu.Lock()
	fake.loaded = false
	fake.mu.Unlock()
	if p, err := n.PlanSwitch(ctx, spec); err != nil || p.Mode != "fake" || p.Reason == "" {
		t.Fatalf("plan with the endpoint gone: %+v, %v; want the reload switcher with a reason", p, err)
	}
	spec.Release, spec.CandidateWeight = 44, 100
	if _, err := n.Apply(ctx, spec); err != nil {
		t.Fatal(err)
	}
	want, _ := render(spec, n.renderOptions(true))
	if a, puts, table := fake.state(); a != 2 || len(puts) != 0 || !table.Equal(want.table) {
		t.Fatalf("%d activations, %d sets, table %v; want a reload to %v", a, len(puts), table, want.table)
	}
	if p, err := n.PlanSwitch(ctx, spec); err != nil || p.Mode != SwitchDynamic {
		t.Fatalf("plan after the reload: %+v, %v; want dynamic", p, err)
	}
}
