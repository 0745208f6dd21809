package config

import (
	"errors"
	"fmt"
	"math"
	"math/big"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/convert"
	"github.com/zclconf/go-cty/cty/gocty"
)

// decoder evaluates block bodies through their BlockSchema and accumulates
// diagnostics.
type decoder struct {
	ctx   *hcl.EvalContext
	diags hcl.Diagnostics
	// refs are the analysis names canaries refer to, checked once every
	// block is decoded.
	refs []analysisRef
}

// analysisRef is a reference to an analysis block by name.
type analysisRef struct {
	name    string
	subject *hcl.Range
}

// body is a block body decoded generically: every attribute of the schema
// (set or defaulted) and every nested block, in source order.
type body struct {
	schema *BlockSchema
	attrs  map[string]*attr
	blocks []*block
	// rng is the range of the enclosing block header, the subject of
	// diagnostics about the body as a whole.
	rng hcl.Range
}

// block is one decoded block.
type block struct {
	schema *BlockSchema
	hcl    *hcl.Block
	body   *body
}

// attr is one attribute after evaluation and conversion.
type attr struct {
	schema *AttrSchema
	// hcl is nil when the value is the schema default.
	hcl *hcl.Attribute
	// raw is the evaluated value, marks kept.
	raw cty.Value
	// hasRaw is true when raw holds an evaluated, wholly known value.
	hasRaw bool
	// val is raw converted to the declared type and deeply unmarked; valid
	// only when ok.
	val cty.Value
	// ok is true when val holds a non-null value (set or defaulted).
	ok bool
	// sensitive is true when raw carried a mark anywhere.
	sensitive bool
	// dur is the parsed value of a duration attribute.
	dur time.Duration
	// num is the parsed value of a percent attribute, in percent.
	num float64
}

// origin names, as a sentence for a diagnostic's detail, the variables
// and locals the attribute's expression reads (" Its value comes from
// var.version."), since a -var may be what to fix; "" when it reads none.
func (a *attr) origin() string {
	if a == nil || a.hcl == nil {
		return ""
	}
	var names []string
	seen := map[string]bool{}
	for _, t := range a.hcl.Expr.Variables() {
		root := t.RootName()
		if root != "var" && root != "local" || len(t) < 2 {
			continue
		}
		if step, ok := t[1].(hcl.TraverseAttr); ok && !seen[root+"."+step.Name] {
			seen[root+"."+step.Name] = true
			names = append(names, root+"."+step.Name)
		}
	}
	if len(names) == 0 {
		return ""
	}
	return " Its value comes from " + strings.Join(names, ", ") + "."
}

// invalid reports that the attribute name of b holds a value that breaks a
// rule of package valid: what names the value ("The image"), err says what
// a good one looks like. The value is quoted unless it is sensitive.
func (d *decoder) invalid(b *body, name, summary, what, value string, err error) {
	a := b.get(name)
	detail := what
	if !a.sensitive {
		detail += fmt.Sprintf(" %q", value)
	}
	d.errorf(b.subject(name), summary, "%s is not valid: %s.%s", detail, err, a.origin())
}

// subject returns the range diagnostics about the attribute point at.
func (a *attr) subject(fallback hcl.Range) *hcl.Range {
	if a != nil && a.hcl != nil {
		r := a.hcl.Expr.Range()
		return &r
	}
	return &fallback
}

// ctyType returns the cty type an attribute of the given schema type is
// converted to; DynamicPseudoType keeps the value as written.
func ctyType(typ string) cty.Type {
	switch typ {
	case "string", "duration":
		return cty.String
	case "number":
		return cty.Number
	case "bool":
		return cty.Bool
	case "list(string)":
		return cty.List(cty.String)
	case "map(string)":
		return cty.Map(cty.String)
	}
	return cty.DynamicPseudoType
}

// decodeBody decodes hb through schema s. rng is the enclosing block's
// header range.
func (d *decoder) decodeBody(hb hcl.Body, s *BlockSchema, rng hcl.Range) *body {
	b := &body{schema: s, attrs: map[string]*attr{}, rng: rng}
	if s.FreeForm {
		attrs, diags := hb.JustAttributes()
		d.diags = append(d.diags, diags...)
		for name, ha := range attrs {
			a := &attr{schema: &AttrSchema{Name: name, Type: "any"}, hcl: ha}
			d.evalAttr(a)
			b.attrs[name] = a
		}
		return b
	}
	content, diags := hb.Content(s.bodySchema())
	d.diags = append(d.diags, diags...)
	for _, as := range s.Attrs {
		a := &attr{schema: as, hcl: content.Attributes[as.Name]}
		if a.hcl != nil {
			d.evalAttr(a)
		}
		if a.hasRaw && a.raw.IsNull() {
			if as.Required {
				d.errorf(a.subject(rng), "Missing Required Argument", "The argument %q is required, but its value is null.", as.Name)
			}
			a.hcl = nil // null means unset: fall back to the default
		}
		if a.hcl == nil && as.Default != "" && as.Type != "type" && as.Type != "expression" {
			d.defaultAttr(a)
		}
		b.attrs[as.Name] = a
	}
	first := map[string]*hcl.Block{}
	group := map[string]*hcl.Block{}
	for _, hblk := range content.Blocks {
		ns := s.block(hblk.Type)
		if ns == nil {
			continue // Content already reported it
		}
		if !ns.Repeatable {
			if prev, ok := first[hblk.Type]; ok {
				d.diags = append(d.diags, &hcl.Diagnostic{
					Severity: hcl.DiagError,
					Summary:  "Duplicate " + title(hblk.Type) + " Block",
					Detail:   fmt.Sprintf("A %s block may appear only once here; first declared at %s.", hblk.Type, at(prev.DefRange)),
					Subject:  hblk.DefRange.Ptr(),
				})
				continue
			}
			first[hblk.Type] = hblk
		}
		if ns.OneOf != "" {
			if prev, ok := group[ns.OneOf]; ok {
				d.diags = append(d.diags, &hcl.Diagnostic{
					Severity: hcl.DiagError,
					Summary:  "Multiple " + title(ns.OneOf) + " Blocks",
					Detail:   fmt.Sprintf("A %s holds only one %s block, but the %s block declared at %s is already one.", s.Type, ns.OneOf, prev.Type, at(prev.DefRange)),
					Subject:  hblk.DefRange.Ptr(),
				})
				continue
			}
			group[ns.OneOf] = hblk
		}
		b.blocks = append(b.blocks, &block{schema: ns, hcl: hblk, body: d.decodeBody(hblk.Body, ns, hblk.DefRange)})
	}
	return b
}

// evalAttr evaluates a.hcl and converts the value to the declared type.
func (d *decoder) evalAttr(a *attr) {
	switch a.schema.Type {
	case "type", "expression":
		return // decoded by the block's own decoder
	}
	v, diags := a.hcl.Expr.Value(d.ctx)
	d.diags = append(d.diags, diags...)
	if diags.HasErrors() || !v.IsWhollyKnown() {
		return // reported, or depends on a value that failed
	}
	a.raw, a.hasRaw = v, true
	if v.IsNull() {
		return
	}
	d.convertAttr(a, v, a.hcl.Expr.Range())
}

// defaultAttr sets a to the schema default.
func (d *decoder) defaultAttr(a *attr) {
	expr, diags := hclsyntax.ParseExpression([]byte(a.schema.Default), "<default>", hcl.InitialPos)
	if diags.HasErrors() {
		panic(fmt.Sprintf("config: bad schema default %q for %s: %s", a.schema.Default, a.schema.Name, diags))
	}
	v, diags := expr.Value(nil)
	if diags.HasErrors() {
		panic(fmt.Sprintf("config: bad schema default %q for %s: %s", a.schema.Default, a.schema.Name, diags))
	}
	a.raw, a.hasRaw = v, true
	d.convertAttr(a, v, hcl.Range{})
}

// convertAttr converts the non-null value v to a's declared type.
func (d *decoder) convertAttr(a *attr, v cty.Value, rng hcl.Range) {
	unmarked, marks := v.UnmarkDeep()
	a.sensitive = len(marks) > 0
	cv, err := convert.Convert(unmarked, ctyType(a.schema.Type))
	if err != nil {
		d.diags = append(d.diags, &hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  "Incorrect Attribute Value Type",
			Detail:   fmt.Sprintf("Inappropriate value for argument %q: %s; it must be a %s.", a.schema.Name, convErr(err), a.schema.Type),
			Subject:  rng.Ptr(),
		})
		return
	}
	if !cv.IsWhollyKnown() {
		return
	}
	switch a.schema.Type {
	case "duration":
		dur, err := time.ParseDuration(cv.AsString())
		if err != nil || dur < 0 {
			d.diags = append(d.diags, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "Invalid Duration",
				Detail:   fmt.Sprintf("The argument %q must be a non-negative duration such as \"90s\", \"5m\" or \"1h30m\"; %q is not.", a.schema.Name, cv.AsString()),
				Subject:  rng.Ptr(),
			})
			return
		}
		if max := a.schema.MaxDuration; max > 0 && dur > max {
			d.diags = append(d.diags, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "Invalid Duration",
				Detail:   fmt.Sprintf("The argument %q must be at most %s; %q is longer.", a.schema.Name, formatDuration(max), cv.AsString()),
				Subject:  rng.Ptr(),
			})
			return
		}
		a.dur = dur
	case "number":
		if !a.sensitive && !d.inBounds(a.schema, cv.AsBigFloat(), rng) {
			return
		}
	case "percent":
		n, ok := percent(cv)
		if !ok || math.IsNaN(n) || n < 0 || n > 100 {
			d.diags = append(d.diags, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "Invalid Percentage",
				Detail:   fmt.Sprintf("The argument %q must be a percentage between 0 and 100, such as \"1%%\", \"0.5%%\" or 5.", a.schema.Name),
				Subject:  rng.Ptr(),
			})
			return
		}
		a.num = n
	}
	a.val, a.ok = cv, true
}

// inBounds reports whether the number f is within the schema's bounds,
// reporting it when not.
func (d *decoder) inBounds(s *AttrSchema, f *big.Float, rng hcl.Range) bool {
	bounds := s.Bounds()
	if bounds == "" {
		return true
	}
	summary := "Number Out Of Range"
	ok := f.Cmp(big.NewFloat(s.Min)) >= 0 && f.Cmp(big.NewFloat(s.Max)) <= 0
	if ok && s.Whole && !f.IsInt() {
		ok, summary = false, "Invalid Whole Number"
	}
	if !ok {
		d.diags = append(d.diags, &hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  summary,
			Detail:   fmt.Sprintf("The argument %q must be %s; %s is not.", s.Name, strings.ToLower(bounds[:1])+strings.TrimSuffix(bounds[1:], "."), f.Text('g', 10)),
			Subject:  rng.Ptr(),
		})
	}
	return ok
}

// percentPattern is a percentage written as a string, before its "%".
var percentPattern = regexp.MustCompile(`^[0-9]+(\.[0-9]+)?$|^\.[0-9]+$`)

// percent reads "1.5%" or a number as a number of percent; a string must
// be a plain decimal ("NaN%", "1e2%" and "0x10%" are not).
func percent(v cty.Value) (float64, bool) {
	switch v.Type() {
	case cty.Number:
		f, _ := v.AsBigFloat().Float64()
		return f, !math.IsInf(f, 0)
	case cty.String:
		s := strings.TrimSpace(v.AsString())
		if !strings.HasSuffix(s, "%") {
			return 0, false
		}
		s = strings.TrimSpace(strings.TrimSuffix(s, "%"))
		if !percentPattern.MatchString(s) {
			return 0, false
		}
		f, err := strconv.ParseFloat(s, 64)
		return f, err == nil
	}
	return 0, false
}

// get returns the attribute named name; it panics on a name the schema lacks,
// which is a programming error.
func (b *body) get(name string) *attr {
	a, ok := b.attrs[name]
	if !ok {
		if b.schema.FreeForm {
			return &attr{schema: &AttrSchema{Name: name}}
		}
		panic("config: no attribute " + name + " in schema of " + b.schema.Type)
	}
	return a
}

// set reports whether the attribute was written in the source.
func (b *body) set(name string) bool {
	a := b.get(name)
	return a.hcl != nil && a.ok
}

// subject returns the range of the attribute's expression, or the block's
// header when the attribute is defaulted.
func (b *body) subject(name string) *hcl.Range {
	return b.get(name).subject(b.rng)
}

// noSecret reports a sensitive value in an attribute that cannot hold one.
func (d *decoder) noSecret(b *body, name string) bool {
	a := b.get(name)
	if !a.sensitive {
		return true
	}
	a.ok = false // reported once; later checks see no value
	d.diags = append(d.diags, &hcl.Diagnostic{
		Severity: hcl.DiagError,
		Summary:  "Sensitive Value Not Allowed",
		Detail:   fmt.Sprintf("The argument %q of a %s block is shown in plans and kept in state, so it cannot hold a value derived from a sensitive variable. Only service env values, postgres url, notify webhook and check attributes may.", name, b.schema.Type),
		Subject:  a.subject(b.rng),
	})
	return false
}

// str returns a string attribute that must not be sensitive.
func (d *decoder) str(b *body, name string) string {
	a := b.get(name)
	if !a.ok || !d.noSecret(b, name) {
		return ""
	}
	return a.val.AsString()
}

// secret returns a string attribute that may be sensitive; always forces
// Sensitive.
func (d *decoder) secret(b *body, name string, always bool) Secret {
	a := b.get(name)
	if !a.ok || a.val.IsNull() {
		return Secret{Sensitive: always}
	}
	return Secret{Value: a.val.AsString(), Sensitive: always || a.sensitive}
}

// int returns a whole-number attribute.
func (d *decoder) int(b *body, name string) int {
	a := b.get(name)
	if !a.ok || !d.noSecret(b, name) {
		return 0
	}
	var n int
	if err := gocty.FromCtyValue(a.val, &n); err != nil {
		a.ok = false // reported once; later checks see no value
		d.diags = append(d.diags, &hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  "Invalid Whole Number",
			Detail:   fmt.Sprintf("The argument %q must be a whole number; %s is not.", name, a.val.AsBigFloat().Text('g', -1)),
			Subject:  a.subject(b.rng),
		})
		return 0
	}
	return n
}

// float returns a number attribute.
func (d *decoder) float(b *body, name string) float64 {
	a := b.get(name)
	if !a.ok || !d.noSecret(b, name) {
		return 0
	}
	f, _ := a.val.AsBigFloat().Float64()
	return f
}

// bool returns a bool attribute.
func (d *decoder) bool(b *body, name string) bool {
	a := b.get(name)
	if !a.ok || !d.noSecret(b, name) {
		return false
	}
	return a.val.True()
}

// dur returns a duration attribute.
func (d *decoder) dur(b *body, name string) time.Duration {
	a := b.get(name)
	if !a.ok || !d.noSecret(b, name) {
		return 0
	}
	return a.dur
}

// strs returns a list(string) attribute; nil when unset.
func (d *decoder) strs(b *body, name string) []string {
	a := b.get(name)
	if !a.ok || !d.noSecret(b, name) {
		return nil
	}
	out := []string{}
	for it := a.val.ElementIterator(); it.Next(); {
		_, v := it.Element()
		if v.IsNull() {
			d.diags = append(d.diags, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "Null List Element",
				Detail:   fmt.Sprintf("The argument %q must not hold null elements.", name),
				Subject:  a.subject(b.rng),
			})
			continue
		}
		out = append(out, v.AsString())
	}
	return out
}

// strMap returns a map(string) attribute that must not be sensitive; nil
// when unset.
func (d *decoder) strMap(b *body, name string) map[string]string {
	a := b.get(name)
	if !a.ok || !d.noSecret(b, name) {
		return nil
	}
	out := map[string]string{}
	for it := a.val.ElementIterator(); it.Next(); {
		k, v := it.Element()
		if v.IsNull() {
			d.errorf(a.subject(b.rng), "Null Map Value", "The argument %q must not hold null values; %q is null.", name, k.AsString())
			continue
		}
		out[k.AsString()] = v.AsString()
	}
	return out
}

// enum returns a string attribute that must be one of allowed.
func (d *decoder) enum(b *body, name string, allowed ...string) string {
	v := d.str(b, name)
	if v == "" && !b.set(name) {
		return v
	}
	for _, ok := range allowed {
		if v == ok {
			return v
		}
	}
	d.diags = append(d.diags, &hcl.Diagnostic{
		Severity: hcl.DiagError,
		Summary:  "Unsupported Value",
		Detail:   fmt.Sprintf("The argument %q must be one of %s; %q is not.", name, quoteList(allowed), v),
		Subject:  b.subject(name),
	})
	return v
}

// first returns the first nested block of type typ, or nil.
func (b *body) first(typ string) *block {
	for _, blk := range b.blocks {
		if blk.hcl.Type == typ {
			return blk
		}
	}
	return nil
}

// errorf appends an error diagnostic.
func (d *decoder) errorf(subject *hcl.Range, summary, format string, args ...any) {
	d.diags = append(d.diags, &hcl.Diagnostic{
		Severity: hcl.DiagError,
		Summary:  summary,
		Detail:   fmt.Sprintf(format, args...),
		Subject:  subject,
	})
}

// at renders a range as file:line for diagnostic details.
func at(r hcl.Range) string {
	return fmt.Sprintf("%s:%d", r.Filename, r.Start.Line)
}

// title turns a block type such as "blue_green" into "Blue Green".
func title(s string) string {
	words := strings.Split(s, "_")
	for i, w := range words {
		if w != "" {
			words[i] = strings.ToUpper(w[:1]) + w[1:]
		}
	}
	return strings.Join(words, " ")
}

// quoteList renders ["a", "b", "c"] as `"a", "b" or "c"`.
func quoteList(items []string) string {
	q := make([]string, len(items))
	for i, s := range items {
		q[i] = strconv.Quote(s)
	}
	if len(q) < 2 {
		return strings.Join(q, "")
	}
	return strings.Join(q[:len(q)-1], ", ") + " or " + q[len(q)-1]
}

// convErr describes a cty conversion error, naming the element at fault
// ("[0]: a number is required").
func convErr(err error) string {
	var pe cty.PathError
	if !errors.As(err, &pe) || len(pe.Path) == 0 {
		return err.Error()
	}
	var b strings.Builder
	for _, step := range pe.Path {
		switch s := step.(type) {
		case cty.GetAttrStep:
			b.WriteString("." + s.Name)
		case cty.IndexStep:
			if s.Key.Type() == cty.String {
				fmt.Fprintf(&b, "[%q]", s.Key.AsString())
			} else if s.Key.Type() == cty.Number {
				b.WriteString("[" + s.Key.AsBigFloat().Text('f', -1) + "]")
			}
		}
	}
	return strings.TrimPrefix(b.String(), ".") + ": " + pe.Error()
}
