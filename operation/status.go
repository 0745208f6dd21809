package operation

import (
	"context"
	"fmt"
	"sort"

	"github.com/slipwayhq/slipway/planner"
	"github.com/slipwayhq/slipway/providers"
	"github.com/slipwayhq/slipway/state"
)

// Status is what runs now: each service of the state with its
// containers, replicas and route, and whether the release is degraded.
type Status struct {
	// Project names the configuration's project, also before any
	// release; State is the state read.
	Project  string
	State    *state.State
	Services []ServiceStatus
	// Degraded names each degraded service and how many of its replicas
	// serve; "" when every replica serves.
	Degraded string
}

// ServiceStatus is one service as status shows it.
type ServiceStatus struct {
	Service string `json:"service"`
	Release int    `json:"release"`
	Image   string `json:"image"`
	// ImageID is the id of the image the release runs; ImageDigest its
	// repository digest, "" for an image built here and never pushed.
	ImageID     string               `json:"image_id,omitempty"`
	ImageDigest string               `json:"image_digest,omitempty"`
	Color       string               `json:"color,omitempty"`
	Weights     map[string]int       `json:"weights,omitempty"`
	Route       *providers.RouteFile `json:"route,omitempty"`
	Switch      string               `json:"switch,omitempty"`
	Live        string               `json:"live_table,omitempty"`
	Replicas    int                  `json:"replicas"`
	Healthy     int                  `json:"healthy"`
	IsDegraded  bool                 `json:"degraded"`
	// Down are the replicas that do not serve, with their last log lines.
	Down       []DownReplica         `json:"down,omitempty"`
	Containers []providers.Container `json:"containers"`
}

// DownReplica is a replica that does not serve.
type DownReplica struct {
	Replica      planner.Replica `json:"-"`
	Name         string          `json:"name"`
	State        string          `json:"state"`
	Health       string          `json:"health,omitempty"`
	ExitCode     int             `json:"exit_code"`
	RestartCount int             `json:"restart_count"`
	Looping      bool            `json:"restart_loop"`
	Logs         []string        `json:"logs,omitempty"`
}

// status reads the state and observes the world.
func (o *run) status(ctx context.Context) (Result, error) {
	if err := o.open(true); err != nil {
		return Result{}, err
	}
	st, err := o.readState()
	if err != nil {
		return Result{}, err
	}
	set, err := o.openWorld()
	if err != nil {
		return Result{}, err
	}
	defer set.Close()
	obs, err := o.observe(ctx, set)
	if err != nil {
		return Result{}, err
	}
	reps := planner.Replicas(st, obs)
	logs := downLogs(ctx, set.Runtime, reps, o.mask)
	byService := map[string]planner.ServiceReplicas{}
	for _, r := range reps {
		byService[r.Service] = r
	}
	s := &Status{Project: o.cfg.Project.Name, State: st}
	if st.Release > 0 {
		s.Degraded = degradedSummary(reps)
	}
	names := make([]string, 0, len(st.Services))
	for n := range st.Services {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		s.Services = append(s.Services, o.serviceStatus(ctx, set.Router, st, obs, n, byService[n], logs))
	}
	return Result{Status: s}, nil
}

// serviceStatus is service n as status shows it.
func (o *run) serviceStatus(ctx context.Context, router providers.Router, st *state.State, obs *providers.Observations, n string, r planner.ServiceReplicas, logs map[string][]string) ServiceStatus {
	svc := st.Services[n]
	ss := ServiceStatus{Service: n, Release: svc.Release, Image: svc.Image, ImageID: svc.ImageID, ImageDigest: svc.ImageDigest, Color: svc.Color, Weights: svc.Weights, Containers: []providers.Container{},
		Replicas: r.Declared, Healthy: r.Healthy, IsDegraded: r.Degraded()}
	for _, d := range r.Down {
		ss.Down = append(ss.Down, DownReplica{Replica: d, Name: d.Name, State: d.State, Health: d.Health, ExitCode: d.ExitCode,
			RestartCount: d.RestartCount, Looping: d.Looping(), Logs: logs[d.Name]})
	}
	for _, c := range obs.Containers {
		if c.Service == n {
			ss.Containers = append(ss.Containers, c)
		}
	}
	for i, rf := range obs.Routes {
		if rf.Service == n {
			ss.Route = &obs.Routes[i]
		}
	}
	if router != nil && ss.Route != nil {
		ss.Switch = router.Mode()
		if lt, ok := router.(providers.LiveTableReader); ok {
			if live, err := lt.LiveTable(ctx, st.Project, o.op.Env, n); err == nil {
				ss.Live = live
			}
		}
	}
	return ss
}

// Err is the error a degraded release makes status exit with (2), after
// its status is out; nil when it is not degraded.
func (s *Status) Err() error {
	if s.Degraded == "" {
		return nil
	}
	return fmt.Errorf("release #%d is degraded: %s", s.State.Release, s.Degraded)
}
