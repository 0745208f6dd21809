package planner

import (
	"fmt"
	"slices"
	"strings"

	"github.com/slipwayhq/slipway/config"
	"github.com/slipwayhq/slipway/planner/plan"
	"github.com/slipwayhq/slipway/providers"
)

// exposedWarnings warns about each service the plan starts whose port
// its image does not declare: the health gate would wait for its whole
// deadline on a port nothing answers. An image that declares no port says
// nothing, and the configuration may still be right (EXPOSE is only
// documentation), so it is a warning.
func exposedWarnings(p *plan.Plan, cfg *config.Config, obs *providers.Observations) {
	if obs == nil {
		return
	}
	starts := map[string]bool{}
	for _, s := range p.Steps {
		if s.Kind == plan.KindStart && len(s.Containers) > 0 {
			starts[s.Resource] = true
		}
	}
	for _, svc := range cfg.Services {
		ports := obs.ExposedPorts[svc.Image]
		if svc.Port == 0 || len(ports) == 0 || slices.Contains(ports, svc.Port) || !starts["service."+svc.Name] {
			continue
		}
		list := make([]string, len(ports))
		for i, port := range ports {
			list[i] = fmt.Sprint(port)
		}
		exposes := fmt.Sprintf("port %s", list[0])
		fix := fmt.Sprintf("if the application listens on %d, set port = %d", ports[0], ports[0])
		if len(ports) > 1 {
			exposes = "ports " + strings.Join(list, ", ")
			fix = "if the application listens on one of them, set port to it"
		}
		wait := "the health gate waits for its whole deadline"
		if svc.Health != nil && svc.Health.Deadline > 0 {
			wait = fmt.Sprintf("the health gate waits for its whole deadline (%s)", svc.Health.Deadline)
		}
		p.Warnings = append(p.Warnings, fmt.Sprintf("service.%s: the image %s exposes %s, not port %d; %s, or %s and fails.",
			svc.Name, svc.Image, exposes, svc.Port, fix, wait))
	}
}
