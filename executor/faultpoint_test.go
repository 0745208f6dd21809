//go:build !slipway_faults

package executor

import (
	"os"
	"path/filepath"
	"testing"
)

// TestFaultpointOffInShippedBuild proves that without the slipway_faults
// tag a fault point neither kills nor traces, whatever the environment
// says: this test would die of SIGKILL otherwise.
func TestFaultpointOffInShippedBuild(t *testing.T) {
	trace := filepath.Join(t.TempDir(), "trace")
	t.Setenv("SLIPWAY_FAULT", "after-journal:1")
	t.Setenv("SLIPWAY_FAULT_TRACE", trace)
	if FaultsEnabled {
		t.Fatal("FaultsEnabled in a build without the slipway_faults tag")
	}
	Faultpoint("after-journal:1")
	Faultpoint("#1")
	if _, err := os.Stat(trace); !os.IsNotExist(err) {
		t.Fatalf("a fault point traced in the shipped build: %v", err)
	}
}
