// Package factory builds slipway's real providers from a configuration:
// Docker is the runtime, nginx the router, PostgreSQL each database. It is
// the one place that knows the concrete providers; everything else holds
// them by the interfaces of package providers and asserts their optional
// abilities by name.
package factory

import (
	"fmt"

	"github.com/slipwayhq/slipway/config"
	"github.com/slipwayhq/slipway/executor"
	"github.com/slipwayhq/slipway/executor/prober"
	"github.com/slipwayhq/slipway/internal/redact"
	"github.com/slipwayhq/slipway/planner/plan"
	"github.com/slipwayhq/slipway/providers"
	"github.com/slipwayhq/slipway/providers/docker"
	"github.com/slipwayhq/slipway/providers/nginx"
	"github.com/slipwayhq/slipway/providers/postgres"
)

// World builds the real providers. Paths of the configuration resolve
// against its directory (config.Config.Rel), except the postgres paths
// config.Config.ResolvePaths rewrote already. The zero value is ready.
type World struct{}

// Runtime returns the Docker engine of the docker block. It does not dial
// until used.
func (World) Runtime(cfg *config.Config) (providers.Runtime, error) {
	return docker.New(cfg.Docker.Host, docker.WithSensitive(cfg.SensitiveValues()...))
}

// Router returns nginx as the nginx block declares it, or nil without an
// nginx block. It touches nothing.
func (World) Router(cfg *config.Config) (providers.Router, error) {
	n := cfg.Nginx
	if n == nil {
		return nil, nil
	}
	return nginx.New(nginx.Options{ConfigDir: cfg.Rel(n.ConfigDir), AccessLog: cfg.Rel(n.AccessLog), Binary: n.Binary,
		Prefix: cfg.Rel(n.Prefix), Conf: cfg.Rel(n.Conf), ListenHost: n.ListenHost, Switch: n.Switch, AdminDir: n.AdminDir})
}

// Database returns the database of the postgres block named name. It does
// not connect until used.
func (World) Database(cfg *config.Config, name string) (providers.Database, error) {
	db := cfg.PostgresDB(name)
	if db == nil {
		return nil, fmt.Errorf("no postgres block %q in the configuration", name)
	}
	mask := redact.New(cfg.SensitiveValues()...).Mask
	return postgres.New(postgres.Options{URL: db.URL.Value, BinDir: cfg.Rel(db.BinDir), Mask: mask, Name: db.Name, Migrations: db.Migrations})
}

// Prober returns the prober that counts failed requests through nginx
// while p moves traffic, or nil when no step moves traffic. It probes the
// first routed service, as a browser would: keep-alive GETs, an
// idempotent request retried once when a reused connection was closed
// under it. Its requests are marked, so that nginx analysis does not
// count them as traffic.
func (World) Prober(p *plan.Plan) executor.Prober {
	for _, s := range p.Steps {
		t := s.Traffic
		// The prober speaks plain HTTP; TLS routes are not probed.
		if s.Kind != plan.KindTraffic || t == nil || t.Remove || t.Route.Listen == 0 || t.Route.TLSCert != "" {
			continue
		}
		host := ""
		if t.Route.ServerName != "_" {
			host = t.Route.ServerName
		}
		return prober.New(prober.Options{
			URL:     fmt.Sprintf("http://127.0.0.1:%d%s", t.Route.Listen, t.Route.Location),
			Host:    host,
			Rate:    50,
			Workers: 2,
			Mode:    prober.Retrying,
			Headers: map[string]string{nginx.HeaderProbe: nginx.ProbeValue},
		})
	}
	return nil
}
