package reliability

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// TestShippedBinaryHasNoFaultPoints builds slipway as `make build` does
// and proves the fault hook is not in it, while the test build has it.
func TestShippedBinaryHasNoFaultPoints(t *testing.T) {
	faults := faultBinary(t)
	shipped := filepath.Join(t.TempDir(), "slipway")
	cmd := exec.Command("go", "build", "-trimpath", "-o", shipped, "./cmd/slipway")
	cmd.Dir = repoRoot
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
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
