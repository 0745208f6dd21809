package testenv

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"time"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/docker/docker/api/types/build"
	"github.com/docker/docker/api/types/image"
	"github.com/docker/docker/client"
)

// TestLabel marks every image and container the test environment makes, so
// a leak can be found with `docker ps -a --filter label=slipway.test=1`.
const TestLabel = "slipway.test"

// demoDir is examples/demoapp relative to the repository root.
const demoDir = "examples/demoapp"

// ErrBadEnv is returned by BuildDemoImage for an environment variable name or
// value a Dockerfile cannot carry.
var ErrBadEnv = errors.New("invalid image environment")

var envName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// NewDockerClient connects to the engine named by the DOCKER_* environment
// variables (default: the local socket), negotiating the API version so that
// older engines work.
func NewDockerClient() (*client.Client, error) {
	cli, err := client.NewClientWithOpts(client.FromEnv, client.WithAPIVersionNegotiation())
	if err != nil {
		return nil, fmt.Errorf("connect to docker: %w", err)
	}
	return cli, nil
}

// DockerAvailable reports, as an error, why the Docker engine cannot be
// used; nil when it answers a ping.
func DockerAvailable(ctx context.Context) error {
	cli, err := NewDockerClient()
	if err != nil {
		return err
	}
	defer cli.Close()
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if _, err := cli.Ping(ctx); err != nil {
		return fmt.Errorf("ping docker: %w", err)
	}
	return nil
}

// BuildDemoImage compiles examples/demoapp statically (CGO_ENABLED=0,
// -trimpath) for the engine's architecture and builds a FROM-scratch image
// tagged tag (e.g. "slipway-demo:v1") through the Docker API, labelled
// slipway.test=1. The image sets VERSION to the tag's part after ':' ("latest"
// when there is none), then every extraEnv entry (which may override
// VERSION), exposes 8080, and has a HEALTHCHECK running `/demoapp
// -healthcheck` every second.
//
// The compiled binary is cached under os.UserCacheDir()/slipway and rebuilt
// when a file of examples/demoapp, go.mod or go.sum is newer than it.
func BuildDemoImage(ctx context.Context, repoRoot, tag string, extraEnv map[string]string) error {
	env := map[string]string{"VERSION": tagVersion(tag)}
	for k, v := range extraEnv {
		env[k] = v
	}
	dockerfile, err := demoDockerfile(env)
	if err != nil {
		return fmt.Errorf("build demo image %q: %w", tag, err)
	}
	cli, err := NewDockerClient()
	if err != nil {
		return fmt.Errorf("build demo image %q: %w", tag, err)
	}
	defer cli.Close()
	sv, err := cli.ServerVersion(ctx)
	if err != nil {
		return fmt.Errorf("build demo image %q: ask docker its platform: %w", tag, err)
	}
	if sv.Os != "linux" {
		return fmt.Errorf("build demo image %q: docker runs %s containers, want linux", tag, sv.Os)
	}
	cache, err := os.UserCacheDir()
	if err != nil {
		return fmt.Errorf("build demo image %q: %w", tag, err)
	}
	bin, _, err := demoBinary(ctx, filepath.Join(cache, "slipway"), repoRoot, sv.Arch)
	if err != nil {
		return fmt.Errorf("build demo image %q: %w", tag, err)
	}
	binary, err := os.ReadFile(bin)
	if err != nil {
		return fmt.Errorf("build demo image %q: %w", tag, err)
	}
	buildCtx, err := tarContext(map[string]tarFile{
		"Dockerfile": {mode: 0o644, data: []byte(dockerfile)},
		"demoapp":    {mode: 0o755, data: binary},
	})
	if err != nil {
		return fmt.Errorf("build demo image %q: %w", tag, err)
	}
	resp, err := cli.ImageBuild(ctx, buildCtx, build.ImageBuildOptions{
		Tags:        []string{tag},
		Labels:      map[string]string{TestLabel: "1"},
		Dockerfile:  "Dockerfile",
		Remove:      true,
		ForceRemove: true,
		Version:     build.BuilderV1,
	})
	if err != nil {
		return fmt.Errorf("build demo image %q: %w", tag, err)
	}
	defer resp.Body.Close()
	if err := readBuildOutput(resp.Body); err != nil {
		return fmt.Errorf("build demo image %q: %w", tag, err)
	}
	return nil
}

// RemoveImage removes the image tagged tag, forcibly; an image that does not
// exist is not an error.
func RemoveImage(ctx context.Context, tag string) error {
	cli, err := NewDockerClient()
	if err != nil {
		return fmt.Errorf("remove image %q: %w", tag, err)
	}
	defer cli.Close()
	_, err = cli.ImageRemove(ctx, tag, image.RemoveOptions{Force: true, PruneChildren: true})
	if err != nil && !cerrdefs.IsNotFound(err) {
		return fmt.Errorf("remove image %q: %w", tag, err)
	}
	return nil
}

// tagVersion is the part of an image reference after the tag colon, or
// "latest"; a registry port ("host:5000/app") is not a tag.
func tagVersion(ref string) string {
	i := strings.LastIndex(ref, ":")
	if i < 0 || strings.Contains(ref[i:], "/") {
		return "latest"
	}
	return ref[i+1:]
}

// demoDockerfile renders the demo image's Dockerfile with env in name order.
func demoDockerfile(env map[string]string) (string, error) {
	names := make([]string, 0, len(env))
	for k := range env {
		names = append(names, k)
	}
	sort.Strings(names)
	var b strings.Builder
	b.WriteString("FROM scratch\nCOPY demoapp /demoapp\n")
	for _, k := range names {
		v := env[k]
		if !envName.MatchString(k) {
			return "", fmt.Errorf("%w: name %q", ErrBadEnv, k)
		}
		if strings.ContainsAny(v, "\r\n\x00") {
			return "", fmt.Errorf("%w: value of %s holds a line break or NUL", ErrBadEnv, k)
		}
		// Inside double quotes the builder treats \ as an escape and expands $.
		q := strings.NewReplacer(`\`, `\\`, `"`, `\"`, `$`, `\$`).Replace(v)
		fmt.Fprintf(&b, "ENV %s=\"%s\"\n", k, q)
	}
	b.WriteString("EXPOSE 8080\n")
	b.WriteString(`HEALTHCHECK --interval=1s --timeout=1s CMD ["/demoapp","-healthcheck"]` + "\n")
	b.WriteString(`ENTRYPOINT ["/demoapp"]` + "\n")
	return b.String(), nil
}

// tarFile is one entry of an in-memory build context.
type tarFile struct {
	mode int64
	data []byte
}

// tarContext packs files into a tar stream, in name order.
func tarContext(files map[string]tarFile) (io.Reader, error) {
	names := make([]string, 0, len(files))
	for n := range files {
		names = append(names, n)
	}
	sort.Strings(names)
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, n := range names {
		f := files[n]
		hdr := &tar.Header{Name: n, Mode: f.mode, Size: int64(len(f.data)), Typeflag: tar.TypeReg}
		if err := tw.WriteHeader(hdr); err != nil {
			return nil, fmt.Errorf("pack build context: %w", err)
		}
		if _, err := tw.Write(f.data); err != nil {
			return nil, fmt.Errorf("pack build context: %w", err)
		}
	}
	if err := tw.Close(); err != nil {
		return nil, fmt.Errorf("pack build context: %w", err)
	}
	return &buf, nil
}

// readBuildOutput consumes the engine's JSON message stream and turns an
// error message in it into an error carrying the last lines of output.
func readBuildOutput(r io.Reader) error {
	dec := json.NewDecoder(r)
	var tail []string
	for {
		var msg struct {
			Stream      string `json:"stream"`
			Error       string `json:"error"`
			ErrorDetail *struct {
				Message string `json:"message"`
			} `json:"errorDetail"`
		}
		if err := dec.Decode(&msg); errors.Is(err, io.EOF) {
			return nil
		} else if err != nil {
			return fmt.Errorf("read build output: %w", err)
		}
		if s := strings.TrimSpace(msg.Stream); s != "" {
			tail = append(tail, s)
			if len(tail) > 10 {
				tail = tail[1:]
			}
		}
		if msg.Error != "" || msg.ErrorDetail != nil {
			text := msg.Error
			if text == "" {
				text = msg.ErrorDetail.Message
			}
			return fmt.Errorf("docker build: %s (after: %s)", text, strings.Join(tail, " | "))
		}
	}
}

// demoBinary returns the path of a static linux/goarch demoapp binary built
// from repoRoot, compiling it into cacheDir unless a cached one is newer than
// every source. built reports whether it compiled.
func demoBinary(ctx context.Context, cacheDir, repoRoot, goarch string) (path string, built bool, err error) {
	root, err := filepath.Abs(repoRoot)
	if err != nil {
		return "", false, fmt.Errorf("build demoapp: %w", err)
	}
	sum := sha256.Sum256([]byte(root + "\x00" + goarch))
	path = filepath.Join(cacheDir, "demoapp-linux-"+goarch+"-"+hex.EncodeToString(sum[:6]))
	newest, err := newestSource(root)
	if err != nil {
		return "", false, fmt.Errorf("build demoapp: %w", err)
	}
	if fi, err := os.Stat(path); err == nil && fi.ModTime().After(newest) {
		return path, false, nil
	}
	if err := os.MkdirAll(cacheDir, 0o755); err != nil {
		return "", false, fmt.Errorf("build demoapp: %w", err)
	}
	// Build beside the target and rename, so concurrent builds never expose
	// a half-written binary.
	tmp, err := os.CreateTemp(cacheDir, ".demoapp-*")
	if err != nil {
		return "", false, fmt.Errorf("build demoapp: %w", err)
	}
	tmp.Close()
	defer os.Remove(tmp.Name())
	goBin, err := goTool()
	if err != nil {
		return "", false, fmt.Errorf("build demoapp: %w", err)
	}
	cmd := command(ctx, goBin, "build", "-trimpath", "-ldflags=-s -w", "-o", tmp.Name(), "./"+demoDir)
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH="+goarch)
	if _, err := runOutput(cmd); err != nil {
		return "", false, fmt.Errorf("build demoapp: %w", err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return "", false, fmt.Errorf("build demoapp: %w", err)
	}
	return path, true, nil
}

// newestSource is the latest modification time among the demoapp sources and
// the module files.
func newestSource(root string) (time.Time, error) {
	var newest time.Time
	note := func(fi fs.FileInfo) {
		if fi.ModTime().After(newest) {
			newest = fi.ModTime()
		}
	}
	for _, f := range []string{"go.mod", "go.sum"} {
		if fi, err := os.Stat(filepath.Join(root, f)); err == nil {
			note(fi)
		}
	}
	err := filepath.WalkDir(filepath.Join(root, demoDir), func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		note(fi)
		return nil
	})
	if err != nil {
		return time.Time{}, fmt.Errorf("scan demoapp sources: %w", err)
	}
	return newest, nil
}

// goTool finds the go command: on PATH, else under $GOROOT.
func goTool() (string, error) {
	if p, err := exec.LookPath("go"); err == nil {
		return p, nil
	}
	if gr := os.Getenv("GOROOT"); gr != "" {
		p := filepath.Join(gr, "bin", "go")
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
	}
	return "", errors.New("go command not found on PATH or under $GOROOT")
}

// DemoBinary returns the path of the static demo app binary for the
// engine's architecture (cached as BuildDemoImage caches it), for a test
// that builds an image of its own around it.
func DemoBinary(ctx context.Context, repoRoot string) (string, error) {
	cli, err := NewDockerClient()
	if err != nil {
		return "", err
	}
	defer cli.Close()
	sv, err := cli.ServerVersion(ctx)
	if err != nil {
		return "", fmt.Errorf("ask docker its platform: %w", err)
	}
	cache, err := os.UserCacheDir()
	if err != nil {
		return "", err
	}
	bin, _, err := demoBinary(ctx, filepath.Join(cache, "slipway"), repoRoot, sv.Arch)
	return bin, err
}
