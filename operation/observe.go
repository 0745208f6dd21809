package operation

import (
	"context"
	"errors"
	"fmt"

	"github.com/slipwayhq/slipway/config"
	"github.com/slipwayhq/slipway/internal/safedir"
	"github.com/slipwayhq/slipway/planner"
	"github.com/slipwayhq/slipway/providers"
)

// observe reads the live world for the planner: the containers and the
// images the services name, each database's migrations, the router's
// files, how it would switch each route and who listens on route ports.
func (o *run) observe(ctx context.Context, set *providers.Set) (*providers.Observations, error) {
	obs := &providers.Observations{Images: map[string]string{}, ImageIDs: map[string]bool{}}
	// A backup directory an apply would refuse is refused now, before
	// anything changes.
	for _, db := range o.cfg.Postgres {
		if db.Backup != nil {
			if err := safedir.Check(db.Backup.Dir, "backup directory"); err != nil {
				return nil, refuse(fmt.Errorf("postgres.%s: %w", db.Name, err), "")
			}
		}
	}
	if set.Runtime != nil {
		if err := o.observeRuntime(ctx, set.Runtime, obs); err != nil {
			return nil, err
		}
	}
	for _, db := range o.cfg.Postgres {
		d, err := observeDatabase(ctx, set.Databases[db.Name])
		if err != nil {
			return nil, refuse(fmt.Errorf("postgres.%s: %w", db.Name, err), "check the database url and that the server is running")
		}
		if obs.Databases == nil {
			obs.Databases = map[string]*providers.DatabaseObservation{}
		}
		obs.Databases[db.Name] = d
	}
	if set.Router != nil {
		if err := o.observeRouter(ctx, set.Router, obs); err != nil {
			return nil, err
		}
	}
	return obs, nil
}

// observeRuntime reads the project's containers and the images and ports
// of each service's image.
func (o *run) observeRuntime(ctx context.Context, rt providers.Runtime, obs *providers.Observations) error {
	if p, ok := rt.(providers.Pinger); ok {
		if err := p.Ping(ctx); err != nil {
			return refuse(err, "start the Docker engine, or point docker { host } or DOCKER_HOST at it")
		}
	}
	cs, err := rt.Observe(ctx, o.cfg.Project.Name, o.op.Env)
	if err != nil {
		return refuse(fmt.Errorf("observe containers: %w", err), "")
	}
	obs.Containers = cs
	for _, svc := range o.cfg.Services {
		id, err := rt.ResolveImage(ctx, svc.Image)
		if errors.Is(err, providers.ErrImageNotFound) {
			continue
		}
		if err != nil {
			return refuse(fmt.Errorf("inspect image %q: %w", svc.Image, err), "")
		}
		obs.Images[svc.Image] = id
		if ip, ok := rt.(providers.ImagePorts); ok && svc.Port > 0 {
			ports, err := ip.ExposedPorts(ctx, svc.Image)
			if err != nil {
				return refuse(fmt.Errorf("inspect image %q: %w", svc.Image, err), "")
			}
			if obs.ExposedPorts == nil {
				obs.ExposedPorts = map[string][]int{}
			}
			obs.ExposedPorts[svc.Image] = ports
		}
	}
	return nil
}

// observeRouter reads the router's files, how it would switch each
// route, and who listens where each route would.
func (o *run) observeRouter(ctx context.Context, r providers.Router, obs *providers.Observations) error {
	rs, err := r.Observe(ctx, o.cfg.Project.Name, o.op.Env)
	if err != nil {
		return refuse(fmt.Errorf("observe nginx files: %w", err), "")
	}
	obs.Routes = rs
	if sp, ok := r.(providers.SwitchPlanner); ok {
		obs.Switch = map[string]providers.SwitchPlan{}
		for _, svc := range routed(o.cfg) {
			if sw, err := sp.PlanSwitch(ctx, planner.SwitchSpec(o.cfg, o.op.Env, svc)); err == nil {
				obs.Switch[svc.Name] = sw
			}
		}
	}
	lc, ok := r.(providers.ListenChecker)
	if !ok {
		return nil
	}
	for _, svc := range routed(o.cfg) {
		port := svc.Route.Listen
		if _, done := obs.Listen[port]; done {
			continue
		}
		lp, err := lc.CheckListen(ctx, port)
		if err != nil {
			return refuse(fmt.Errorf("check who listens on port %d: %w", port, err), "")
		}
		if obs.Listen == nil {
			obs.Listen = map[int]providers.ListenPort{}
		}
		obs.Listen[port] = lp
	}
	return nil
}

// routed returns the services of cfg that have a route.
func routed(cfg *config.Config) []*config.Service {
	var out []*config.Service
	for _, svc := range cfg.Services {
		if svc.Route != nil {
			out = append(out, svc)
		}
	}
	return out
}

// observeDatabase reads a database's migrations table and, when it lists
// its migration files, compares them.
func observeDatabase(ctx context.Context, db providers.Database) (*providers.DatabaseObservation, error) {
	o := &providers.DatabaseObservation{}
	if db == nil {
		return o, nil
	}
	if err := db.Ping(ctx); err != nil {
		return nil, err
	}
	applied, err := db.Applied(ctx)
	if err != nil {
		return nil, err
	}
	o.Applied = applied
	if ml, ok := db.(providers.MigrationLister); ok {
		files, listed, err := ml.Migrations()
		if err != nil {
			return nil, err
		}
		if listed {
			o.Files = files
			o.Pending, o.Problem = ml.Pending(files, applied)
		}
	}
	return o, nil
}
