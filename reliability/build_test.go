package reliability

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/slipwayhq/slipway/providers/fake"
)

var (
	shippedOnce sync.Once
	shippedBin  string
	shippedErr  error
)

// shippedBinary builds slipway as `make build` does, once per test binary,
// and returns its path.
func shippedBinary(t *testing.T) string {
	t.Helper()
	faultBinary(t) // finds repoRoot
	shippedOnce.Do(func() {
		dir, err := os.MkdirTemp("", "slipway-shipped-")
		if err != nil {
			shippedErr = err
			return
		}
		shippedBin = filepath.Join(dir, "slipway")
		cmd := exec.Command("go", "build", "-trimpath", "-o", shippedBin, "./cmd/slipway")
		cmd.Dir = repoRoot
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := cmd.CombinedOutput(); err != nil {
			shippedErr = err
			shippedBin = string(out)
		}
	})
	if shippedErr != nil {
		t.Fatalf("build: %v\n%s", shippedErr, shippedBin)
	}
	return shippedBin
}

// TestShippedBinaryHasNoFaultPoints builds slipway as `make build` does
// and proves the fault hook is not in it, while the test build has it.
func TestShippedBinaryHasNoFaultPoints(t *testing.T) {
	faults := faultBinary(t)
	shipped := shippedBinary(t)
	for _, c := range []struct {
		path string
		want bool
	}{{faults, true}, {shipped, false}} {
		b, err := os.ReadFile(c.path)
		if err != nil {
			t.Fatal(err)
		}
		if got := bytes.Contains(b, []byte("SLIPWAY_FAULT_TRACE")); got != c.want {
			t.Fatalf("%s holds the fault hook: %v, want %v", c.path, got, c.want)
		}
	}
}

// fakeWorldEnv is the variable with which cmd/slipway's test binary
// runs a script on a fake world (its script_test.go).
const fakeWorldEnv = "SLIPWAY_TEST_WORLD"

// TestShippedBinaryHasNoFakeWorld builds slipway as `make build` does and
// proves it ignores the fake world the test binary of cmd/slipway runs
// scripts on: the variable is nowhere in it, and given a fake world that
// holds the image the configuration names, it still asks the Docker
// engine (here, one that is not there) and says so.
func TestShippedBinaryHasNoFakeWorld(t *testing.T) {
	shipped := shippedBinary(t)
	b, err := os.ReadFile(shipped)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(b, []byte(fakeWorldEnv)) {
		t.Fatalf("%s names %s", shipped, fakeWorldEnv)
	}
	dir := t.TempDir()
	cfg := "project \"shop\" {}\n\nservice \"web\" {\n  image = \"slipway-demo:v1\"\n  port  = 8080\n}\n"
	if err := os.WriteFile(filepath.Join(dir, "main.hcl"), []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	world := filepath.Join(dir, "world.json")
	w, err := fake.Open(world)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.AddImage("slipway-demo:v1"); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(shipped, "-chdir", dir, "plan")
	cmd.Env = append(os.Environ(), fakeWorldEnv+"="+world, "DOCKER_HOST=unix://"+filepath.Join(dir, "no-docker.sock"), "NO_COLOR=1")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	err = cmd.Run()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 1 {
		t.Fatalf("plan = %v, want exit 1; stderr:\n%s", err, stderr.String())
	}
	if !strings.Contains(stderr.String(), "slipway: hint: start the Docker engine") {
		t.Fatalf("plan did not ask the Docker engine; stderr:\n%s", stderr.String())
	}
}

// TestShippedBinaryHasNoRegistry: the CNCF distribution registry the
// tests pull from (internal/testenv/registry) is large and test-only;
// nothing the shipped binary imports may bring it in.
func TestShippedBinaryHasNoRegistry(t *testing.T) {
	shipped := shippedBinary(t)
	out, err := exec.Command("go", "version", "-m", shipped).Output()
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(out), "github.com/distribution/distribution") {
		t.Fatalf("%s links the registry:\n%s", shipped, out)
	}
}
