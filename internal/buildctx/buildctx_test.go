package buildctx

import (
	"archive/tar"
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

func tree(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, body := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func digest(t *testing.T, s Spec) string {
	t.Helper()
	d, err := Digest(s)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// TestDigest changes with what a build sends or asks (a file's content,
// a new file, an argument, the target) and with nothing else (times, an
// ignored file).
func TestDigest(t *testing.T) {
	dir := tree(t, map[string]string{"Dockerfile": "FROM scratch\nCOPY app /app\n", "app": "v1", ".dockerignore": "*.log\nnotes/\n", "notes/a.txt": "x"})
	s := Spec{Dir: dir, Dockerfile: "Dockerfile", Args: map[string]string{"V": "1"}}
	base := digest(t, s)
	if !strings.HasPrefix(base, "sha256:") || len(base) != 71 {
		t.Fatalf("digest %q", base)
	}
	later := time.Now().Add(time.Hour)
	if err := os.Chtimes(filepath.Join(dir, "app"), later, later); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"debug.log", "notes/b.txt"} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte("ignored"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if got := digest(t, s); got != base {
		t.Errorf("a new time or an ignored file changed the digest")
	}
	for name, change := range map[string]func() Spec{
		"content": func() Spec {
			_ = os.WriteFile(filepath.Join(dir, "app"), []byte("v2"), 0o644)
			return s
		},
		"argument": func() Spec { c := s; c.Args = map[string]string{"V": "2"}; return c },
		"target":   func() Spec { c := s; c.Target = "run"; return c },
	} {
		if got := digest(t, change()); got == base {
			t.Errorf("%s: the digest did not change", name)
		}
		_ = os.WriteFile(filepath.Join(dir, "app"), []byte("v1"), 0o644)
	}
}

// TestWrite sends the files .dockerignore keeps, the Dockerfile and
// .dockerignore always, in path order.
func TestWrite(t *testing.T) {
	dir := tree(t, map[string]string{"Dockerfile": "FROM scratch\n", "bin/app": "x", "secret.env": "TOKEN=1", ".dockerignore": "secret.env\nDockerfile\n.dockerignore\n", ".git/HEAD": "ref"})
	if err := os.WriteFile(filepath.Join(dir, ".dockerignore"), []byte("secret.env\n.git\nDockerfile\n.dockerignore\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	d, err := Write(&buf, Spec{Dir: dir, Dockerfile: "Dockerfile"})
	if err != nil {
		t.Fatal(err)
	}
	if d != digest(t, Spec{Dir: dir, Dockerfile: "Dockerfile"}) {
		t.Error("Write and Digest disagree")
	}
	var names []string
	tr := tar.NewReader(&buf)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		names = append(names, h.Name)
	}
	want := []string{".dockerignore", "Dockerfile", "bin/", "bin/app"}
	if !reflect.DeepEqual(names, want) {
		t.Errorf("sent %q, want %q", names, want)
	}
}

// TestNoDockerfile names the Dockerfile missing.
func TestNoDockerfile(t *testing.T) {
	dir := tree(t, map[string]string{"app": "x"})
	_, err := Digest(Spec{Dir: dir, Dockerfile: "Dockerfile"})
	if err == nil || !strings.Contains(err.Error(), "has no Dockerfile Dockerfile") {
		t.Errorf("err = %v", err)
	}
}
