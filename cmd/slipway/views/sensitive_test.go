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

// withSecret returns p with every container's sensitive variable set to
// value.
func withSecret(p *plan.Plan, value string) *plan.Plan {
	var set func(s *plan.Step)
	set = func(s *plan.Step) {
		if s == nil {
			return
		}
		for i := range s.Containers {
			for j := range s.Containers[i].Vars {
				if s.Containers[i].Vars[j].Sensitive {
					s.Containers[i].Vars[j].Value = value
				}
			}
		}
		set(s.Compensation)
	}
	for _, s := range p.Steps {
		set(s)
	}
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
		for _, mk := range []func() *plan.Plan{blueGreen, canary, firstRelease} {
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
}

// TestShortSecretGarblesNothing: a sensitive value shorter than
// redact.MinLen is never searched for. With the one-character secret "e",
// every rendering and both hooks keep the plan's text intact (not
// "(sensitive)xampl(sensitive)/w(sensitive)b"), and the free text the hooks
// write (progress, errors) is left as it is.
func TestShortSecretGarblesNothing(t *testing.T) {
	renderings := map[string]func(*bytes.Buffer, *plan.Plan) error{
		"text":     func(b *bytes.Buffer, p *plan.Plan) error { return PlanText(b, p, Options{}) },
		"markdown": func(b *bytes.Buffer, p *plan.Plan) error { return PlanMarkdown(b, p) },
		"json":     func(b *bytes.Buffer, p *plan.Plan) error { return PlanJSON(b, p) },
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
			return nil
		},
	}
	for name, render := range renderings {
		t.Run(name, func(t *testing.T) {
			p := withSecret(blueGreen(), "e")
			var b bytes.Buffer
			if err := render(&b, p); err != nil {
				t.Fatal(err)
			}
			out := b.String()
			if strings.Contains(out, "(sensitive)") {
				t.Errorf("%s rendering masks a one-character secret:\n%s", name, out)
			}
			for _, want := range []string{"thebot/backend:1.3.0", "service.backend"} {
				if !strings.Contains(out, want) {
					t.Errorf("%s rendering lacks %q:\n%s", name, want, out)
				}
			}
		})
	}
}

// TestPlanStringsAreNotSearched: a sensitive value is known by where it
// is (a container's environment), never searched for in the plan's other
// strings. A step detail that happens to hold a long secret's text is
// shown as the planner wrote it: the configuration guarantees it holds no
// secret, and searching would garble it as a short secret does.
func TestPlanStringsAreNotSearched(t *testing.T) {
	p := withSecret(blueGreen(), "backend")
	var b bytes.Buffer
	if err := PlanText(&b, p, Options{}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(b.String(), "thebot/backend:1.3.0") || strings.Contains(b.String(), "(sensitive)") {
		t.Errorf("plan text was searched for the secret:\n%s", b.String())
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
