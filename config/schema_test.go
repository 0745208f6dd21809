package config

import (
	"testing"
	"time"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
)

// knownTypes are the attribute types the decoder understands.
var knownTypes = map[string]bool{
	"string": true, "number": true, "bool": true, "list(string)": true, "map(string)": true,
	"duration": true, "percent": true, "list(step)": true, "any": true, "type": true, "expression": true,
}

// TestReference checks the schema table: documented, known types, bounded
// numbers and durations, defaults that decode (within their bounds), unique
// names.
func TestReference(t *testing.T) {
	var walk func(path string, bs []*BlockSchema)
	walk = func(path string, bs []*BlockSchema) {
		seen := map[string]bool{}
		for _, b := range bs {
			p := path + b.Type
			if seen[b.Type] {
				t.Errorf("%s: duplicate block type", p)
			}
			seen[b.Type] = true
			if b.Doc == "" {
				t.Errorf("%s: no doc", p)
			}
			if b.FreeForm && len(b.Attrs) > 0 {
				t.Errorf("%s: free-form block with attributes", p)
			}
			attrs := map[string]bool{}
			for _, a := range b.Attrs {
				if attrs[a.Name] {
					t.Errorf("%s.%s: duplicate attribute", p, a.Name)
				}
				attrs[a.Name] = true
				if a.Doc == "" || !knownTypes[a.Type] {
					t.Errorf("%s.%s: doc %q, type %q", p, a.Name, a.Doc, a.Type)
				}
				if a.Required && a.Default != "" {
					t.Errorf("%s.%s: required with a default", p, a.Name)
				}
				if (a.Type == "number" || a.Type == "duration" || a.Type == "percent") && a.Bounds() == "" {
					t.Errorf("%s.%s: a %s without bounds (set Min and Max, or MaxDuration)", p, a.Name, a.Type)
				}
				if a.Default == "" || a.Type == "type" {
					continue
				}
				d := &decoder{}
				at := &attr{schema: a}
				d.defaultAttr(at)
				if len(d.diags) > 0 || !at.ok {
					t.Errorf("%s.%s: default %q does not decode: %v", p, a.Name, a.Default, d.diags)
				}
			}
			walk(p+".", b.Blocks)
		}
	}
	walk("", Reference())
	if a := Reference()[0].Attr("keep"); a == nil || a.Type != "number" {
		t.Errorf("project.Attr(keep) = %+v", a)
	}
	first, second := Reference(), Reference()
	first[0].Attrs[0].Default = "changed"
	if second[0].Attrs[0].Default == "changed" {
		t.Error("Reference returns a shared table")
	}
}

// TestDecodeBodyDefaults checks that the generic decoder applies defaults
// and that null means unset.
func TestDecodeBodyDefaults(t *testing.T) {
	s := &BlockSchema{Type: "x", Attrs: []*AttrSchema{
		{Name: "a", Type: "duration", Default: `"5s"`, Doc: "."},
		{Name: "b", Type: "number", Default: "3", Doc: "."},
		{Name: "c", Type: "string", Doc: "."},
	}}
	f, diags := hclsyntax.ParseConfig([]byte("b = null\nc = \"set\"\n"), "t.hcl", hcl.InitialPos)
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	d := &decoder{ctx: &hcl.EvalContext{}}
	b := d.decodeBody(f.Body, s, hcl.Range{})
	if len(d.diags) > 0 {
		t.Fatal(d.diags)
	}
	if got := d.dur(b, "a"); got.Seconds() != 5 {
		t.Errorf("a = %v", got)
	}
	if got := d.int(b, "b"); got != 3 || b.set("b") {
		t.Errorf("b = %v, set %v", got, b.set("b"))
	}
	if got := d.str(b, "c"); got != "set" || !b.set("c") {
		t.Errorf("c = %q", got)
	}
	if !b.get("c").val.RawEquals(cty.StringVal("set")) {
		t.Errorf("c val = %#v", b.get("c").val)
	}
}

func TestBounds(t *testing.T) {
	for _, tt := range []struct {
		a    AttrSchema
		want string
	}{
		{AttrSchema{Type: "number", Whole: true, Min: 1, Max: 100}, "A whole number from 1 to 100."},
		{AttrSchema{Type: "number", Max: 1024}, "A number from 0 to 1024."},
		{AttrSchema{Type: "number"}, ""},
		{AttrSchema{Type: "percent"}, "From 0 to 100 percent."},
		{AttrSchema{Type: "duration", MaxDuration: 7 * 24 * time.Hour}, "At most 168h."},
		{AttrSchema{Type: "duration", MaxDuration: 90 * time.Second}, "At most 90s."},
		{AttrSchema{Type: "duration"}, ""},
		{AttrSchema{Type: "string", Max: 3}, ""},
	} {
		if got := tt.a.Bounds(); got != tt.want {
			t.Errorf("Bounds(%+v) = %q, want %q", tt.a, got, tt.want)
		}
	}
}
