package config

import (
	"fmt"
	"strings"

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
	diags = append(diags, validateRoutes(cfg)...)
	return diags
}

// validateRoutes checks the routes against each other as nginx sees them.
// Two routes must not claim the same listen port, server name and location.
// Each route is a server block of its own, so two routes on one port that
// claim the same server name with different locations draw a warning: nginx
// ignores the second server ("conflicting server name") and answers every
// request for the name from the first. The routes on one port must all
// serve TLS or none: "ssl" belongs to the listening socket, so one TLS route
// would turn its neighbours' plain HTTP into TLS.
func validateRoutes(cfg *Config) hcl.Diagnostics {
	var diags hcl.Diagnostics
	type claim struct {
		listen int
		name   string
	}
	claims := map[claim]*Service{}
	tlsOf := map[int]*Service{} // the first route of each port
	for _, s := range cfg.Services {
		r := s.Route
		if r == nil {
			continue
		}
		for _, name := range serverNameClaims(r.ServerName) {
			k := claim{r.Listen, name}
			prev, ok := claims[k]
			if !ok {
				claims[k] = s
				continue
			}
			if prev.Route.Location == r.Location {
				diags = append(diags, &hcl.Diagnostic{
					Severity: hcl.DiagError,
					Summary:  "Duplicate Route",
					Detail: fmt.Sprintf("Services %q and %q both route listen %d, server_name %q, location %q; first declared at %s.",
						prev.Name, s.Name, r.Listen, name, r.Location, at(prev.Route.DeclRange)),
					Subject: r.DeclRange.Ptr(),
				})
			} else {
				diags = append(diags, &hcl.Diagnostic{
					Severity: hcl.DiagWarning,
					Summary:  "Route Shadowed",
					Detail: fmt.Sprintf("Services %q and %q both listen on %d with server_name %q (first declared at %s). Each route is an nginx server of its own, and nginx answers every request for that name and port from one of them (the one whose route file sorts first), so one of the locations %q and %q is never reached; give one service another server_name or listen port.",
						prev.Name, s.Name, r.Listen, name, at(prev.Route.DeclRange), prev.Route.Location, r.Location),
					Subject: r.DeclRange.Ptr(),
				})
			}
			break
		}
		if (r.TLSCert == "") != (r.TLSKey == "") {
			continue // Incomplete TLS Settings, reported
		}
		first, ok := tlsOf[r.Listen]
		if !ok {
			tlsOf[r.Listen] = s
			continue
		}
		if tls := r.TLSCert != ""; tls != (first.Route.TLSCert != "") {
			diags = append(diags, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "Mixed TLS On Port",
				Detail: fmt.Sprintf("Services %q and %q both listen on port %d, but only one of them serves TLS; first declared at %s. nginx serves TLS on all of a port's connections or on none: give them different ports, or TLS to both.",
					first.Name, s.Name, r.Listen, at(first.Route.DeclRange)),
				Subject: r.DeclRange.Ptr(),
			})
		}
	}
	return diags
}

// serverNameClaims returns the names, lower case, that nginx matches a
// server_name against: ".example.com" is both "example.com" and
// "*.example.com".
func serverNameClaims(name string) []string {
	name = strings.ToLower(name)
	if rest, ok := strings.CutPrefix(name, "."); ok {
		return []string{rest, "*." + rest}
	}
	return []string{name}
}
