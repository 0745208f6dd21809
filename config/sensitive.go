package config

import (
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
)

// accepts says, for the functions whose errors quote their argument, what
// the function accepts: the part of the error that never depends on the
// value, kept when the value is sensitive.
var accepts = map[string]string{
	"tonumber":     `tonumber accepts a string holding a decimal number, such as "42"`,
	"tobool":       `tobool accepts only the strings "true" and "false"`,
	"parseint":     `parseint accepts a string of digits in the given base, such as "ff" in base 16`,
	"file":         "file reads a UTF-8 text file that exists and can be read",
	"base64decode": "base64decode accepts standard base64 that decodes to UTF-8 text",
	"jsondecode":   "jsondecode accepts a string holding valid JSON",
}

// redactDiags rewrites, in place, every diagnostic of an expression that
// failed while using a sensitive value: HCL and function errors quote the
// values they were given ("cannot convert \"<the secret>\" to number").
// The summary and subject stay (they never hold the value), the detail
// names the sensitive references of the expression and, for a function,
// what it accepts. The HCL text writer never shows a marked value in its
// "with var.x as ..." lines, so nothing else needs hiding.
func redactDiags(diags hcl.Diagnostics) {
	for _, d := range diags {
		if d.Expression == nil || d.EvalContext == nil {
			continue
		}
		refs := sensitiveRefs(d.Expression, d.EvalContext)
		if len(refs) == 0 {
			continue
		}
		used := strings.Join(refs, ", ")
		verb := "is"
		if len(refs) > 1 {
			verb = "are"
		}
		call, ok := hcl.DiagnosticExtra[hclsyntax.FunctionCallDiagExtra](d)
		if !ok {
			d.Detail = fmt.Sprintf("This expression uses %s, which %s sensitive; the details are not shown because they could reveal the value.", used, verb)
			continue
		}
		name := call.CalledFunctionName()
		d.Detail = fmt.Sprintf("Call to function %q failed on %s, which %s sensitive; the error is not shown because it would reveal the value.", name, used, verb)
		if a, ok := accepts[name]; ok {
			d.Detail += " " + a + "."
		}
	}
}

// sensitiveRefs returns the references of expr (var.x, local.y, ...) whose
// value in ctx holds a sensitive value, sorted.
func sensitiveRefs(expr hcl.Expression, ctx *hcl.EvalContext) []string {
	refs, _ := sensitiveUses(expr, ctx)
	return refs
}

// sensitiveUses returns the references of expr whose value in ctx holds a
// sensitive value, sorted, and the sensitive strings and numbers they hold,
// as text.
func sensitiveUses(expr hcl.Expression, ctx *hcl.EvalContext) (refs, values []string) {
	seen := map[string]bool{}
	for _, t := range expr.Variables() {
		v, diags := t.TraverseAbs(ctx)
		if diags.HasErrors() || !v.ContainsMarked() {
			continue
		}
		name := traversalString(t)
		if !seen[name] {
			seen[name] = true
			refs = append(refs, name)
			values = markedTexts(v, false, values)
		}
	}
	sort.Strings(refs)
	return refs, values
}

// markedTexts appends to out the strings and numbers of v that carry a
// mark, or sit inside a marked value, as text.
func markedTexts(v cty.Value, marked bool, out []string) []string {
	v, marks := v.Unmark()
	marked = marked || len(marks) > 0
	if v.IsNull() || !v.IsKnown() {
		return out
	}
	switch ty := v.Type(); {
	case ty == cty.String && marked && v.AsString() != "":
		out = append(out, v.AsString())
	case ty == cty.Number && marked:
		out = append(out, v.AsBigFloat().Text('f', -1))
	case ty.IsCollectionType() || ty.IsTupleType() || ty.IsObjectType():
		for it := v.ElementIterator(); it.Next(); {
			_, ev := it.Element()
			out = markedTexts(ev, marked, out)
		}
	}
	return out
}

// redactQuoted rewrites, in place, the diagnostics that carry no
// expression (the decoder's own, such as "Invalid Duration": "\"<the
// secret>\" is not") but are about an expression of files that reads a
// sensitive value, when their text quotes that value: the detail then names
// the references instead. ctx holds the final var and local values.
func redactQuoted(diags hcl.Diagnostics, files map[string]*hcl.File, ctx *hcl.EvalContext) {
	var exprs map[hcl.Range]hclsyntax.Expression
	for _, d := range diags {
		if d.Expression != nil || d.Subject == nil {
			continue
		}
		if exprs == nil {
			exprs = expressions(files)
		}
		expr, ok := exprs[*d.Subject]
		if !ok {
			continue
		}
		refs, values := sensitiveUses(expr, ctx)
		if !quotesAny(d.Summary+"\n"+d.Detail, values) {
			continue
		}
		verb := "is"
		if len(refs) > 1 {
			verb = "are"
		}
		d.Detail = fmt.Sprintf("The value here comes from %s, which %s sensitive, and is not valid; the details are not shown because they would reveal it.", strings.Join(refs, ", "), verb)
	}
}

// quotesAny reports whether text holds one of values, as it is or quoted
// with its special characters escaped.
func quotesAny(text string, values []string) bool {
	for _, v := range values {
		q := strconv.Quote(v)
		if strings.Contains(text, v) || strings.Contains(text, q[1:len(q)-1]) {
			return true
		}
	}
	return false
}

// expressions maps the range of every expression in files to it.
func expressions(files map[string]*hcl.File) map[hcl.Range]hclsyntax.Expression {
	out := map[hcl.Range]hclsyntax.Expression{}
	for _, f := range files {
		body, ok := f.Body.(*hclsyntax.Body)
		if !ok {
			continue
		}
		hclsyntax.VisitAll(body, func(n hclsyntax.Node) hcl.Diagnostics {
			if e, ok := n.(hclsyntax.Expression); ok {
				out[e.Range()] = e
			}
			return nil
		})
	}
	return out
}

// traversalString writes t as it is written in source: var.a.b["k"][0].
func traversalString(t hcl.Traversal) string {
	var b strings.Builder
	for _, step := range t {
		switch s := step.(type) {
		case hcl.TraverseRoot:
			b.WriteString(s.Name)
		case hcl.TraverseAttr:
			b.WriteString("." + s.Name)
		case hcl.TraverseIndex:
			switch {
			case s.Key.Type() == cty.String:
				fmt.Fprintf(&b, "[%q]", s.Key.AsString())
			case s.Key.Type() == cty.Number:
				b.WriteString("[" + s.Key.AsBigFloat().Text('f', -1) + "]")
			default:
				b.WriteString("[...]")
			}
		}
	}
	return b.String()
}

// hiddenSource is the Extra of a diagnostic whose source lines must not be
// shown; it wraps the Extra the diagnostic had.
type hiddenSource struct{ extra any }

// UnwrapDiagnosticExtra returns the Extra h wraps, for hcl.DiagnosticExtra.
func (h hiddenSource) UnwrapDiagnosticExtra() any { return h.extra }

// hideSources marks every diagnostic about a file of files: renderers then
// show its file and line, never its lines.
func hideSources(diags hcl.Diagnostics, files map[string]bool) {
	for _, d := range diags {
		if d.Subject != nil && files[d.Subject.Filename] {
			d.Extra = hiddenSource{extra: d.Extra}
		}
	}
}

// HidesSource reports whether d is about a variable-value file that sets a
// sensitive variable (or could not be read far enough to tell): its source
// lines would show the value, so a renderer must show only its file and
// line. Load's diagnostics carry this; the Subject range is kept.
func HidesSource(d *hcl.Diagnostic) bool {
	_, ok := hcl.DiagnosticExtra[hiddenSource](d)
	return ok
}
