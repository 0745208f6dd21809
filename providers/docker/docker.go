package docker

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/client"

	"github.com/slipwayhq/slipway/internal/redact"
	"github.com/slipwayhq/slipway/providers"
)

// Docker is a providers.Runtime on one Docker engine. It is safe for
// concurrent use. It remembers the sensitive values of the containers it
// starts, and reads the names of sensitive variables back from
// LabelSensitive for containers another process started, so their values
// are masked in every log line and error it returns.
type Docker struct {
	cli   *client.Client
	probe *http.Client

	mu      sync.Mutex
	secrets map[string][]string // container name -> sensitive values from Start
	extra   []string            // values masked everywhere (WithSensitive)

	// freePort picks the host port a new container is pinned to; a test
	// hook (nil: a port the kernel says is free on the host address).
	freePort func(hostIP string) (int, error)
	// credHelper runs a Docker credential helper; a test hook (nil: the
	// docker-credential-NAME program).
	credHelper credentialHelper
}

// portTries is how many host ports Start tries for one container before
// it gives up: another program or container may take a free port between
// the choice and the start.
const portTries = 5

// kernelFreePort returns a TCP port free on hostIP a moment ago, from the
// kernel's ephemeral range, as the engine itself would choose one.
func kernelFreePort(hostIP string) (int, error) {
	l, err := net.Listen("tcp", net.JoinHostPort(hostIP, "0"))
	if err != nil {
		return 0, fmt.Errorf("find a free port on %s: %w", hostIP, err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// Option configures a Docker.
type Option func(*Docker)

// WithSensitive masks the given values in every log line and error the
// runtime returns, whichever container they come from.
func WithSensitive(values ...string) Option {
	return func(d *Docker) { d.extra = append(d.extra, values...) }
}

// New connects to host ("" = DOCKER_HOST or the default socket) with API
// version negotiation. It does not dial until used.
func New(host string, opts ...Option) (*Docker, error) {
	copts := []client.Opt{client.FromEnv, client.WithAPIVersionNegotiation()}
	if host != "" {
		copts = append(copts, client.WithHost(host))
	}
	cli, err := client.NewClientWithOpts(copts...)
	if err != nil {
		return nil, fmt.Errorf("connect to docker %q: %w", host, err)
	}
	d := &Docker{
		cli:     cli,
		secrets: map[string][]string{},
		probe: &http.Client{
			// A redirect is an answer of its own: 3xx is not healthy.
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
			Transport: &http.Transport{
				Proxy:             nil, // probes go straight to the published port
				DisableKeepAlives: true,
			},
		},
	}
	for _, o := range opts {
		o(d)
	}
	return d, nil
}

// Close releases the connection to the engine.
func (d *Docker) Close() error {
	d.probe.CloseIdleConnections()
	return d.cli.Close()
}

// Host returns the engine address the runtime talks to.
func (d *Docker) Host() string { return d.cli.DaemonHost() }

// Ping checks that the engine answers.
func (d *Docker) Ping(ctx context.Context) error {
	if _, err := d.cli.Ping(ctx); err != nil {
		return fmt.Errorf("cannot reach the Docker engine at %s: %w; is dockerd running?", d.cli.DaemonHost(), err)
	}
	return nil
}

// ResolveImage returns the id of the local image ref, or an error wrapping
// providers.ErrImageNotFound. Nothing is pulled.
func (d *Docker) ResolveImage(ctx context.Context, ref string) (string, error) {
	if ref == "" {
		return "", fmt.Errorf("image %q: %w", ref, providers.ErrImageNotFound)
	}
	img, err := d.cli.ImageInspect(ctx, ref)
	if err != nil {
		if cerrdefs.IsNotFound(err) {
			return "", fmt.Errorf("image %q: %w", ref, providers.ErrImageNotFound)
		}
		return "", fmt.Errorf("inspect image %q: %w", ref, err)
	}
	return img.ID, nil
}

// ExposedPorts returns the TCP ports the local image ref declares with
// EXPOSE, sorted and without duplicates; none when it declares none. A
// missing image is an error wrapping providers.ErrImageNotFound.
func (d *Docker) ExposedPorts(ctx context.Context, ref string) ([]int, error) {
	img, err := d.cli.ImageInspect(ctx, ref)
	if err != nil {
		if cerrdefs.IsNotFound(err) {
			return nil, fmt.Errorf("image %q: %w", ref, providers.ErrImageNotFound)
		}
		return nil, fmt.Errorf("inspect image %q: %w", ref, err)
	}
	if img.Config == nil {
		return nil, nil
	}
	return tcpPorts(img.Config.ExposedPorts), nil
}

// tcpPorts returns the TCP ports of an image's ExposedPorts set, whose
// keys are "8080/tcp", "53/udp" or "8080" (TCP), sorted.
func tcpPorts(set map[string]struct{}) []int {
	var out []int
	for k := range set {
		num, proto, _ := strings.Cut(k, "/")
		if proto != "" && proto != "tcp" {
			continue
		}
		if n, err := strconv.Atoi(num); err == nil && n > 0 && n <= 65535 && !slices.Contains(out, n) {
			out = append(out, n)
		}
	}
	slices.Sort(out)
	return out
}

// ImageExists reports whether an image id is still present.
func (d *Docker) ImageExists(ctx context.Context, id string) (bool, error) {
	if id == "" {
		return false, nil
	}
	if _, err := d.cli.ImageInspect(ctx, id); err != nil {
		if cerrdefs.IsNotFound(err) {
			return false, nil
		}
		return false, fmt.Errorf("inspect image %q: %w", id, err)
	}
	return true, nil
}

// Observe lists every container labelled with the project and env, running
// or not; env "" selects the containers of the default environment.
func (d *Docker) Observe(ctx context.Context, project, env string) ([]providers.Container, error) {
	f := filters.NewArgs(
		filters.Arg("label", providers.LabelProject+"="+project),
		filters.Arg("label", providers.LabelEnv+"="+env),
	)
	list, err := d.cli.ContainerList(ctx, container.ListOptions{All: true, Filters: f})
	if err != nil {
		return nil, fmt.Errorf("list containers of project %q: %w", project, err)
	}
	out := make([]providers.Container, 0, len(list))
	for _, s := range list {
		// The engine's label filter is the contract; checking again keeps
		// a label-less container out should a filter ever be ignored.
		if s.Labels[providers.LabelProject] != project || s.Labels[providers.LabelEnv] != env {
			continue
		}
		if _, ok := s.Labels[providers.LabelEnv]; !ok {
			continue
		}
		// The restart policy, count and exit code are not in the list, and
		// a container restarting in a loop changes state between the list
		// and an inspection: its state comes from the inspection too, so
		// that state and exit code agree.
		in, err := d.cli.ContainerInspect(ctx, s.ID)
		switch {
		case cerrdefs.IsNotFound(err):
			continue // removed since the list
		case err != nil:
			return nil, fmt.Errorf("inspect container %q of project %q: %w", strings.TrimPrefix(firstName(s.Names), "/"), project, err)
		}
		out = append(out, fromInspect(in, 0))
	}
	return out, nil
}

// firstName is the first of a listed container's names, "" when none.
func firstName(names []string) string {
	if len(names) == 0 {
		return ""
	}
	return names[0]
}

// Start creates (if absent) and starts a container, returning it with its
// published address. An existing container with the spec's name is started
// if stopped and returned when its identity labels and image match the
// spec; otherwise Start fails with ErrConflict. A container it creates but
// cannot start is removed again. A missing image is an error wrapping
// providers.ErrImageNotFound that names the image.
//
// A new container's port is pinned to a host port that is free when it is
// created (LabelHostPort records it), so that a restart by its restart
// policy, or by a later Start, keeps its address: the engine would give
// an ephemeral port a new number at every start. When the engine cannot
// bind it ("port is already allocated", "address already in use"), the
// container is removed and created again on another port, up to
// portTries times.
func (d *Docker) Start(ctx context.Context, spec providers.ContainerSpec) (providers.Container, error) {
	ref := spec.ImageID
	if ref == "" {
		ref = spec.Image
	}
	imageID, err := d.ResolveImage(ctx, ref)
	if err != nil {
		if errors.Is(err, providers.ErrImageNotFound) {
			return providers.Container{}, fmt.Errorf("start container %q: image %q (id %q): %w", spec.Name, spec.Image, spec.ImageID, providers.ErrImageNotFound)
		}
		return providers.Container{}, fmt.Errorf("start container %q: %w", spec.Name, err)
	}
	if _, _, _, err := createConfig(spec, imageID, 0); err != nil {
		return providers.Container{}, fmt.Errorf("start container %q: %w", spec.Name, err)
	}
	d.remember(spec.Name, sensitiveSpecValues(spec.Vars))

	in, err := d.cli.ContainerInspect(ctx, spec.Name)
	switch {
	case err == nil:
		return d.startExisting(ctx, spec, imageID, in)
	case !cerrdefs.IsNotFound(err):
		return providers.Container{}, fmt.Errorf("start container %q: %w", spec.Name, err)
	}

	pick := d.freePort
	if pick == nil {
		pick = kernelFreePort
	}
	for try := 1; ; try++ {
		hostPort := 0
		if spec.Port > 0 {
			if hostPort, err = pick(hostIPOf(spec)); err != nil {
				return providers.Container{}, fmt.Errorf("start container %q: %w", spec.Name, err)
			}
		}
		cfg, hostCfg, netCfg, err := createConfig(spec, imageID, hostPort)
		if err != nil {
			return providers.Container{}, fmt.Errorf("start container %q: %w", spec.Name, err)
		}
		created, err := d.cli.ContainerCreate(ctx, cfg, hostCfg, netCfg, nil, spec.Name)
		if err != nil {
			if cerrdefs.IsConflict(err) {
				// Created meanwhile by a concurrent Start: treat as existing.
				if in, ierr := d.cli.ContainerInspect(ctx, spec.Name); ierr == nil {
					return d.startExisting(ctx, spec, imageID, in)
				}
			}
			return providers.Container{}, fmt.Errorf("start container %q: create: %w", spec.Name, err)
		}
		err = d.connectAndStart(ctx, spec, created.ID)
		if err == nil {
			return d.inspect(ctx, spec.Name, spec.Port)
		}
		// Leave nothing half made; the context may be the reason we failed.
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		_ = d.cli.ContainerRemove(rctx, created.ID, container.RemoveOptions{Force: true, RemoveVolumes: true})
		cancel()
		if !portTaken(err) || try >= portTries || ctx.Err() != nil {
			if portTaken(err) {
				err = fmt.Errorf("%w (tried %d host ports)", err, try)
			}
			return providers.Container{}, fmt.Errorf("start container %q: %w", spec.Name, err)
		}
	}
}

// connectAndStart joins the networks beyond the first and starts a new
// container.
func (d *Docker) connectAndStart(ctx context.Context, spec providers.ContainerSpec, id string) error {
	for _, n := range spec.Networks[min(1, len(spec.Networks)):] {
		if err := d.cli.NetworkConnect(ctx, n, id, endpoint(spec)); err != nil {
			return fmt.Errorf("connect network %q: %w", n, err)
		}
	}
	if err := d.cli.ContainerStart(ctx, id, container.StartOptions{}); err != nil {
		return fmt.Errorf("start: %w", err)
	}
	return nil
}

// startExisting checks that an existing container is the one spec
// describes and starts it if it is not running.
func (d *Docker) startExisting(ctx context.Context, spec providers.ContainerSpec, imageID string, in container.InspectResponse) (providers.Container, error) {
	var labels map[string]string
	if in.Config != nil {
		labels = in.Config.Labels
	}
	if why := labelMismatch(specLabels(spec), labels); why != "" {
		return providers.Container{}, fmt.Errorf("start container %q: %w: %s", spec.Name, ErrConflict, why)
	}
	if in.Image != imageID {
		return providers.Container{}, fmt.Errorf("start container %q: %w: image is %s, want %s", spec.Name, ErrConflict, in.Image, imageID)
	}
	if in.State == nil || !in.State.Running {
		if err := d.cli.ContainerStart(ctx, in.ID, container.StartOptions{}); err != nil {
			if portTaken(err) {
				return providers.Container{}, fmt.Errorf("start container %q: its pinned host port is taken: %w; remove it ('docker rm %s') so that the next 'slipway apply' creates it on another port", spec.Name, err, spec.Name)
			}
			return providers.Container{}, fmt.Errorf("start container %q: %w", spec.Name, err)
		}
	}
	return d.inspect(ctx, spec.Name, spec.Port)
}

// UpdateRestart sets the restart policy of an existing container in place
// (docker update --restart). It implements providers.RestartUpdater.
func (d *Docker) UpdateRestart(ctx context.Context, name, policy string) error {
	p, err := restartPolicy(policy)
	if err != nil {
		return fmt.Errorf("update restart policy of container %q: %w: %w", name, ErrInvalidSpec, err)
	}
	if _, err := d.cli.ContainerUpdate(ctx, name, container.UpdateConfig{RestartPolicy: p}); err != nil {
		if cerrdefs.IsNotFound(err) {
			return fmt.Errorf("update restart policy of container %q: %w", name, providers.ErrNotFound)
		}
		return fmt.Errorf("update restart policy of container %q: %w", name, err)
	}
	return nil
}

// inspect returns a container by name; a missing one wraps
// providers.ErrNotFound.
func (d *Docker) inspect(ctx context.Context, name string, port int) (providers.Container, error) {
	in, err := d.cli.ContainerInspect(ctx, name)
	if err != nil {
		if cerrdefs.IsNotFound(err) {
			return providers.Container{}, fmt.Errorf("inspect container %q: %w", name, providers.ErrNotFound)
		}
		return providers.Container{}, fmt.Errorf("inspect container %q: %w", name, err)
	}
	return fromInspect(in, port), nil
}

// Stop stops a container gracefully: SIGTERM (or the image's stop signal),
// then SIGKILL after timeout. A zero timeout uses the container's own stop
// timeout. Stopping a missing or stopped container succeeds.
func (d *Docker) Stop(ctx context.Context, name string, timeout time.Duration) error {
	err := d.cli.ContainerStop(ctx, name, container.StopOptions{Timeout: stopSeconds(timeout)})
	if err != nil && !cerrdefs.IsNotFound(err) {
		return fmt.Errorf("stop container %q: %w", name, err)
	}
	return nil
}

// Remove removes a container, killing it first if it runs, with its
// anonymous volumes. Removing a missing container succeeds.
func (d *Docker) Remove(ctx context.Context, name string) error {
	err := d.cli.ContainerRemove(ctx, name, container.RemoveOptions{Force: true, RemoveVolumes: true})
	if err != nil && !cerrdefs.IsNotFound(err) {
		// Removal already in progress counts as removed.
		if !strings.Contains(err.Error(), "already in progress") {
			return fmt.Errorf("remove container %q: %w", name, err)
		}
	}
	d.mu.Lock()
	delete(d.secrets, name)
	d.mu.Unlock()
	return nil
}

// remember keeps the sensitive values of a container started here.
func (d *Docker) remember(name string, values []string) {
	if len(values) == 0 {
		return
	}
	d.mu.Lock()
	d.secrets[name] = values
	d.mu.Unlock()
}

// maskerFor returns the masker for a container: values remembered from
// Start, values of the variables its LabelSensitive names (when inspected),
// and the values given by WithSensitive, by the rule of internal/redact.
func (d *Docker) maskerFor(name string, in *container.InspectResponse) redact.Masker {
	d.mu.Lock()
	values := append(append([]string{}, d.secrets[name]...), d.extra...)
	d.mu.Unlock()
	if in != nil && in.Config != nil {
		values = append(values, sensitiveValues(in.Config.Env, splitLabelList(in.Config.Labels[LabelSensitive]))...)
	}
	return redact.New(values...)
}

var (
	_ providers.Runtime        = (*Docker)(nil)
	_ providers.ImagePorts     = (*Docker)(nil)
	_ providers.RestartUpdater = (*Docker)(nil)
)

var (
	_ providers.Runtime        = (*Docker)(nil)
	_ providers.Pinger         = (*Docker)(nil)
	_ providers.ImagePorts     = (*Docker)(nil)
	_ providers.RestartUpdater = (*Docker)(nil)
)
