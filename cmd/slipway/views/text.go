package views

import (
	"bytes"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/slipwayhq/slipway/planner/plan"
)

// kindWidth is the column the detail of a step starts after its kind.
const kindWidth = 14

// PlanText renders p for people:
//
//	Release thebot #42 -> #43 (lineage 5f1c2a3b..., state serial 317)
//
//	Drift since the last apply:
//	  ~ service.backend  container thebot-backend-r42-2 was removed outside slipway
//
//	Pre-deploy checks (2): secret_key_set, db_reachable
//
//	  service.backend   thebot/backend:1.2.3 -> thebot/backend:1.3.0   canary
//	    + start         2 containers (candidate) from thebot/backend:1.3.0
//	    · health        GET /api/health, 2 in a row, deadline 1m0s
//
//	  service.frontend  unchanged
//
//	Plan: 1 service to release, 2 steps, 2 checks.
//
// An interrupted apply, the post-deploy checks, what happens on failure
// and warnings have sections of their own. Colour only with o.Color.
// Container environment values are never rendered. The only error is the
// writer's.
func PlanText(w io.Writer, p *plan.Plan, o Options) error {
	var b bytes.Buffer
	c := painter(o.Color)
	t := &textWriter{b: &b, width: o.Width}

	head := header(p) + " (" + stateLine(p) + ")"
	t.line(c.bold(head))
	if p.Reason != "" {
		t.wrapped("Reason: ", p.Reason, "  ")
	}
	if in := p.Interrupted; in != nil {
		textInterrupted(t, c, in, p.PriorRelease)
	}
	if len(p.Drift) > 0 {
		textDrift(t, c, p.Drift)
	}
	changed := p.Changed()
	if changed && len(p.PreChecks) > 0 {
		t.blank()
		t.wrapped(c.bold(fmt.Sprintf("Pre-deploy checks (%d):", len(p.PreChecks)))+" ", strings.Join(p.PreChecks, ", "), "  ")
	}
	textResources(t, c, groups(p))
	if changed && len(p.PostChecks) > 0 {
		t.blank()
		t.wrapped(c.bold(fmt.Sprintf("Post-deploy checks (%d):", len(p.PostChecks)))+" ", strings.Join(p.PostChecks, ", "), "  ")
	}
	if changed && len(p.OnFailure) > 0 {
		t.blank()
		t.line(c.bold("If a step fails:"))
		for _, f := range p.OnFailure {
			t.wrapped("  ", f, "    ")
		}
	}
	if len(p.Warnings) > 0 {
		t.blank()
		for _, wn := range p.Warnings {
			t.wrapped(c.paint(ansiYellow, "Warning:")+" ", wn, "  ")
		}
	}
	t.blank()
	t.wrapEach(summarize(p).line(p), c.bold)

	_, err := b.WriteTo(w)
	return err
}

// textInterrupted writes the section of an interrupted operation: the
// steps it finished and those it did not, and what to do.
func textInterrupted(t *textWriter, c painter, in *plan.Interrupted, prior int) {
	t.blank()
	op := in.Operation
	if op == "" {
		op = "apply"
	}
	desc := fmt.Sprintf("Interrupted %s %s of release #%d", op, in.OperationID, in.Release)
	if !in.Started.IsZero() {
		desc += ", started " + in.Started.UTC().Format(time.RFC3339)
	}
	t.line(c.bold(desc + ":"))
	for _, s := range in.Finished {
		t.wrapped("  done     ", s, "           ")
	}
	for _, s := range in.Pending {
		t.wrapped("  pending  ", s, "           ")
	}
	t.wrapped("", fmt.Sprintf("Run 'slipway apply' to resume it or 'slipway rollback' to return to release #%d.", prior), "")
}

// textDrift writes the drift section, addresses aligned.
func textDrift(t *textWriter, c painter, drift []plan.Drift) {
	t.blank()
	t.line(c.bold("Drift since the last apply:"))
	w := 0
	for _, d := range drift {
		w = max(w, len(d.Address))
	}
	for _, d := range drift {
		lead := fmt.Sprintf("  %s %-*s  ", c.symbol(plan.Update), w, d.Address)
		t.wrappedCols(lead, 4+w+2, d.Detail)
	}
}

// textResources writes each resource with its change and its steps.
func textResources(t *textWriter, c painter, gs []group) {
	aw := 0
	for _, g := range gs {
		aw = max(aw, len(g.res.Address))
	}
	for i, g := range gs {
		// Resources without steps (unchanged ones) sit together.
		if i == 0 || len(g.steps) > 0 || len(gs[i-1].steps) > 0 {
			t.blank()
		}
		ch := change(g.res)
		if ch == "" {
			t.line("  " + c.bold(g.res.Address))
		} else {
			t.line("  " + c.bold(g.res.Address) + strings.Repeat(" ", aw-len(g.res.Address)+2) + ch)
		}
		for _, s := range g.steps {
			lead := fmt.Sprintf("    %s %-*s", c.symbol(s.Action), kindWidth, s.Kind)
			t.wrappedCols(lead, 6+kindWidth, s.Detail)
		}
	}
}

// textWriter writes lines, wrapping them at width columns.
type textWriter struct {
	b     *bytes.Buffer
	width int
}

func (t *textWriter) line(s string) {
	t.b.WriteString(s)
	t.b.WriteByte('\n')
}

func (t *textWriter) blank() {
	if t.b.Len() > 0 {
		t.b.WriteByte('\n')
	}
}

// wrapped writes lead then text, continuing on lines that start with
// indent. The visible width of lead is measured without ANSI codes.
func (t *textWriter) wrapped(lead, text, indent string) {
	t.wrap(lead, visible(lead), text, indent)
}

// wrappedCols writes lead (cols visible columns) then text, continuing
// under the start of text.
func (t *textWriter) wrappedCols(lead string, cols int, text string) {
	t.wrap(lead, cols, text, strings.Repeat(" ", cols))
}

func (t *textWriter) wrap(lead string, cols int, text, indent string) {
	if t.width <= 0 || cols+visible(text) <= t.width {
		t.line(strings.TrimRight(lead+text, " "))
		return
	}
	cur := lead
	curCols := cols
	first := true
	for _, word := range strings.Fields(text) {
		wl := visible(word)
		if !first && curCols+1+wl > t.width {
			t.line(cur)
			cur, curCols, first = indent+word, visible(indent)+wl, false
			continue
		}
		if first {
			cur += word
			curCols += wl
			first = false
			continue
		}
		cur += " " + word
		curCols += 1 + wl
	}
	t.line(strings.TrimRight(cur, " "))
}

// wrapEach wraps text from the first column and styles each line on its
// own, so that no escape sequence spans a line break.
func (t *textWriter) wrapEach(text string, style func(string) string) {
	var sub bytes.Buffer
	(&textWriter{b: &sub, width: t.width}).wrap("", 0, text, "")
	for _, l := range strings.Split(strings.TrimSuffix(sub.String(), "\n"), "\n") {
		t.line(style(l))
	}
}

// visible counts the runes of s that take a column: ANSI escape
// sequences take none.
func visible(s string) int {
	n := 0
	esc := false
	for _, r := range s {
		switch {
		case esc:
			if r >= '@' && r <= '~' && r != '[' {
				esc = false
			}
		case r == '\x1b':
			esc = true
		default:
			n++
		}
	}
	return n
}
