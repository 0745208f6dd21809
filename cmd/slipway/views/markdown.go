package views

import (
	"bytes"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/slipwayhq/slipway/planner/plan"
)

// PlanMarkdown renders p for a pull request comment: a "### slipway plan"
// heading, drift as a list, a table of steps per resource, what happens
// on failure, and the summary in bold. It never writes ANSI codes or a
// container environment value. The only error is the writer's.
func PlanMarkdown(w io.Writer, p *plan.Plan) error {
	var b bytes.Buffer
	mdHeader(&b, p)
	if in := p.Interrupted; in != nil {
		mdInterrupted(&b, in, p.PriorRelease)
	}
	if len(p.Drift) > 0 {
		b.WriteString("\n**Drift since the last apply**\n\n")
		for _, d := range p.Drift {
			fmt.Fprintf(&b, "- `%s`: %s\n", d.Address, mdText(d.Detail))
		}
	}
	changed := p.Changed()
	if changed && len(p.PreChecks) > 0 {
		fmt.Fprintf(&b, "\n**Pre-deploy checks (%d):** %s\n", len(p.PreChecks), codeList(p.PreChecks))
	}
	mdResources(&b, groups(p))
	if changed && len(p.PostChecks) > 0 {
		fmt.Fprintf(&b, "\n**Post-deploy checks (%d):** %s\n", len(p.PostChecks), codeList(p.PostChecks))
	}
	if changed && len(p.OnFailure) > 0 {
		b.WriteString("\n**If a step fails**\n\n")
		for _, f := range p.OnFailure {
			fmt.Fprintf(&b, "- %s\n", mdText(f))
		}
	}
	if len(p.Warnings) > 0 {
		b.WriteString("\n**Warnings**\n\n")
		for _, wn := range p.Warnings {
			fmt.Fprintf(&b, "- %s\n", mdText(wn))
		}
	}
	fmt.Fprintf(&b, "\n**%s**\n", mdText(summarize(p).line(p)))

	_, err := b.WriteTo(w)
	return err
}

// mdHeader writes the heading, the state line and the reason.
func mdHeader(b *bytes.Buffer, p *plan.Plan) {
	name := p.Project
	if p.Env != "" {
		name += " (" + p.Env + ")"
	}
	verb := "plan"
	if p.Operation == "rollback" {
		verb = "rollback plan"
	}
	fmt.Fprintf(b, "### slipway %s: %s #%d -> #%d\n\n", verb, mdText(name), p.PriorRelease, p.Release)
	if p.Lineage == "" {
		b.WriteString("New state.\n")
	} else {
		l := p.Lineage
		if len(l) > 8 {
			l = l[:8]
		}
		fmt.Fprintf(b, "State lineage `%s`, serial %d.\n", l, p.Serial)
	}
	if p.Reason != "" {
		fmt.Fprintf(b, "\nReason: %s\n", mdText(p.Reason))
	}
}

// mdInterrupted writes the warning of an interrupted operation.
func mdInterrupted(b *bytes.Buffer, in *plan.Interrupted, prior int) {
	op := in.Operation
	if op == "" {
		op = "apply"
	}
	fmt.Fprintf(b, "\n> [!WARNING]\n> **Interrupted %s** `%s` of release #%d", op, in.OperationID, in.Release)
	if !in.Started.IsZero() {
		fmt.Fprintf(b, ", started %s", in.Started.UTC().Format(time.RFC3339))
	}
	b.WriteString(".\n")
	for _, s := range in.Finished {
		fmt.Fprintf(b, "> - done: %s\n", mdText(s))
	}
	for _, s := range in.Pending {
		fmt.Fprintf(b, "> - pending: %s\n", mdText(s))
	}
	fmt.Fprintf(b, "> \n> Run `slipway apply` to resume it or `slipway rollback` to return to release #%d.\n", prior)
}

// mdResources writes a table of steps per changed resource, then the
// unchanged ones in one line.
func mdResources(b *bytes.Buffer, gs []group) {
	var unchanged []string
	for _, g := range gs {
		if g.res.Unchanged && len(g.steps) == 0 {
			unchanged = append(unchanged, "`"+g.res.Address+"`")
			continue
		}
		fmt.Fprintf(b, "\n#### `%s`", g.res.Address)
		if ch := mdChange(g.res); ch != "" {
			fmt.Fprintf(b, ": %s", ch)
		}
		b.WriteString("\n\n")
		if len(g.steps) == 0 {
			b.WriteString("No steps.\n")
			continue
		}
		b.WriteString("| | step | target | detail |\n|---|---|---|---|\n")
		for _, s := range g.steps {
			fmt.Fprintf(b, "| `%s` | %s | %s | %s |\n", s.Action.Symbol(), s.Kind, mdCode(s.Target), mdCell(s.Detail))
		}
	}
	if len(unchanged) > 0 {
		fmt.Fprintf(b, "\nUnchanged: %s\n", strings.Join(unchanged, ", "))
	}
}

// mdChange is the markdown of change: images as code spans.
func mdChange(r *plan.Resource) string {
	var v string
	switch {
	case r.Unchanged:
		return "unchanged"
	case r.From == "" && r.To == "":
	case r.From == "":
		v = mdCode(r.To) + " (new)"
	case r.To == "":
		v = mdCode(r.From) + " → removed"
	case r.From == r.To:
		v = mdCode(r.To)
	default:
		v = mdCode(r.From) + " → " + mdCode(r.To)
	}
	if r.Strategy != "" && r.To != "" {
		v += " (" + mdText(r.Strategy) + ")"
	}
	return strings.TrimSpace(v)
}

// mdText escapes the characters that would start markup in running text
// and folds line breaks.
var mdEscaper = strings.NewReplacer(
	"\\", "\\\\", "*", "\\*", "`", "\\`", "[", "\\[", "]", "\\]",
	"<", "&lt;", "|", "\\|", "\r", "", "\n", " ",
)

func mdText(s string) string { return mdEscaper.Replace(s) }

// mdCell is mdText for a table cell.
func mdCell(s string) string { return mdText(s) }

// mdCode is s as a code span, safe inside a table cell.
func mdCode(s string) string {
	if s == "" {
		return ""
	}
	s = strings.NewReplacer("\r", "", "\n", " ", "|", "\\|").Replace(s)
	fence := "`"
	for strings.Contains(s, fence) {
		fence += "`"
	}
	if strings.HasPrefix(s, "`") || strings.HasSuffix(s, "`") {
		return fence + " " + s + " " + fence
	}
	return fence + s + fence
}

func codeList(names []string) string {
	out := make([]string, len(names))
	for i, n := range names {
		out[i] = mdCode(n)
	}
	return strings.Join(out, ", ")
}
