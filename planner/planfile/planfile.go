// Package planfile stores a plan in a file for a later `slipway apply
// FILE`: versioned JSON, mode 0600, with sensitive values left out (they
// are read again from the configuration when the plan is applied, and
// their HMACs in the plan must still match).
package planfile

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/slipwayhq/slipway/config"
	"github.com/slipwayhq/slipway/internal/atomicfile"
	"github.com/slipwayhq/slipway/planner/plan"
	"github.com/slipwayhq/slipway/providers"
	"github.com/zclconf/go-cty/cty"
)

// FormatVersion is the version of the plan file format this slipway
// writes and reads. Version 2 plans carry what applying them needs (the
// checks and analyses they run, how each switch goes live, a rollback's
// target); a version 1 plan lacks it and is refused, with a message
// saying to make it again.
const FormatVersion = 2

// ErrNotPlanFile is returned when a file is not a slipway plan.
var ErrNotPlanFile = errors.New("not a slipway plan file")

type file struct {
	FormatVersion int        `json:"format_version"`
	Kind          string     `json:"kind"`
	Plan          *plan.Plan `json:"plan"`
}

// Write encodes p, with every sensitive value removed, to w.
func Write(w io.Writer, p *plan.Plan) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(file{FormatVersion: FormatVersion, Kind: "slipway-plan", Plan: Redacted(p)})
}

// Read decodes a plan written by Write.
func Read(r io.Reader) (*plan.Plan, error) {
	var f file
	dec := json.NewDecoder(r)
	if err := dec.Decode(&f); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrNotPlanFile, err)
	}
	if f.Kind != "slipway-plan" || f.Plan == nil {
		return nil, ErrNotPlanFile
	}
	if f.FormatVersion < FormatVersion {
		return nil, fmt.Errorf("plan format version %d is older than this slipway reads (%d): it does not carry the checks and analyses it runs; make the plan again with this slipway", f.FormatVersion, FormatVersion)
	}
	if f.FormatVersion != FormatVersion {
		return nil, fmt.Errorf("plan format version %d is not supported by this slipway (it reads %d); make the plan again with this slipway", f.FormatVersion, FormatVersion)
	}
	return f.Plan, nil
}

// Save writes p to path, mode 0600, replacing any file there, a symbolic
// link included (the link, never its target), through atomicfile.Replace.
func Save(path string, p *plan.Plan) error {
	var buf bytes.Buffer
	if err := Write(&buf, p); err != nil {
		return err
	}
	if err := atomicfile.Replace(path, buf.Bytes()); err != nil {
		return fmt.Errorf("write plan %s: %w", path, err)
	}
	return nil
}

// Load reads the plan saved at path.
func Load(path string) (*plan.Plan, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("read plan: %w", err)
	}
	defer f.Close()
	p, err := Read(f)
	if err != nil {
		return nil, fmt.Errorf("read plan %s: %w", path, err)
	}
	return p, nil
}

// Redacted returns a copy of p in which every sensitive container variable
// has an empty value.
func Redacted(p *plan.Plan) *plan.Plan {
	c := *p
	c.Steps = make([]*plan.Step, len(p.Steps))
	for i, s := range p.Steps {
		c.Steps[i] = redactStep(s)
	}
	return &c
}

func redactStep(s *plan.Step) *plan.Step {
	if s == nil {
		return nil
	}
	c := *s
	if len(s.Containers) > 0 {
		c.Containers = append(c.Containers[:0:0], s.Containers...)
		for i := range c.Containers {
			c.Containers[i].Vars = redactVars(c.Containers[i].Vars)
		}
	}
	if s.Task != nil {
		// An app's migration task runs with its service's env.
		t := *s.Task
		t.Vars = redactVars(t.Vars)
		c.Task = &t
	}
	c.Compensation = redactStep(s.Compensation)
	return &c
}

// redactVars returns a copy of vars with every sensitive value empty.
func redactVars(vars []providers.EnvVar) []providers.EnvVar {
	out := append(vars[:0:0], vars...)
	for j := range out {
		if out[j].Sensitive {
			out[j].Value = ""
		}
	}
	return out
}

// Fill puts the sensitive values back into a loaded plan, read again from
// cfg: each sensitive container variable from its service's env, each
// sensitive check attribute from its check block. A value cfg no longer
// has is left empty (a container variable) or null (a check attribute).
func Fill(p *plan.Plan, cfg *config.Config) {
	for _, s := range p.Steps {
		fillStep(s, cfg)
	}
}

func fillStep(s *plan.Step, cfg *config.Config) {
	if s == nil {
		return
	}
	specs := make([]*providers.ContainerSpec, 0, len(s.Containers)+1)
	for i := range s.Containers {
		specs = append(specs, &s.Containers[i])
	}
	if s.Task != nil {
		specs = append(specs, s.Task)
	}
	for _, c := range specs {
		for j := range c.Vars {
			if c.Vars[j].Sensitive {
				c.Vars[j].Value = envValue(cfg, c.Service, c.Vars[j].Name)
			}
		}
	}
	for i := range s.CheckSpecs {
		ck := &s.CheckSpecs[i]
		for name, v := range ck.Attrs {
			if v.Sensitive {
				ck.Attrs[name] = checkValue(cfg, ck.Name, name)
			}
		}
	}
	fillStep(s.Compensation, cfg)
}

// envValue is the value of the variable name of service's env in cfg.
func envValue(cfg *config.Config, service, name string) string {
	if svc := cfg.Service(service); svc != nil {
		for _, e := range svc.Env {
			if e.Name == name {
				return e.Value
			}
		}
	}
	return ""
}

// checkValue is the value of attribute name of check in cfg, marks kept.
func checkValue(cfg *config.Config, check, name string) plan.Value {
	if c := cfg.Check(check); c != nil {
		if v, ok := c.Attrs[name]; ok {
			return plan.Value{Value: v}
		}
	}
	return plan.Value{Value: cty.NullVal(cty.DynamicPseudoType)}
}
