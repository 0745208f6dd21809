package config

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/ext/typeexpr"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/slipwayhq/slipway/internal/redact"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/convert"

	"github.com/slipwayhq/slipway/internal/valid"
)

// envVarPrefix prefixes environment variables that set variables.
const envVarPrefix = "SLIPWAY_VAR_"

// varDecl is a decoded variable block with its validation rules.
type varDecl struct {
	v    *Variable
	body *body
	// badDefault is true when the default was reported invalid.
	badDefault bool
}

// decodeVariable decodes a variable block; d evaluates with functions only.
func (d *decoder) decodeVariable(blk *hcl.Block, s *BlockSchema) *varDecl {
	b := d.decodeBody(blk.Body, s, blk.DefRange)
	vd := &varDecl{body: b}
	v := &Variable{
		Name:        blk.Labels[0],
		Type:        cty.DynamicPseudoType,
		Description: d.str(b, "description"),
		Sensitive:   d.bool(b, "sensitive"),
		DeclRange:   blk.DefRange,
	}
	if ta := b.get("type"); ta.hcl != nil {
		ty, diags := typeexpr.TypeConstraint(ta.hcl.Expr)
		d.diags = append(d.diags, diags...)
		if !diags.HasErrors() {
			v.Type = ty
		}
	}
	if da := b.get("default"); da.hasRaw && da.raw.IsNull() {
		v.Default = cty.NullVal(v.Type) // optional, null unless set
	} else if da.ok {
		def, err := convert.Convert(da.raw, v.Type)
		if err != nil {
			vd.badDefault = true
			d.errorf(da.subject(blk.DefRange), "Invalid Default Value",
				"The default of variable %q does not match its type %s: %s.", v.Name, typeexpr.TypeString(v.Type), convErr(err))
		} else {
			v.Default = def
		}
	}
	vd.v = v
	return vd
}

// valueSet gathers the values given to the declared variables, each
// source overriding the ones before it.
type valueSet struct {
	byName map[string]*Variable
	values map[string]cty.Value
	// failed names variables given an invalid value (already reported).
	failed map[string]bool
}

// resolveValues computes the final value of every declared variable, from
// lowest precedence: default, SLIPWAY_VAR_<name>, *.auto.vars.hcl (sorted),
// <env>.vars.hcl, then -var-file and -var in order. Sensitive values are
// marked.
func (l *loader) resolveValues(decls []*varDecl) map[string]cty.Value {
	vs := &valueSet{byName: map[string]*Variable{}, values: map[string]cty.Value{}, failed: map[string]bool{}}
	for _, vd := range decls {
		vs.byName[vd.v.Name] = vd.v
		if vd.v.Default != cty.NilVal {
			vs.values[vd.v.Name] = vd.v.Default
		}
	}
	l.environValues(vs)
	for _, p := range l.valueFiles() {
		l.loadValueFile(p, vs)
	}
	l.optionValues(vs)
	for _, vd := range decls {
		l.finishValue(vd, vs)
	}
	return vs.values
}

// environValues applies the SLIPWAY_VAR_<name> environment variables.
func (l *loader) environValues(vs *valueSet) {
	for _, kv := range l.environ {
		k, raw, ok := strings.Cut(kv, "=")
		if !ok || !strings.HasPrefix(k, envVarPrefix) {
			continue
		}
		name := strings.TrimPrefix(k, envVarPrefix)
		v := vs.byName[name]
		if v == nil {
			l.diags = append(l.diags, &hcl.Diagnostic{
				Severity: hcl.DiagWarning,
				Summary:  "Value For Undeclared Variable",
				Detail:   fmt.Sprintf("The environment variable %s sets a variable %q that no variable block declares; it is ignored.", k, name),
			})
			continue
		}
		l.setRaw(vs, v, raw, "environment variable "+k)
	}
}

// valueFiles lists the value files in the order they apply: the
// *.auto.vars.hcl files (sorted), <env>.vars.hcl, then each -var-file.
func (l *loader) valueFiles() []string {
	var files []string
	if auto, err := filepath.Glob(filepath.Join(l.dir, "*.auto.vars.hcl")); err == nil {
		sort.Strings(auto)
		files = append(files, auto...)
	}
	if l.opts.Env != "" {
		if err := valid.Name(l.opts.Env); err != nil {
			l.errorf(nil, "Invalid Environment Name", "The environment name %q is not valid: %s.", l.opts.Env, err)
		} else {
			p := filepath.Join(l.dir, l.opts.Env+".vars.hcl")
			if _, err := os.Stat(p); err == nil {
				files = append(files, p)
			}
		}
	}
	return append(files, l.opts.VarFiles...)
}

// optionValues applies the -var options in order.
func (l *loader) optionValues(vs *valueSet) {
	for _, kv := range l.opts.Vars {
		name, raw, ok := strings.Cut(kv, "=")
		name = strings.TrimSpace(name)
		if !ok || name == "" {
			l.errorf(nil, "Invalid -var Option", "The option -var %q is not of the form name=value.", kv)
			continue
		}
		v := vs.byName[name]
		if v == nil {
			l.errorf(nil, "Undeclared Variable", "The option -var sets %q, but no variable block declares a variable of that name.", name)
			continue
		}
		l.setRaw(vs, v, raw, "-var "+name)
	}
}

// setRaw sets v to a value given as text by where, or marks it failed.
func (l *loader) setRaw(vs *valueSet, v *Variable, raw, where string) {
	if val, ok := l.parseRaw(v, raw, where); ok && l.notEmpty(v, val, where, nil) {
		vs.values[v.Name] = val
	} else {
		vs.failed[v.Name] = true
	}
}

// finishValue settles vd's final value: unknown when it has none (an
// error unless one was reported already), marked when it is sensitive,
// with a warning when a sensitive string is too short to be masked.
func (l *loader) finishValue(vd *varDecl, vs *valueSet) {
	v := vd.v
	val, ok := vs.values[v.Name]
	if !ok && (vd.badDefault || vs.failed[v.Name]) {
		vs.values[v.Name] = cty.DynamicVal
		return
	}
	if !ok {
		l.errorf(v.DeclRange.Ptr(), "No Value For Required Variable",
			"The variable %q has no default and no value was given; set it with -var, a -var-file, a *.auto.vars.hcl file or %s%s.", v.Name, envVarPrefix, v.Name)
		vs.values[v.Name] = cty.DynamicVal
		return
	}
	if !v.Sensitive {
		return
	}
	if val.Type() == cty.String && val.IsKnown() && !val.IsNull() && val.AsString() != "" && !redact.Maskable(val.AsString()) {
		l.diags = append(l.diags, &hcl.Diagnostic{
			Severity: hcl.DiagWarning,
			Summary:  "Short Sensitive Value",
			Detail: fmt.Sprintf("The value of the sensitive variable %q is shorter than %d bytes. It is never shown in plans, plan files, state or records, but in the free text slipway relays (container logs, check output, errors of Docker and PostgreSQL) only values of at least %d bytes are masked: shorter ones match ordinary text by chance. Use a longer secret.",
				v.Name, redact.MinLen, redact.MinLen),
			Subject: v.DeclRange.Ptr(),
		})
	}
	vs.values[v.Name] = val.Mark(SensitiveMark)
}

// parseRaw reads a value given as text (-var, environment) for v. As in
// Terraform, a variable of a primitive type (string, number, bool) or of
// no type takes the text literally and converts it ("3" is a number,
// "true" a bool); a collection or structure is written as an HCL value
// (["a", "b"], { a = 1 }). An error says what type was expected, and
// quotes the text unless v is sensitive.
func (l *loader) parseRaw(v *Variable, raw, where string) (cty.Value, bool) {
	got := fmt.Sprintf(", got %q", raw)
	if v.Sensitive {
		got = ""
	}
	val := cty.StringVal(raw)
	if !v.Type.IsPrimitiveType() && v.Type != cty.DynamicPseudoType {
		expr, diags := hclsyntax.ParseExpression([]byte(raw), where, hcl.InitialPos)
		if !diags.HasErrors() {
			val, diags = expr.Value(nil)
		}
		if diags.HasErrors() {
			l.errorf(nil, "Invalid Value For Variable", "The %s does not hold a valid value for variable %q: a %s value is required, written in HCL syntax such as %s%s.",
				where, v.Name, typeexpr.TypeString(v.Type), hclExample(v.Type), got)
			return cty.NilVal, false
		}
	}
	cv, err := convert.Convert(val, v.Type)
	if err != nil {
		l.errorf(nil, "Invalid Value For Variable", "The %s does not hold a valid value for variable %q: %s%s.", where, v.Name, convErr(err), got)
		return cty.NilVal, false
	}
	return cv, true
}

// hclExample is an example of a value of a collection or structure type,
// as written in HCL.
func hclExample(ty cty.Type) string {
	if ty.IsMapType() || ty.IsObjectType() {
		return `{ a = "x" }`
	}
	return `["a", "b"]`
}

// notEmpty reports whether val may be v's value, and reports an error when
// it may not. An empty string is a value only for a variable that allows
// it by declaring default = "" (or default = null); for any other it nearly
// always comes from an unset shell variable (-var version=$VERSION), and
// would reach Docker as a raw "invalid reference format".
func (l *loader) notEmpty(v *Variable, val cty.Value, where string, subject *hcl.Range) bool {
	if val.Type() != cty.String || val.IsNull() || val.AsString() != "" {
		return true
	}
	if d := v.Default; d != cty.NilVal && (d.IsNull() || d.Type() == cty.String && d.AsString() == "") {
		return true
	}
	l.errorf(subject, "Empty Value For Variable",
		"The %s gives variable %q an empty value. An empty string is a value only for a variable whose default is \"\" or null; here it usually means an unset shell variable (-var %s=$VERSION). Give it a value, or declare default = \"\" if empty is meant.", where, v.Name, v.Name)
	return false
}

// loadValueFile applies the name = value attributes of a variable-value file.
func (l *loader) loadValueFile(path string, vs *valueSet) {
	f, diags := l.parser.ParseHCLFile(path)
	l.diags = append(l.diags, diags...)
	if f == nil || diags.HasErrors() {
		// What the broken lines set is unknown: hide them if they may
		// hold a secret.
		for _, v := range vs.byName {
			l.hideSource[path] = l.hideSource[path] || v.Sensitive
		}
		return
	}
	attrs, diags := f.Body.JustAttributes()
	l.diags = append(l.diags, diags...)
	for name := range attrs {
		if v := vs.byName[name]; v != nil && v.Sensitive {
			l.hideSource[path] = true
		}
	}
	names := make([]string, 0, len(attrs))
	for name := range attrs {
		names = append(names, name)
	}
	sort.Strings(names)
	ctx := &hcl.EvalContext{Functions: l.funcs}
	for _, name := range names {
		a := attrs[name]
		v := vs.byName[name]
		if v == nil {
			l.diags = append(l.diags, &hcl.Diagnostic{
				Severity: hcl.DiagWarning,
				Summary:  "Value For Undeclared Variable",
				Detail:   fmt.Sprintf("The file %s sets %q, but no variable block declares a variable of that name; it is ignored.", path, name),
				Subject:  a.NameRange.Ptr(),
			})
			continue
		}
		val, diags := a.Expr.Value(ctx)
		if v.Sensitive {
			// The value is not marked yet: the errors may quote it.
			for _, d := range diags {
				d.Detail = fmt.Sprintf("The value of the sensitive variable %q cannot be evaluated; the details are not shown because they could reveal it.", name)
			}
		}
		l.diags = append(l.diags, diags...)
		if diags.HasErrors() {
			vs.failed[name] = true
			continue
		}
		cv, err := convert.Convert(val, v.Type)
		if err != nil {
			vs.failed[name] = true
			l.errorf(a.Expr.Range().Ptr(), "Invalid Value For Variable", "The value for variable %q is not a valid %s: %s.", name, typeexpr.TypeString(v.Type), convErr(err))
			continue
		}
		if !l.notEmpty(v, cv, "file "+path, a.Expr.Range().Ptr()) {
			vs.failed[name] = true
			continue
		}
		vs.values[name] = cv
	}
}

// validateVariable runs v's validation rules against its final value.
func (l *loader) validateVariable(vd *varDecl, val cty.Value) {
	if !val.IsWhollyKnown() {
		return // no value: already reported
	}
	for _, blk := range vd.body.blocks {
		if blk.hcl.Type != "validation" {
			continue
		}
		cond := blk.body.get("condition").hcl
		if cond == nil {
			continue
		}
		valid := true
		for _, t := range cond.Expr.Variables() {
			if t.RootName() != "var" || len(t) < 2 || !isAttr(t[1], vd.v.Name) {
				l.errorf(t.SourceRange().Ptr(), "Invalid Validation Condition",
					"The condition of variable %q may refer only to var.%s.", vd.v.Name, vd.v.Name)
				valid = false
			}
		}
		if !valid {
			continue
		}
		ctx := &hcl.EvalContext{
			Variables: map[string]cty.Value{"var": cty.ObjectVal(map[string]cty.Value{vd.v.Name: val})},
			Functions: l.funcs,
		}
		res, diags := cond.Expr.Value(ctx)
		l.diags = append(l.diags, diags...)
		if diags.HasErrors() {
			continue
		}
		res, _ = res.UnmarkDeep()
		if res.IsNull() || !res.IsKnown() || res.Type() != cty.Bool {
			l.errorf(cond.Expr.Range().Ptr(), "Invalid Validation Condition", "The condition of variable %q must give true or false.", vd.v.Name)
			continue
		}
		if res.False() {
			msg := "The value of variable " + vd.v.Name + " is invalid."
			if m := blk.body.get("error_message"); m.ok {
				msg = m.val.AsString()
			}
			l.errorf(cond.Expr.Range().Ptr(), "Invalid Value For Variable", "%s", msg)
		}
	}
}

// isAttr reports whether step is .name (or ["name"]).
func isAttr(step hcl.Traverser, name string) bool {
	switch s := step.(type) {
	case hcl.TraverseAttr:
		return s.Name == name
	case hcl.TraverseIndex:
		return s.Key.Type() == cty.String && s.Key.AsString() == name
	}
	return false
}

// suggestRefs rewrites, in place, HCL's "Unsupported attribute" errors
// about var.<name> and local.<name> references to names nothing declares
// ("This object does not have an attribute named ...") to say what was
// not declared and, for a near miss, which declared name was meant, as
// HCL does for misspelt arguments.
func suggestRefs(diags hcl.Diagnostics, cfg *Config) {
	var vars, locals []string
	for _, v := range cfg.Variables {
		vars = append(vars, v.Name)
	}
	for name := range cfg.Locals {
		locals = append(locals, name)
	}
	sort.Strings(locals)
	for _, d := range diags {
		if d.Summary != "Unsupported attribute" || d.Expression == nil || d.Subject == nil {
			continue
		}
		for _, t := range d.Expression.Variables() {
			if len(t) < 2 {
				continue
			}
			attr, ok := t[1].(hcl.TraverseAttr)
			if !ok || attr.SrcRange != *d.Subject {
				continue
			}
			var kind, block string
			var names []string
			switch t.RootName() {
			case "var":
				kind, block, names = "Variable", fmt.Sprintf("a variable %q {} block", attr.Name), vars
			case "local":
				kind, block, names = "Local", "a locals block", locals
			default:
				continue
			}
			d.Summary = "Reference To Undeclared " + kind
			d.Detail = fmt.Sprintf("No %s named %q is declared.", strings.ToLower(kind), attr.Name)
			if s := closestName(attr.Name, names); s != "" {
				d.Detail += fmt.Sprintf(" Did you mean %q?", s)
			} else {
				d.Detail += " Declare it in " + block + "."
			}
			break
		}
	}
}

// closestName returns the name of names closest to given when it is a likely
// misspelling of it (an edit distance below 3, HCL's threshold), or "".
func closestName(given string, names []string) string {
	best, bestDist := "", 3
	for _, n := range names {
		if d := editDistance(given, n); d < bestDist {
			best, bestDist = n, d
		}
	}
	return best
}

// editDistance is the Levenshtein distance between a and b, in runes.
func editDistance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(rb)]
}
