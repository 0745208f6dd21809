package cli

import (
	"context"
	"fmt"
	"strings"

	"github.com/slipwayhq/slipway/checks"
	"github.com/slipwayhq/slipway/config"
	"github.com/slipwayhq/slipway/executor"
	"github.com/slipwayhq/slipway/planner/plan"
	"github.com/slipwayhq/slipway/state/records"
)

// checker runs a plan's check steps for the executor with the checks
// package, against the candidate's address in the preview phase.
type checker struct {
	se *session
}

var _ executor.Checker = checker{}

func (k checker) Run(ctx context.Context, phase string, specs []plan.Check, candidate string) ([]records.CheckEvidence, error) {
	var cks []*config.Check
	for _, c := range specs {
		cks = append(cks, c.Block())
	}
	env, done, err := k.se.checkEnv(cks, k.se.c)
	if err != nil {
		return nil, err
	}
	defer done()
	if candidate != "" {
		env.Candidate = "http://" + candidate
	}
	var ev []records.CheckEvidence
	var failed []string
	for _, r := range checks.Run(ctx, cks, env) {
		evidence := r.Evidence
		if r.Err != "" {
			evidence = strings.TrimSpace(r.Err + "; " + evidence)
		}
		ev = append(ev, records.CheckEvidence{Name: r.Name, Phase: r.Phase, Severity: r.Severity, Status: r.Status, Evidence: env.Mask(evidence), Duration: r.Duration})
		if r.Failed() && r.Severity == "critical" {
			failed = append(failed, fmt.Sprintf("%s (%s)", r.Name, env.Mask(r.Err)))
		}
	}
	if len(failed) > 0 {
		return ev, fmt.Errorf("critical %s check failed: %s", phase, strings.Join(failed, "; "))
	}
	return ev, nil
}
