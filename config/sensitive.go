package config

import (
	"fmt"
	"sort"
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
	seen := map[string]bool{}
	var out []string
	for _, t := range expr.Variables() {
		v, diags := t.TraverseAbs(ctx)
		if diags.HasErrors() || !v.ContainsMarked() {
			continue
		}
		name := traversalString(t)
		if !seen[name] {
			seen[name] = true
			out = append(out, name)
		}
	}
	sort.Strings(out)
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
