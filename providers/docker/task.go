package docker

import (
	"context"
	"errors"
	"fmt"
	"time"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/docker/docker/api/types/container"

	"github.com/slipwayhq/slipway/providers"
)

// ErrTaskFailed is returned by RunTask when the task exits with a status
// other than 0.
var ErrTaskFailed = errors.New("task failed")

// TaskResult is how a one-off task container ended; Logs holds the last
// HealthLogLines lines, sensitive values masked.
type TaskResult = providers.TaskResult

// cleanupGrace bounds removing a task container after its context ended.
const cleanupGrace = 10 * time.Second

// RunTask runs spec's command once in a new container from spec's pinned
// image (the way an app runs its own migrations: `manage.py migrate`), waits
// for it to exit, and removes it. Nothing is published and the container is
// never restarted; env, volumes, networks, extra hosts and limits apply as
// for Start. A container left with the same name by an interrupted run of
// the same task (same identity labels) is removed first; one belonging to
// something else is ErrConflict. A non-zero exit is an error wrapping
// ErrTaskFailed, with the result still filled in. When ctx ends first, the
// container is killed and removed and ctx's error returned.
func (d *Docker) RunTask(ctx context.Context, spec providers.ContainerSpec) (TaskResult, error) {
	spec.Port = 0
	spec.Restart = ""
	ref := spec.ImageID
	if ref == "" {
		ref = spec.Image
	}
	imageID, err := d.ResolveImage(ctx, ref)
	if err != nil {
		if errors.Is(err, providers.ErrImageNotFound) {
			return TaskResult{}, fmt.Errorf("run task %q: image %q (id %q): %w", spec.Name, spec.Image, spec.ImageID, providers.ErrImageNotFound)
		}
		return TaskResult{}, fmt.Errorf("run task %q: %w", spec.Name, err)
	}
	cfg, hostCfg, netCfg, err := createConfig(spec, imageID, 0)
	if err != nil {
		return TaskResult{}, fmt.Errorf("run task %q: %w", spec.Name, err)
	}
	d.remember(spec.Name, sensitiveSpecValues(spec.Vars))

	if in, err := d.cli.ContainerInspect(ctx, spec.Name); err == nil {
		var labels map[string]string
		if in.Config != nil {
			labels = in.Config.Labels
		}
		if why := labelMismatch(specLabels(spec), labels); why != "" {
			return TaskResult{}, fmt.Errorf("run task %q: %w: %s", spec.Name, ErrConflict, why)
		}
		if err := d.cli.ContainerRemove(ctx, in.ID, container.RemoveOptions{Force: true, RemoveVolumes: true}); err != nil {
			return TaskResult{}, fmt.Errorf("run task %q: remove the leftover of an earlier run: %w", spec.Name, err)
		}
	} else if !cerrdefs.IsNotFound(err) {
		return TaskResult{}, fmt.Errorf("run task %q: %w", spec.Name, err)
	}

	created, err := d.cli.ContainerCreate(ctx, cfg, hostCfg, netCfg, nil, spec.Name)
	if err != nil {
		return TaskResult{}, fmt.Errorf("run task %q: create: %w", spec.Name, err)
	}
	defer func() {
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cleanupGrace)
		defer cancel()
		_ = d.cli.ContainerRemove(rctx, created.ID, container.RemoveOptions{Force: true, RemoveVolumes: true})
		d.mu.Lock()
		delete(d.secrets, spec.Name)
		d.mu.Unlock()
	}()

	// Wait before starting, so an exit right after start is not missed.
	waitC, errC := d.cli.ContainerWait(ctx, created.ID, container.WaitConditionNextExit)
	if err := d.connectAndStart(ctx, spec, created.ID); err != nil {
		return TaskResult{}, fmt.Errorf("run task %q: %w", spec.Name, err)
	}
	var res TaskResult
	select {
	case w := <-waitC:
		if w.Error != nil && w.Error.Message != "" {
			return TaskResult{}, fmt.Errorf("run task %q: wait: %s", spec.Name, w.Error.Message)
		}
		res.ExitCode = int(w.StatusCode)
	case err := <-errC:
		if ctx.Err() != nil {
			return TaskResult{}, fmt.Errorf("run task %q: %w", spec.Name, ctx.Err())
		}
		return TaskResult{}, fmt.Errorf("run task %q: wait: %w", spec.Name, err)
	}
	lctx, cancel := context.WithTimeout(ctx, logGrace)
	defer cancel()
	logs, err := d.Logs(lctx, spec.Name, HealthLogLines)
	if err != nil {
		logs = []string{"(logs unavailable: " + err.Error() + ")"}
	}
	res.Logs = logs
	if res.ExitCode != 0 {
		return res, fmt.Errorf("run task %q: %w: exited with code %d", spec.Name, ErrTaskFailed, res.ExitCode)
	}
	return res, nil
}

var _ providers.TaskRunner = (*Docker)(nil)
