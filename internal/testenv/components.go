package testenv

import (
	"fmt"
	"os"
	"os/exec"
	"slices"
	"testing"
)

// Components names every program or service a test may require: the names
// tests pass to Require and RequireProgram, and the script tests' conditions.
// scripts/deps.sh installs each of them (or names the package) and prints the
// same list with --list; TestDepsListsEveryComponent fails when the two
// differ or when a test requires a name that is not here, so a fresh CI
// machine never lacks what a test needs.
var Components = []string{
	"docker",
	"nginx",
	"nginx-lua",
	"postgres",
	"prometheus",
	"redis-server",
	"git",
	"curl",
	"runuser",
	"pgrep",
}

// Known reports whether name is one of Components.
func Known(name string) bool {
	return slices.Contains(Components, name)
}

// Require skips t when err says a component is unavailable, or fails it when
// the environment variable CI is "true": CI machines must have every
// component. It does nothing when err is nil. A component missing from
// Components fails the test whatever err is: add it there and to
// scripts/deps.sh.
func Require(t testing.TB, component string, err error) {
	t.Helper()
	if !Known(component) {
		t.Fatalf("testenv: component %q is not in testenv.Components: add it there and to scripts/deps.sh", component)
	}
	if err == nil {
		return
	}
	if os.Getenv("CI") == "true" {
		t.Fatalf("%s is required under CI=true: %v (run 'make deps')", component, err)
	}
	t.Skipf("%s unavailable: %v (run 'make deps')", component, err)
}

// RequireProgram is Require for a program found on PATH; it returns the
// program's path.
func RequireProgram(t testing.TB, name string) string {
	t.Helper()
	path, err := exec.LookPath(name)
	if err != nil {
		err = fmt.Errorf("%s not found on PATH", name)
	}
	Require(t, name, err)
	return path
}
