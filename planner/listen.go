package planner

import (
	"fmt"

	"github.com/hashicorp/hcl/v2"
	"github.com/slipwayhq/slipway/config"
	"github.com/slipwayhq/slipway/providers"
)

// checkListen refuses a route whose listen port another program already
// uses: nginx could not bind it, its reload would fail, and requests to
// the port would reach that program. A port nginx itself listens on (a
// route it serves already) is fine. Every route is checked, not only the
// changed ones: one port nginx cannot bind fails every reload.
func checkListen(cfg *config.Config, obs *providers.Observations) hcl.Diagnostics {
	if obs == nil || obs.Listen == nil {
		return nil
	}
	var diags hcl.Diagnostics
	for _, svc := range cfg.Services {
		if svc.Route == nil {
			continue
		}
		lp, ok := obs.Listen[svc.Route.Listen]
		if !ok || !lp.Taken || lp.Router {
			continue
		}
		diags = append(diags, &hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  "Listen Port In Use",
			Detail: fmt.Sprintf("The route of service.%s listens on %s, which %s already uses: pick another port or stop it. Nothing was changed.",
				svc.Name, lp.Address, holder(lp)),
			Subject: svc.Route.DeclRange.Ptr(),
		})
	}
	return diags
}

// holder names the program that listens on a port, as far as it is known.
func holder(lp providers.ListenPort) string {
	switch {
	case lp.PID > 0 && lp.Command != "":
		return fmt.Sprintf("another program (pid %d %s)", lp.PID, lp.Command)
	case lp.PID > 0:
		return fmt.Sprintf("another program (pid %d)", lp.PID)
	}
	return "another program"
}
