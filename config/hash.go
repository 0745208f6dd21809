package config

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"sort"
	"strings"

	"github.com/zclconf/go-cty/cty"
	ctyjson "github.com/zclconf/go-cty/cty/json"
)

// MarshalJSON encodes a sensitive Secret as null and any other as its value,
// so that JSON output never holds a secret.
func (s Secret) MarshalJSON() ([]byte, error) {
	if s.Sensitive {
		return []byte("null"), nil
	}
	return json.Marshal(s.Value)
}

// MarshalJSON encodes an EnvVar, omitting the value of a sensitive one.
func (e EnvVar) MarshalJSON() ([]byte, error) {
	type plain EnvVar
	if e.Sensitive {
		return json.Marshal(struct {
			Name      string
			Sensitive bool
		}{e.Name, true})
	}
	return json.Marshal(plain(e))
}

// MarshalJSON encodes a Check with its kind attributes as JSON values,
// omitting every attribute that holds a sensitive value.
func (c Check) MarshalJSON() ([]byte, error) {
	type plain Check
	attrs := map[string]json.RawMessage{}
	for name, v := range c.Attrs {
		if v.ContainsMarked() || !v.IsWhollyKnown() {
			continue
		}
		b, err := ctyjson.Marshal(v, v.Type())
		if err != nil {
			return nil, err
		}
		attrs[name] = b
	}
	return json.Marshal(struct {
		plain
		Attrs map[string]json.RawMessage
	}{plain(c), attrs})
}

// Hash returns the hex SHA-256 of the decoded configuration without its
// sensitive values. It changes when what would be deployed changes, and not
// with formatting, comments, the order of blocks or the files they are in.
func (c *Config) Hash() string {
	view := struct {
		Project  *Project
		Docker   *Docker
		Nginx    *Nginx
		Postgres []*Postgres
		Services []*Service
		Analyses []*Analysis
		Checks   []*Check
		Notifies []*Notify
	}{
		c.Project, c.Docker, c.Nginx,
		sortedByName(c.Postgres, func(p *Postgres) string { return p.Name }),
		sortedByName(c.Services, func(s *Service) string { return s.Name }),
		sortedByName(c.Analyses, func(a *Analysis) string { return a.Name }),
		sortedByName(c.Checks, func(ch *Check) string { return ch.Name }),
		sortedByName(c.Notifies, func(n *Notify) string { return n.Name }),
	}
	return hashJSON(view)
}

// Hash returns the hex SHA-256 of the service's decoded configuration
// without its sensitive values, for labelling its containers.
func (s *Service) Hash() string {
	return hashJSON(s)
}

// hashJSON hashes the JSON encoding of v; the types hashed always encode.
func hashJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic("config: hash: " + err.Error())
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// sortedByName returns a copy of items sorted by name.
func sortedByName[T any](items []T, name func(T) string) []T {
	out := append([]T(nil), items...)
	sort.SliceStable(out, func(i, j int) bool { return name(out[i]) < name(out[j]) })
	return out
}

// SensitiveValues returns every sensitive string value of the configuration
// (sensitive variables and what is computed from them, postgres URLs,
// webhooks, sensitive env values and check attributes), longest first, for
// masking output.
func (c *Config) SensitiveValues() []string {
	seen := map[string]bool{}
	add := func(s string) {
		if strings.TrimSpace(s) != "" {
			seen[s] = true
		}
	}
	var walk func(v cty.Value, marked bool)
	walk = func(v cty.Value, marked bool) {
		v, marks := v.Unmark()
		marked = marked || len(marks) > 0
		if v.IsNull() || !v.IsKnown() {
			return
		}
		ty := v.Type()
		switch {
		case ty == cty.String:
			if marked {
				add(v.AsString())
			}
		case ty.IsListType() || ty.IsSetType() || ty.IsMapType() || ty.IsTupleType() || ty.IsObjectType():
			for it := v.ElementIterator(); it.Next(); {
				_, ev := it.Element()
				walk(ev, marked)
			}
		}
	}
	for _, v := range c.Values {
		walk(v, false)
	}
	for _, v := range c.Locals {
		walk(v, false)
	}
	for _, p := range c.Postgres {
		if p.URL.Sensitive {
			add(p.URL.Value)
		}
	}
	for _, n := range c.Notifies {
		if n.Webhook.Sensitive {
			add(n.Webhook.Value)
		}
	}
	for _, s := range c.Services {
		for _, e := range s.Env {
			if e.Sensitive {
				add(e.Value)
			}
		}
	}
	for _, ch := range c.Checks {
		for _, v := range ch.Attrs {
			walk(v, false)
		}
	}
	out := make([]string, 0, len(seen))
	for s := range seen {
		out = append(out, s)
	}
	sort.Slice(out, func(i, j int) bool {
		if len(out[i]) != len(out[j]) {
			return len(out[i]) > len(out[j])
		}
		return out[i] < out[j]
	})
	return out
}
