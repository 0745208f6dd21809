package views

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/slipwayhq/slipway/executor"
	"github.com/slipwayhq/slipway/planner/plan"
)

// leakyPlan carries the secret in a container's environment, as every
// plan does, and also (as a planner bug might) in shown strings.
func leakyPlan() *plan.Plan {
	p := blueGreen()
	s := p.Steps[p.Resources[1].Steps[0]]
	s.Detail += " with SECRET_KEY=" + secretValue
	s.Compensation.Detail = "remove " + secretValue
	p.Drift = append(p.Drift, plan.Drift{Address: "service.backend", Detail: "env " + secretValue + " changed"})
	p.Warnings = append(p.Warnings, "*"+secretValue+"* |"+secretValue+"|")
	p.OnFailure = append(p.OnFailure, secretValue)
	return p
}

func TestNoRenderingShowsSensitiveValues(t *testing.T) {
	renderings := map[string]func(*bytes.Buffer, *plan.Plan) error{
		"text":       func(b *bytes.Buffer, p *plan.Plan) error { return PlanText(b, p, Options{}) },
		"text-color": func(b *bytes.Buffer, p *plan.Plan) error { return PlanText(b, p, Options{Color: true, Width: 20}) },
		"markdown":   func(b *bytes.Buffer, p *plan.Plan) error { return PlanMarkdown(b, p) },
		"json":       func(b *bytes.Buffer, p *plan.Plan) error { return PlanJSON(b, p) },
		"text-hook": func(b *bytes.Buffer, p *plan.Plan) error {
			h := NewTextHook(b, Options{})
			h.Mask(p)
			replay(h, p)
			return nil
		},
		"json-hook": func(b *bytes.Buffer, p *plan.Plan) error {
			h := NewJSONHook(b, "test")
			h.Plan(p)
			replay(h, p)
			h.Diagnostic("error", "Apply Failed", "reload said "+secretValue)
			return nil
		},
	}
	for name, render := range renderings {
		for _, mk := range []func() *plan.Plan{leakyPlan, canary, firstRelease} {
			t.Run(name, func(t *testing.T) {
				p := mk()
				var b bytes.Buffer
				if err := render(&b, p); err != nil {
					t.Fatal(err)
				}
				if strings.Contains(b.String(), secretValue) {
					t.Errorf("%s rendering shows the sensitive value:\n%s", name, b.String())
				}
				if !strings.Contains(b.String(), "SECRET_KEY") && name == "json" {
					t.Errorf("json rendering lost the name of the sensitive variable")
				}
			})
		}
	}
	// The plan itself is left as it was.
	p := leakyPlan()
	_ = PlanText(&bytes.Buffer{}, p, Options{})
	if !strings.Contains(p.Steps[p.Resources[1].Steps[0]].Detail, secretValue) {
		t.Error("rendering modified the plan")
	}
}

// replay drives h as the executor would through an apply of p whose
// traffic step fails with an error that quotes the secret, and is rolled
// back.
func replay(h executor.Hook, p *plan.Plan) {
	var done []*plan.Step
	for _, s := range p.Steps {
		h.StepStarted(s)
		if s.Kind == plan.KindTraffic {
			h.Progress(s, "nginx says "+secretValue)
			h.StepFinished(s, 1500*time.Millisecond, errors.New("reload nginx: "+secretValue))
			if s.Compensation != nil {
				done = append(done, s)
			}
			break
		}
		h.StepFinished(s, 2100*time.Millisecond, nil)
		done = append(done, s)
	}
	for i := len(done) - 1; i >= 0; i-- {
		s := done[i]
		c := s.Compensation
		if c == nil {
			continue
		}
		cc := *c
		cc.ID = s.ID + ".undo"
		h.CompensationStarted(&cc)
		h.CompensationFinished(&cc, 400*time.Millisecond, nil)
	}
}
