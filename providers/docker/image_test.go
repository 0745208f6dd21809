package docker

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/slipwayhq/slipway/internal/buildctx"
	"github.com/slipwayhq/slipway/internal/testenv"
	"github.com/slipwayhq/slipway/internal/testenv/registry"
	"github.com/slipwayhq/slipway/providers"
)

// TestImages builds an image from a directory, finds it again by its
// context's digest, refuses a context that changed since the plan, pushes
// it to a real registry with htpasswd, reads its digest there, and pulls
// it back by digest after it is gone locally; a wrong password is the
// registry's refusal, with no credential in it.
func TestImages(t *testing.T) {
	d, err := New("")
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	testenv.Require(t, "docker", d.Ping(ctx))

	dir := t.TempDir()
	write := func(name, body string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("Dockerfile", "FROM scratch\nARG NOTE\nLABEL note=$NOTE\nCOPY hello.txt /hello.txt\nCMD [\"/none\"]\n")
	write("hello.txt", "hello "+randHex(t, 4))
	reg, err := registry.Start(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer reg.Stop()
	ref := fmt.Sprintf("%s/i22/provider-%s:v1", reg.Host, randHex(t, 3))
	defer func() { _ = d.Tag(context.Background(), ref, "") }()

	bs := buildctx.Spec{Dir: dir, Dockerfile: "Dockerfile", Args: map[string]string{"NOTE": "n1"}}
	digest, err := buildctx.Digest(bs)
	if err != nil {
		t.Fatal(err)
	}
	if id, err := d.BuiltImage(ctx, digest); id != "" || err != nil {
		t.Fatalf("BuiltImage before a build = %q, %v", id, err)
	}
	spec := providers.BuildSpec{Tag: ref, Context: dir, Dockerfile: "Dockerfile", Args: bs.Args, Digest: digest}
	var lines []string
	id, err := d.Build(ctx, spec, func(l string) { lines = append(lines, l) })
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := d.BuiltImage(ctx, digest); got != id {
		t.Errorf("BuiltImage = %q, built %q", got, id)
	}
	if got, _ := d.ResolveImage(ctx, ref); got != id {
		t.Errorf("the tag names %q, built %q", got, id)
	}
	if !strings.HasPrefix(strings.Join(lines, "\n"), "Step 1/") {
		t.Errorf("build output: %q", lines)
	}

	write("hello.txt", "changed")
	if _, err := d.Build(ctx, spec, nil); err == nil || !strings.Contains(err.Error(), "changed since the plan was made") {
		t.Errorf("a changed context was built: %v", err)
	}
	write("Dockerfile", "FROM scratch\nCOPY missing.txt /\n")
	bad := spec
	bad.Digest, _ = buildctx.Digest(buildctx.Spec{Dir: dir, Dockerfile: "Dockerfile", Args: bs.Args})
	if _, err := d.Build(ctx, bad, nil); err == nil || !strings.Contains(err.Error(), "missing.txt") {
		t.Errorf("a failing build: %v", err)
	}

	pushed, err := reg.Push(ctx, id, ref)
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv("DOCKER_AUTH_CONFIG", fmt.Sprintf(`{"auths": {%q: {"username": %q, "password": %q}}}`, reg.Host, reg.User, reg.Password))
	if got, err := d.RemoteDigest(ctx, ref); got != pushed || err != nil {
		t.Errorf("RemoteDigest = %q, %v; pushed %s", got, err, pushed)
	}
	if got, err := d.RepoDigest(ctx, ref); err != nil || !strings.HasSuffix(got, "@"+pushed) {
		t.Errorf("RepoDigest = %q, %v", got, err)
	}
	if err := d.Tag(ctx, ref, ""); err != nil {
		t.Fatal(err)
	}
	if ok, _ := d.ImageExists(ctx, id); ok {
		t.Fatalf("image %s still here after its only tag went", id)
	}
	var pulled []string
	got, err := d.Pull(ctx, ref, pushed, func(l string) { pulled = append(pulled, l) })
	if err != nil || got != id {
		t.Fatalf("Pull = %q, %v; want %s", got, err, id)
	}
	if now, _ := d.ResolveImage(ctx, ref); now != id {
		t.Errorf("after the pull %s names %q", ref, now)
	}
	if len(pulled) == 0 {
		t.Error("the pull reported no progress")
	}

	t.Setenv("DOCKER_AUTH_CONFIG", fmt.Sprintf(`{"auths": {%q: {"username": %q, "password": "wrong-pw-s3cr3t"}}}`, reg.Host, reg.User))
	_, err = d.RemoteDigest(ctx, ref)
	if err == nil || !strings.Contains(err.Error(), "unauthorized") || strings.Contains(err.Error(), "s3cr3t") {
		t.Errorf("wrong password: %v", err)
	}
	if err := d.Tag(ctx, ref, ""); err != nil {
		t.Fatal(err)
	}
	if _, err := d.Pull(ctx, ref, pushed, nil); err == nil || strings.Contains(err.Error(), "s3cr3t") {
		t.Errorf("pull with a wrong password: %v", err)
	}
}
