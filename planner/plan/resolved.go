package plan

import (
	"encoding/json"
	"fmt"

	"github.com/slipwayhq/slipway/config"
	"github.com/zclconf/go-cty/cty"
	ctyjson "github.com/zclconf/go-cty/cty/json"
)

// Check is a check block as a check step runs it, resolved when the plan
// was made: applying the plan (now or from a file) runs exactly these.
type Check struct {
	Name     string
	Phase    string
	Severity string
	Kind     string
	Tags     []string `json:",omitempty"`
	// Attrs are the kind block's attributes, evaluated.
	Attrs map[string]Value `json:",omitempty"`
}

// NewCheck resolves a check block.
func NewCheck(c *config.Check) Check {
	out := Check{Name: c.Name, Phase: c.Phase, Severity: c.Severity, Kind: c.Kind, Tags: c.Tags}
	if len(c.Attrs) > 0 {
		out.Attrs = make(map[string]Value, len(c.Attrs))
		for name, v := range c.Attrs {
			out.Attrs[name] = Value{Value: v}
		}
	}
	return out
}

// Block returns the check as the checks package runs it.
func (c Check) Block() *config.Check {
	b := &config.Check{Name: c.Name, Phase: c.Phase, Severity: c.Severity, Kind: c.Kind, Tags: c.Tags, Attrs: map[string]cty.Value{}}
	for name, v := range c.Attrs {
		b.Attrs[name] = v.Value
	}
	return b
}

// Value is the value of a check attribute. A plan file keeps its type, so
// that it reads back exactly; a value holding anything sensitive (or not
// wholly known) is written as {"sensitive": true} without it, and
// Sensitive is set when such a value is read: planfile.Fill takes it from
// the configuration again.
type Value struct {
	cty.Value
	Sensitive bool
}

type valueJSON struct {
	Sensitive bool            `json:"sensitive,omitempty"`
	Type      json.RawMessage `json:"type,omitempty"`
	Value     json.RawMessage `json:"value,omitempty"`
}

// MarshalJSON encodes the value with its type, or only that it is
// sensitive.
func (v Value) MarshalJSON() ([]byte, error) {
	if v.Sensitive || v.Value == cty.NilVal || v.ContainsMarked() || !v.IsWhollyKnown() {
		return json.Marshal(valueJSON{Sensitive: true})
	}
	ty, err := ctyjson.MarshalType(v.Type())
	if err != nil {
		return nil, err
	}
	val, err := ctyjson.Marshal(v.Value, v.Type())
	if err != nil {
		return nil, err
	}
	return json.Marshal(valueJSON{Type: ty, Value: val})
}

// UnmarshalJSON decodes what MarshalJSON wrote.
func (v *Value) UnmarshalJSON(b []byte) error {
	var j valueJSON
	if err := json.Unmarshal(b, &j); err != nil {
		return err
	}
	if j.Sensitive {
		*v = Value{Sensitive: true}
		return nil
	}
	ty, err := ctyjson.UnmarshalType(j.Type)
	if err != nil {
		return fmt.Errorf("check attribute type: %w", err)
	}
	val, err := ctyjson.Unmarshal(j.Value, ty)
	if err != nil {
		return fmt.Errorf("check attribute value: %w", err)
	}
	*v = Value{Value: val}
	return nil
}

// Analysis is what an analysis step judges by and where it reads, resolved
// by the planner from the analysis block, the service's route and the
// releases it compares.
type Analysis struct {
	// Block is the analysis block.
	Block config.Analysis
	// Project, Env and Service name the routed service whose versions
	// are judged.
	Project string
	Env     string `json:",omitempty"`
	Service string
	// AccessLog is, for the nginx source, the access log's absolute path;
	// "" when the nginx block names none.
	AccessLog string `json:",omitempty"`
	// URL and Host are, for the probe source, where its requests go and
	// their Host header ("" for none); Header is the canary header that
	// sends a request to the candidate ("" reads the live version alone).
	URL    string `json:",omitempty"`
	Host   string `json:",omitempty"`
	Header string `json:",omitempty"`
	// StableRelease and CandidateRelease are, for the prometheus source,
	// the release numbers {{release}} stands for in each group's queries.
	StableRelease    int `json:",omitempty"`
	CandidateRelease int `json:",omitempty"`
}
