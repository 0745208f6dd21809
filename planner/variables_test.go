package planner_test

import (
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/slipwayhq/slipway/planner"
	"github.com/slipwayhq/slipway/state"
)

// TestVariableHMACs checks that a plan names each variable with an HMAC of
// its value, never the value, and that ChangedVariables names exactly the
// variables whose values differ.
func TestVariableHMACs(t *testing.T) {
	src := strings.Replace(serviceHCL(1, ""), `variable "version" {`, `variable "token" {
  type      = string
  sensitive = true
  default   = "s3cr3t-token-value"
}

variable "replicas" {
  type    = number
  default = 1
}

variable "version" {`, 1)
	v1 := mustPlan(t, testOpts(), load(t, src), state.New("shop", ""), world(state.New("shop", "")))
	if got := slices.Sorted(maps.Keys(v1.Variables)); !slices.Equal(got, []string{"replicas", "token", "version"}) {
		t.Fatalf("plan variables = %v, want replicas, token, version", got)
	}
	for name, h := range v1.Variables {
		if len(h) != 64 || strings.Contains(h, "s3cr3t") || h == "v1" {
			t.Errorf("variable %s kept %q, want an HMAC", name, h)
		}
	}
	same := planner.VariableHMACs(testOpts().SecretKey, load(t, src))
	if got := planner.ChangedVariables(v1.Variables, same); len(got) != 0 {
		t.Errorf("same values: changed %v", got)
	}
	other := planner.VariableHMACs(testOpts().SecretKey, load(t, src, "version=v2", "token=another-secret"))
	if got := planner.ChangedVariables(v1.Variables, other); !slices.Equal(got, []string{"token", "version"}) {
		t.Errorf("changed = %v, want token, version", got)
	}
	// A number given as 1 or 1.0 is the same value.
	if got := planner.ChangedVariables(v1.Variables, planner.VariableHMACs(testOpts().SecretKey, load(t, src, "replicas=1.0"))); len(got) != 0 {
		t.Errorf("replicas=1.0: changed %v", got)
	}
	// Another key gives other HMACs: they are keyed, not plain hashes.
	if got := planner.ChangedVariables(v1.Variables, planner.VariableHMACs([]byte("another key"), load(t, src))); len(got) != 3 {
		t.Errorf("another key: changed %v, want all three", got)
	}
	// A variable only one side has counts as changed.
	delete(other, "replicas")
	if got := planner.ChangedVariables(v1.Variables, other); !slices.Equal(got, []string{"replicas", "token", "version"}) {
		t.Errorf("missing variable: changed = %v", got)
	}
}
