package config

import (
	"fmt"

	"github.com/hashicorp/hcl/v2"
)

// validate checks what no single block can: references between blocks and
// conflicts among them.
func validate(cfg *Config, refs []analysisRef) hcl.Diagnostics {
	var diags hcl.Diagnostics
	for _, r := range refs {
		if cfg.Analysis(r.name) == nil {
			var names []string
			for _, a := range cfg.Analyses {
				names = append(names, a.Name)
			}
			detail := fmt.Sprintf("No analysis block is named %q.", r.name)
			if len(names) > 0 {
				detail += " Declared analyses: " + quoteList(names) + "."
			}
			diags = append(diags, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "Unknown Analysis",
				Detail:   detail,
				Subject:  r.subject,
			})
		}
	}
	for _, db := range cfg.Postgres {
		if m := db.Migrate; m != nil && cfg.Service(m.Service) == nil {
			diags = append(diags, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "Unknown Service",
				Detail:   fmt.Sprintf("The migrate block of postgres %q runs its command from service %q, which is not declared.", db.Name, m.Service),
				Subject:  m.DeclRange.Ptr(),
			})
		}
	}
	for _, s := range cfg.Services {
		if s.Canary != nil && s.Route == nil {
			diags = append(diags, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "Canary Without Route",
				Detail:   fmt.Sprintf("The canary of service %q moves a share of requests through nginx, so the service needs a route block.", s.Name),
				Subject:  s.Canary.DeclRange.Ptr(),
			})
		}
	}
	if cfg.Nginx == nil {
		for _, s := range cfg.Services {
			if s.Route != nil {
				diags = append(diags, &hcl.Diagnostic{
					Severity: hcl.DiagError,
					Summary:  "Missing Nginx Block",
					Detail:   fmt.Sprintf("Service %q has a route, but the configuration has no nginx block saying where slipway writes routes; add one (nginx {} uses config_dir /etc/nginx/conf.d).", s.Name),
					Subject:  s.Route.DeclRange.Ptr(),
				})
				break
			}
		}
	}
	type routeKey struct {
		listen             int
		serverName, prefix string
	}
	routes := map[routeKey]*Service{}
	for _, s := range cfg.Services {
		if s.Route == nil {
			continue
		}
		k := routeKey{s.Route.Listen, s.Route.ServerName, s.Route.Location}
		if prev, ok := routes[k]; ok {
			diags = append(diags, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "Duplicate Route",
				Detail: fmt.Sprintf("Services %q and %q both route listen %d, server_name %q, location %q; first declared at %s.",
					prev.Name, s.Name, k.listen, k.serverName, k.prefix, at(prev.Route.DeclRange)),
				Subject: s.Route.DeclRange.Ptr(),
			})
			continue
		}
		routes[k] = s
	}
	return diags
}
