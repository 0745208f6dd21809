package main

import (
	"context"
	"encoding/base64"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/docker/docker/api/types/image"
	"github.com/rogpeppe/go-internal/testscript"
	"github.com/slipwayhq/slipway/internal/testenv"
	"github.com/slipwayhq/slipway/internal/testenv/registry"
)

var registries sync.Map // script work dir -> *registry.Registry

// registry start runs the CNCF distribution registry in the test process
// on a loopback port with one htpasswd account, and sets REGISTRY
// (127.0.0.1:PORT), REGISTRY_USER, REGISTRY_PASSWORD and REGISTRY_AUTH
// (base64 of user:password, as config.json's auth). When the script ends
// it stops, and every local image of it is removed. registry push SRC REF
// VAR pushes the local image SRC as REF and sets VAR to its digest.
func cmdRegistry(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) == 0 {
		ts.Fatalf("usage: registry start | registry push SRC REF VAR")
	}
	key := ts.MkAbs(".")
	switch {
	case args[0] == "start" && len(args) == 1:
		dir := ts.MkAbs("registry")
		ts.Check(os.MkdirAll(dir, 0o700))
		r, err := registry.Start(dir)
		ts.Check(err)
		registries.Store(key, r)
		project := ts.Getenv("PROJECT")
		ts.Defer(func() {
			// The containers go first: an image a container uses would
			// only lose its tag.
			removeProject(project)
			removeImagesOf(r.Host)
			_ = r.Stop()
		})
		ts.Setenv("REGISTRY", r.Host)
		ts.Setenv("REGISTRY_USER", r.User)
		ts.Setenv("REGISTRY_PASSWORD", r.Password)
		ts.Setenv("REGISTRY_AUTH", base64.StdEncoding.EncodeToString([]byte(r.User+":"+r.Password)))
	case args[0] == "push" && len(args) == 4:
		v, ok := registries.Load(key)
		if !ok {
			ts.Fatalf("registry push: no registry was started")
		}
		r := v.(*registry.Registry)
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		digest, err := r.Push(ctx, args[1], args[2])
		ts.Check(err)
		ts.Setenv(args[3], digest)
	default:
		ts.Fatalf("usage: registry start | registry push SRC REF VAR")
	}
}

// removeImagesOf removes every local image with a tag or digest of the
// registry host.
func removeImagesOf(host string) {
	cli, err := testenv.NewDockerClient()
	if err != nil {
		return
	}
	defer cli.Close()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	list, err := cli.ImageList(ctx, image.ListOptions{All: true})
	if err != nil {
		return
	}
	for _, img := range list {
		for _, ref := range append(append([]string(nil), img.RepoTags...), img.RepoDigests...) {
			if strings.HasPrefix(ref, host+"/") {
				_, _ = cli.ImageRemove(ctx, img.ID, image.RemoveOptions{Force: true, PruneChildren: true})
				break
			}
		}
	}
}

// demobinary DIR puts the static demo app binary at DIR/demoapp, for a
// Dockerfile FROM scratch.
func cmdDemoBinary(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: demobinary DIR")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	bin, err := testenv.DemoBinary(ctx, ts.Getenv("REPO"))
	ts.Check(err)
	b, err := os.ReadFile(bin)
	ts.Check(err)
	dir := ts.MkAbs(args[0])
	ts.Check(os.MkdirAll(dir, 0o755))
	ts.Check(os.WriteFile(filepath.Join(dir, "demoapp"), b, 0o755))
}

// imageid REF VAR sets VAR to the id of the local image REF, and removes
// that image when the script ends (after its containers): a tag moved
// by a later build leaves it nameless.
func cmdImageID(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 2 {
		ts.Fatalf("usage: imageid REF VAR")
	}
	cli, err := testenv.NewDockerClient()
	ts.Check(err)
	img, err := cli.ImageInspect(context.Background(), args[0])
	ts.Check(err)
	ts.Setenv(args[1], img.ID)
	project, id := ts.Getenv("PROJECT"), img.ID
	ts.Defer(func() {
		removeProject(project)
		_, _ = cli.ImageRemove(context.Background(), id, image.RemoveOptions{Force: true, PruneChildren: true})
		cli.Close()
	})
}
