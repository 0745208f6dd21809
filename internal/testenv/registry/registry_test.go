package registry

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/docker/docker/api/types/image"
	"github.com/docker/docker/client"
	"github.com/slipwayhq/slipway/internal/testenv"
)

// TestPushAndPull: the engine pushes to the registry with its account,
// pulls back by digest, and a wrong password is refused.
func TestPushAndPull(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	if err := testenv.DockerAvailable(ctx); err != nil {
		t.Skip(err)
	}
	r, err := Start(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer r.Stop()
	local := "slipway-i22-registry-test:v1"
	if err := testenv.BuildDemoImage(ctx, "../../..", local, nil); err != nil {
		t.Fatal(err)
	}
	ref := r.Host + "/i22/reg:v1"
	defer testenv.RemoveImage(context.Background(), local)
	defer testenv.RemoveImage(context.Background(), ref)
	digest, err := r.Push(ctx, local, ref)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(digest, "sha256:") {
		t.Fatalf("digest %q", digest)
	}
	cli, err := client.NewClientWithOpts(client.FromEnv, client.WithAPIVersionNegotiation())
	if err != nil {
		t.Fatal(err)
	}
	defer cli.Close()
	di, err := cli.DistributionInspect(ctx, ref, r.Auth(false))
	if err != nil {
		t.Fatal(err)
	}
	if string(di.Descriptor.Digest) != digest {
		t.Errorf("distribution inspect %s, pushed %s", di.Descriptor.Digest, digest)
	}
	if _, err := cli.DistributionInspect(ctx, ref, r.Auth(true)); err == nil {
		t.Error("a wrong password was accepted")
	} else {
		t.Logf("wrong password: %v", err)
	}
	if _, err := cli.DistributionInspect(ctx, ref, ""); err == nil {
		t.Error("no credentials were accepted")
	} else {
		t.Logf("no credentials: %v", err)
	}
	if _, err := cli.DistributionInspect(ctx, r.Host+"/i22/reg:nope", r.Auth(false)); err == nil {
		t.Error("a missing tag was found")
	} else {
		t.Logf("missing tag: %v", err)
	}
	_, _ = cli.ImageRemove(ctx, ref, image.RemoveOptions{})
	rc, err := cli.ImagePull(ctx, r.Host+"/i22/reg@"+digest, image.PullOptions{RegistryAuth: r.Auth(false)})
	if err != nil {
		t.Fatal(err)
	}
	rc.Close()
}
