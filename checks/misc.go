package checks

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
)

// nginxSpec is an nginx check: "nginx -t" accepts the configuration.
type nginxSpec struct{}

func parseNginx(*attrs) runFunc { return nginxSpec{}.run }

func (nginxSpec) run(ctx context.Context, env *Env) (string, error) {
	if env.NginxTest == nil {
		return "", fmt.Errorf("%w: the configuration has no nginx block", ErrUnavailable)
	}
	out, err := env.NginxTest(ctx)
	if err != nil {
		return lastLines(out, tailLines), fmt.Errorf("nginx -t rejected the configuration: %w", err)
	}
	return lastLines(out, 1), nil
}

// containerSpec is a container check: at least min_running (default 1) of
// the service's containers run, and none that runs is unhealthy or still
// starting (per the image's HEALTHCHECK; a container without one counts as
// healthy once running). Stopped containers kept for rollback do not
// count.
type containerSpec struct {
	service    string
	minRunning int
}

func parseContainer(a *attrs) runFunc {
	s := containerSpec{service: a.str("service", true), minRunning: a.integer("min_running", 1)}
	if s.minRunning < 0 {
		a.errorf("min_running", "must not be negative")
	}
	return s.run
}

func (s containerSpec) run(ctx context.Context, env *Env) (string, error) {
	if env.Runtime == nil {
		return "", fmt.Errorf("%w: no container runtime in this run", ErrUnavailable)
	}
	cs, err := env.Runtime.Observe(ctx, env.Project, env.StateEnv)
	if err != nil {
		return "", fmt.Errorf("observe containers of %q: %w", s.service, err)
	}
	var running, stopped, bad []string
	for _, c := range cs {
		if c.Service != s.service {
			continue
		}
		if !c.Running() {
			stopped = append(stopped, c.Name)
			continue
		}
		switch c.Health {
		case "", "healthy":
			running = append(running, c.Name)
		default:
			bad = append(bad, c.Name+" ("+c.Health+")")
		}
	}
	sort.Strings(running)
	sort.Strings(bad)
	ev := fmt.Sprintf("service %s: %d running and healthy, %d not healthy, %d stopped", s.service, len(running), len(bad), len(stopped))
	if len(running) > 0 {
		ev += ": " + strings.Join(running, ", ")
	}
	var errs []error
	if len(bad) > 0 {
		errs = append(errs, fmt.Errorf("containers not healthy: %s", strings.Join(bad, ", ")))
	}
	if len(running) < s.minRunning {
		errs = append(errs, fmt.Errorf("%d healthy containers running, want at least %d", len(running), s.minRunning))
	}
	return ev, errors.Join(errs...)
}

// assertSpec is an assert check: condition, evaluated when the
// configuration loads, is true; otherwise the check fails with
// error_message.
type assertSpec struct {
	condition, known bool
	message          string
}

func parseAssert(a *attrs) runFunc {
	s := assertSpec{message: a.str("error_message", true)}
	v, set := a.m["condition"]
	switch {
	case !set:
		a.errorf("condition", "is required")
	default:
		s.condition, s.known = boolValue(v)
		if !s.known {
			a.errorf("condition", "must be true or false")
		}
	}
	return s.run
}

func (s assertSpec) run(context.Context, *Env) (string, error) {
	if !s.condition {
		return "condition is false", errors.New(s.message)
	}
	return "condition is true", nil
}
