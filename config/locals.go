package config

import (
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
)

// evalLocals evaluates the attributes of every locals block in dependency
// order. A cycle is reported once as "Cyclic Local"; a local that fails (or
// depends on one that failed) becomes cty.DynamicVal so that later errors are
// not repeated.
func (l *loader) evalLocals(blocks []*hcl.Block, vars cty.Value) map[string]cty.Value {
	defs := map[string]*hcl.Attribute{}
	var order []string
	for _, blk := range blocks {
		attrs, diags := blk.Body.JustAttributes()
		l.diags = append(l.diags, diags...)
		for _, a := range sortedAttrs(attrs) {
			if prev, ok := defs[a.Name]; ok {
				l.errorf(a.NameRange.Ptr(), "Duplicate Local",
					"The local %q is declared more than once; first declared at %s.", a.Name, at(prev.NameRange))
				continue
			}
			defs[a.Name] = a
			order = append(order, a.Name)
		}
	}

	values := map[string]cty.Value{}
	const (
		visiting = 1
		done     = 2
	)
	stateOf := map[string]int{}
	var stack []string
	var visit func(name string)
	visit = func(name string) {
		switch stateOf[name] {
		case done:
			return
		case visiting:
			i := len(stack) - 1
			for i > 0 && stack[i] != name {
				i--
			}
			chain := append(append([]string{}, stack[i:]...), name)
			for _, n := range chain {
				values[n] = cty.DynamicVal
			}
			l.errorf(defs[name].NameRange.Ptr(), "Cyclic Local",
				"The locals refer to each other in a cycle: %s. Break the cycle by computing one of them without the others.", "local."+strings.Join(chain, " -> local."))
			return
		}
		stateOf[name] = visiting
		stack = append(stack, name)
		a := defs[name]
		for _, t := range a.Expr.Variables() {
			if t.RootName() != "local" || len(t) < 2 {
				continue
			}
			if dep, ok := t[1].(hcl.TraverseAttr); ok && defs[dep.Name] != nil {
				visit(dep.Name)
			}
		}
		stack = stack[:len(stack)-1]
		stateOf[name] = done
		if _, failed := values[name]; failed {
			return // part of a cycle
		}
		ctx := &hcl.EvalContext{
			Variables: map[string]cty.Value{"var": vars, "local": cty.ObjectVal(copyValues(values))},
			Functions: l.funcs,
		}
		v, diags := a.Expr.Value(ctx)
		l.diags = append(l.diags, diags...)
		if diags.HasErrors() {
			v = cty.DynamicVal
		}
		values[name] = v
	}
	for _, name := range order {
		visit(name)
	}
	return values
}

// copyValues returns a shallow copy of m.
func copyValues(m map[string]cty.Value) map[string]cty.Value {
	c := make(map[string]cty.Value, len(m))
	for k, v := range m {
		c[k] = v
	}
	return c
}

// sortedAttrs returns attrs in source order.
func sortedAttrs(attrs hcl.Attributes) []*hcl.Attribute {
	out := make([]*hcl.Attribute, 0, len(attrs))
	for _, a := range attrs {
		out = append(out, a)
	}
	for i := 1; i < len(out); i++ {
		for j := i; j > 0 && before(out[j].Range, out[j-1].Range); j-- {
			out[j], out[j-1] = out[j-1], out[j]
		}
	}
	return out
}

// before orders ranges by file, then offset.
func before(a, b hcl.Range) bool {
	if a.Filename != b.Filename {
		return a.Filename < b.Filename
	}
	return a.Start.Byte < b.Start.Byte
}
