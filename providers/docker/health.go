package docker

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/docker/docker/api/types/container"

	"github.com/slipwayhq/slipway/providers"
)

// Defaults for the zero fields of a providers.HealthSpec.
const (
	// DefaultHealthInterval is the time between probes.
	DefaultHealthInterval = time.Second
	// DefaultHealthTimeout bounds one probe.
	DefaultHealthTimeout = 2 * time.Second
	// DefaultHealthDeadline bounds the whole wait.
	DefaultHealthDeadline = 60 * time.Second
	// DefaultHealthThreshold is the number of consecutive passing probes.
	DefaultHealthThreshold = 1
)

// HealthLogLines is how many of a container's last log lines a
// providers.HealthError carries.
const HealthLogLines = 50

// logGrace bounds reading the logs for a HealthError once the deadline has
// passed, so WaitHealthy returns soon after its deadline even when the
// engine is slow.
const logGrace = 3 * time.Second

// maxProbeBody bounds how much of a probe's response body is read.
const maxProbeBody = 64 << 10

// healthDefaults fills the zero fields of h.
func healthDefaults(h providers.HealthSpec) providers.HealthSpec {
	if h.Interval <= 0 {
		h.Interval = DefaultHealthInterval
	}
	if h.Timeout <= 0 {
		h.Timeout = DefaultHealthTimeout
	}
	if h.Deadline <= 0 {
		h.Deadline = DefaultHealthDeadline
	}
	if h.HealthyThreshold <= 0 {
		h.HealthyThreshold = DefaultHealthThreshold
	}
	if h.Path != "" && !strings.HasPrefix(h.Path, "/") {
		h.Path = "/" + h.Path
	}
	return h
}

// verdict is the outcome of one health probe.
type verdict int

const (
	pass  verdict = iota // counts toward the threshold
	fail                 // resets the streak; try again
	fatal                // cannot become healthy: give up now
)

// WaitHealthy waits until the container passes h: HealthyThreshold
// consecutive passing probes, one every Interval, each bounded by Timeout,
// before Deadline. With h.Path set a probe is GET http://HostAddr+Path and
// passes on a 2xx status (redirects are not followed). With h.Path empty a
// probe reads the image's HEALTHCHECK status: healthy passes, starting
// does not, unhealthy fails at once; an image without a HEALTHCHECK passes
// while it runs. A container that exits fails at once ("exited with code
// N"). Failure is a *providers.HealthError with the container's last
// HealthLogLines log lines, sensitive values masked; it is returned within
// a few seconds of the deadline even when the engine is slow. Cancelling
// ctx returns ctx's error instead.
func (d *Docker) WaitHealthy(ctx context.Context, c providers.Container, h providers.HealthSpec) error {
	h = healthDefaults(h)
	name := c.Name
	if name == "" {
		name = c.ID
	}
	dctx, cancel := context.WithTimeout(ctx, h.Deadline)
	defer cancel()

	addr := c.HostAddr
	streak := 0
	last := "no probe finished"
	var lastIn *container.InspectResponse
	timer := time.NewTimer(0)
	defer timer.Stop()
	for {
		select {
		case <-dctx.Done():
			if ctx.Err() != nil {
				return fmt.Errorf("wait for container %q to become healthy: %w", name, ctx.Err())
			}
			reason := fmt.Sprintf("not healthy within %s: %s (%d of %d consecutive successes)", h.Deadline, last, streak, h.HealthyThreshold)
			return d.healthError(ctx, name, reason, lastIn)
		case <-timer.C:
		}
		v, why, in := d.probe1(dctx, name, &addr, h)
		if in != nil {
			lastIn = in
		}
		switch v {
		case pass:
			streak++
			if streak >= h.HealthyThreshold {
				return nil
			}
		case fatal:
			if ctx.Err() != nil {
				return fmt.Errorf("wait for container %q to become healthy: %w", name, ctx.Err())
			}
			return d.healthError(ctx, name, why, lastIn)
		case fail:
			streak = 0
			if dctx.Err() == nil {
				last = why
			}
		}
		timer.Reset(h.Interval)
	}
}

// probe1 runs one probe of the container. addr is the published address,
// filled in from the engine when empty.
func (d *Docker) probe1(ctx context.Context, name string, addr *string, h providers.HealthSpec) (verdict, string, *container.InspectResponse) {
	tctx, cancel := context.WithTimeout(ctx, h.Timeout)
	defer cancel()
	in, err := d.cli.ContainerInspect(tctx, name)
	if err != nil {
		if cerrdefs.IsNotFound(err) {
			return fatal, "container does not exist", nil
		}
		return fail, "inspect: " + err.Error(), nil
	}
	st := in.State
	switch {
	case st == nil:
		return fail, "engine reported no state", &in
	case st.Restarting:
		return fail, fmt.Sprintf("restarting after exit code %d", st.ExitCode), &in
	case st.Status == container.StateExited || st.Status == container.StateDead:
		return fatal, fmt.Sprintf("exited with code %d", st.ExitCode), &in
	case !st.Running:
		return fail, "not running (" + string(st.Status) + ")", &in
	}

	if h.Path == "" {
		hs := st.Health
		if hs == nil || hs.Status == container.NoHealthcheck || hs.Status == "" {
			return pass, "", &in
		}
		switch hs.Status {
		case container.Healthy:
			return pass, "", &in
		case container.Unhealthy:
			return fatal, "image HEALTHCHECK reports unhealthy" + lastHealthOutput(hs), &in
		}
		return fail, "image HEALTHCHECK " + string(hs.Status) + lastHealthOutput(hs), &in
	}

	if *addr == "" && in.NetworkSettings != nil {
		*addr = publishedAddr(in.NetworkSettings.Ports, 0)
	}
	if *addr == "" {
		return fatal, "no published port to probe " + h.Path + " on", &in
	}
	url := "http://" + *addr + h.Path
	req, err := http.NewRequestWithContext(tctx, http.MethodGet, url, nil)
	if err != nil {
		return fatal, fmt.Sprintf("probe %s: %v", url, err), &in
	}
	resp, err := d.probe.Do(req)
	if err != nil {
		return fail, fmt.Sprintf("GET %s: %v", url, err), &in
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxProbeBody))
	resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return fail, fmt.Sprintf("GET %s: status %d", url, resp.StatusCode), &in
	}
	return pass, "", &in
}

// lastHealthOutput returns ": <output>" of the latest HEALTHCHECK result,
// or "" when there is none.
func lastHealthOutput(hs *container.Health) string {
	if len(hs.Log) == 0 || hs.Log[len(hs.Log)-1] == nil {
		return ""
	}
	out := strings.TrimSpace(hs.Log[len(hs.Log)-1].Output)
	if out == "" {
		return fmt.Sprintf(": exit code %d", hs.Log[len(hs.Log)-1].ExitCode)
	}
	if len(out) > 200 {
		out = out[:200] + "..."
	}
	return ": " + out
}

// healthError builds the HealthError for a container, with its last log
// lines read within logGrace.
func (d *Docker) healthError(ctx context.Context, name, reason string, in *container.InspectResponse) error {
	lctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), logGrace)
	defer cancel()
	logs, err := d.Logs(lctx, name, HealthLogLines)
	m := d.maskerFor(name, in)
	if err != nil {
		logs = []string{"(logs unavailable: " + m.Mask(err.Error()) + ")"}
	}
	return &providers.HealthError{Container: name, Reason: m.Mask(reason), Logs: logs}
}
