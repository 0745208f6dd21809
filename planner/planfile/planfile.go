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

	"github.com/slipwayhq/slipway/internal/atomicfile"
	"github.com/slipwayhq/slipway/planner/plan"
)

// FormatVersion is the version of the plan file format this slipway
// writes and reads.
const FormatVersion = 1

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
			vars := append(c.Containers[i].Vars[:0:0], c.Containers[i].Vars...)
			for j := range vars {
				if vars[j].Sensitive {
					vars[j].Value = ""
				}
			}
			c.Containers[i].Vars = vars
		}
	}
	c.Compensation = redactStep(s.Compensation)
	return &c
}

// Fill puts sensitive values back into a loaded plan: lookup returns the
// current value of a service's variable, read again from configuration.
func Fill(p *plan.Plan, lookup func(service, name string) string) {
	for _, s := range p.Steps {
		for i := range s.Containers {
			c := &s.Containers[i]
			for j := range c.Vars {
				if c.Vars[j].Sensitive {
					c.Vars[j].Value = lookup(c.Service, c.Vars[j].Name)
				}
			}
		}
	}
}
