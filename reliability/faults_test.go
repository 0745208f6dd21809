package reliability

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

const fullHCL = `project "${PROJECT}" {
  state {
    path = "state"
  }
}
` + routeHCL + `
service "web" {
  image = "slipway-demo:${var.version}"
  port  = 8080
  health {
    interval = "200ms"
  }
  route {
    listen = ${PORT}
  }
  blue_green {}
}
`

// TestStateDirFull puts the state directory on a small tmpfs and fills
// it: an apply then fails at its first write, before it changes anything,
// with an error that says so (exit 1); the state file is byte for byte the
// one before, no temporary file is left, release #1 keeps serving with no
// new container; and once there is room again the next apply runs.
func TestStateDirFull(t *testing.T) {
	w := newWorld(t, fullHCL, worldOpts{})
	dir := filepath.Join(w.dir, "state")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size=512k,mode=0700", "tmpfs", dir).CombinedOutput(); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("mount a tmpfs: %v %s", err, out)
		}
		t.Skipf("cannot mount a tmpfs (needs root): %v %s", err, out)
	}
	t.Cleanup(func() { _ = exec.Command("umount", "-l", dir).Run() })

	w.must(0, "apply", "-auto-approve")
	before, err := os.ReadFile(filepath.Join(dir, "state.json"))
	if err != nil {
		t.Fatal(err)
	}
	names := func() []string {
		es, _ := os.ReadDir(dir)
		var out []string
		for _, e := range es {
			out = append(out, e.Name())
		}
		return out
	}
	entries := names()

	fill := filepath.Join(dir, "fill")
	fillUp(t, fill)
	r := w.run(nil, "apply", "-auto-approve", "-var", "version=v2")
	if r.code != 1 {
		t.Fatalf("want exit 1 on a full state directory:\n%s", r)
	}
	if !strings.Contains(r.stderr, "no space left on device") || !strings.Contains(r.stderr, "slipway: error:") {
		t.Fatalf("the error does not say the disk is full:\n%s", r)
	}
	t.Logf("on a full state directory: %s", strings.TrimSpace(r.stderr))
	if strings.Contains(r.stdout, "Release #2 is live") {
		t.Fatalf("a release claimed success:\n%s", r)
	}
	after, err := os.ReadFile(filepath.Join(dir, "state.json"))
	if err != nil || !bytes.Equal(before, after) {
		t.Fatalf("the state file changed (%v)", err)
	}
	if got := names(); strings.Join(got, " ") != strings.Join(append(entries, "fill"), " ") && !sameSet(got, append(entries, "fill")) {
		t.Fatalf("files left behind in the state directory: %v, before %v", got, entries)
	}
	if got := w.served(5); got["v1"] != 5 {
		t.Fatalf("release #1 does not serve alone: %v", got)
	}
	for _, n := range w.containers() {
		if strings.Contains(n, "-r2-") {
			t.Fatalf("container %s of the failed release is left", n)
		}
	}

	// Room again: the next apply runs, from the state as it was.
	if err := os.Remove(fill); err != nil {
		t.Fatal(err)
	}
	w.must(0, "apply", "-auto-approve", "-var", "version=v2")
	if got := w.served(5); got["v2"] != 5 {
		t.Fatalf("v2 does not serve after space was freed: %v", got)
	}
}

// fillUp writes to path until the file system is full.
func fillUp(t *testing.T, path string) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	buf := make([]byte, 4096)
	for {
		if _, err := f.Write(buf); err != nil {
			if errors.Is(err, syscall.ENOSPC) {
				return
			}
			t.Fatal(err)
		}
	}
}

func sameSet(a, b []string) bool {
	m := map[string]int{}
	for _, s := range a {
		m[s]++
	}
	for _, s := range b {
		m[s]--
	}
	for _, n := range m {
		if n != 0 {
			return false
		}
	}
	return true
}
