package checks

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/slipwayhq/slipway/config"
	"github.com/slipwayhq/slipway/internal/testenv"
	"github.com/zclconf/go-cty/cty"
)

// str, num, list and obj build attribute values tersely.
func str(s string) cty.Value { return cty.StringVal(s) }
func num(n int64) cty.Value  { return cty.NumberIntVal(n) }
func secret(s string) cty.Value {
	return cty.StringVal(s).Mark(config.SensitiveMark)
}
func list(vs ...cty.Value) cty.Value { return cty.TupleVal(vs) }
func obj(kv ...any) cty.Value {
	m := map[string]cty.Value{}
	for i := 0; i < len(kv); i += 2 {
		m[kv[i].(string)] = kv[i+1].(cty.Value)
	}
	return cty.ObjectVal(m)
}

// ck builds a check of kind with attributes given as name, value pairs.
func ck(name, kind string, kv ...any) *config.Check {
	attrs := map[string]cty.Value{}
	for i := 0; i < len(kv); i += 2 {
		attrs[kv[i].(string)] = kv[i+1].(cty.Value)
	}
	return &config.Check{Name: name, Kind: kind, Phase: "pre", Severity: "critical", Attrs: attrs}
}

// runOne runs a single check with env and returns its result.
func run1(t *testing.T, c *config.Check, env Env) Result {
	t.Helper()
	rs := Run(context.Background(), []*config.Check{c}, env)
	if len(rs) != 1 {
		t.Fatalf("Run returned %d results, want 1", len(rs))
	}
	t.Logf("%s: %s %q err=%q", c.Name, rs[0].Status, rs[0].Evidence, rs[0].Err)
	return rs[0]
}

// want checks a result's status and that its error contains errPart.
func want(t *testing.T, r Result, status, errPart string) {
	t.Helper()
	if r.Status != status {
		t.Errorf("%s: status %s, want %s (evidence %q, err %q)", r.Name, r.Status, status, r.Evidence, r.Err)
	}
	if errPart != "" && !strings.Contains(r.Err, errPart) {
		t.Errorf("%s: error %q does not contain %q", r.Name, r.Err, errPart)
	}
	if errPart == "" && status == StatusPass && r.Err != "" {
		t.Errorf("%s: passing result has error %q", r.Name, r.Err)
	}
}

var (
	demoOnce sync.Once
	demoBin  string
	demoErr  error
)

// startDemoApp builds examples/demoapp once and runs it on a free port,
// returning its base URL on 127.0.0.1.
func startDemoApp(t *testing.T) string {
	t.Helper()
	demoOnce.Do(func() {
		root, err := testenv.FindRepoRoot(".")
		if err != nil {
			demoErr = err
			return
		}
		dir, err := os.MkdirTemp("", "checks-demoapp-")
		if err != nil {
			demoErr = err
			return
		}
		demoBin = filepath.Join(dir, "demoapp")
		cmd := exec.Command("go", "build", "-o", demoBin, "./examples/demoapp")
		cmd.Dir = root
		if out, err := cmd.CombinedOutput(); err != nil {
			demoErr = fmt.Errorf("build demoapp: %v: %s", err, out)
		}
	})
	if demoErr != nil {
		t.Fatal(demoErr)
	}
	port, err := testenv.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(demoBin)
	cmd.Env = append(os.Environ(), fmt.Sprintf("PORT=%d", port), "VERSION=checks")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	base := fmt.Sprintf("http://127.0.0.1:%d", port)
	waitHTTP(t, base+"/health")
	return base
}

func waitHTTP(t *testing.T, url string) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		resp, err := http.Get(url)
		if err == nil {
			resp.Body.Close()
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("%s did not answer within 15s", url)
}

func TestMain(m *testing.M) {
	code := m.Run()
	if demoBin != "" {
		os.RemoveAll(filepath.Dir(demoBin))
	}
	os.Exit(code)
}

// ctxDone is a cancelled context.
func ctxDone() context.Context {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	return ctx
}
