package docker

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"strconv"
	"strings"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/pkg/stdcopy"

	"github.com/slipwayhq/slipway/providers"
)

// maxLogBytes bounds how much log output one Logs call reads.
const maxLogBytes = 4 << 20

// Logs returns the last n log lines of a container, stdout and stderr
// interleaved as written, sensitive values masked. A missing container is
// an error wrapping providers.ErrNotFound; n <= 0 returns nothing.
func (d *Docker) Logs(ctx context.Context, name string, n int) ([]string, error) {
	if n <= 0 {
		return nil, nil
	}
	in, err := d.cli.ContainerInspect(ctx, name)
	if err != nil {
		if cerrdefs.IsNotFound(err) {
			return nil, fmt.Errorf("read logs of container %q: %w", name, providers.ErrNotFound)
		}
		return nil, fmt.Errorf("read logs of container %q: %w", name, err)
	}
	m := d.maskerFor(name, &in)
	rc, err := d.cli.ContainerLogs(ctx, in.ID, container.LogsOptions{
		ShowStdout: true,
		ShowStderr: true,
		Tail:       strconv.Itoa(n),
	})
	if err != nil {
		return nil, fmt.Errorf("read logs of container %q: %w", name, err)
	}
	defer rc.Close()
	var buf bytes.Buffer
	r := io.LimitReader(rc, maxLogBytes)
	if in.Config != nil && in.Config.Tty {
		_, err = io.Copy(&buf, r)
	} else {
		_, err = stdcopy.StdCopy(&buf, &buf, r)
	}
	if err != nil {
		return nil, fmt.Errorf("read logs of container %q: %s", name, m.Mask(err.Error()))
	}
	return m.Lines(lastLines(buf.String(), n)), nil
}

// lastLines splits text into lines without their terminators and returns
// the last n.
func lastLines(text string, n int) []string {
	text = strings.TrimRight(text, "\r\n")
	if text == "" || n <= 0 {
		return nil
	}
	lines := strings.Split(text, "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	for i, l := range lines {
		lines[i] = strings.TrimSuffix(l, "\r")
	}
	return lines
}
