package views

import (
	"fmt"
	"strings"
	"time"

	"github.com/slipwayhq/slipway/internal/redact"
	"github.com/slipwayhq/slipway/planner/plan"
)

// Options control the text renderings.
type Options struct {
	// Color adds ANSI colour: created green, updated yellow, deleted red,
	// headers bold. The CLI sets it only on a terminal and never with
	// NO_COLOR.
	Color bool
	// Width wraps long lines at this many columns; 0 never wraps. The
	// live line of a TextHook is cut to fit it instead.
	Width int
	// Live makes a TextHook redraw the running step in place (elapsed
	// time, a bar for pauses and analysis windows) about four times a
	// second. The CLI sets it only when the output is a terminal.
	Live bool
}

// ANSI escape sequences.
const (
	ansiReset  = "\x1b[0m"
	ansiBold   = "\x1b[1m"
	ansiRed    = "\x1b[31m"
	ansiGreen  = "\x1b[32m"
	ansiYellow = "\x1b[33m"
)

// painter adds colour when it is on.
type painter bool

func (p painter) paint(code, s string) string {
	if !p || s == "" {
		return s
	}
	return code + s + ansiReset
}

func (p painter) bold(s string) string { return p.paint(ansiBold, s) }

// symbol is the coloured mark of an action.
func (p painter) symbol(a plan.Action) string {
	switch a {
	case plan.Create:
		return p.paint(ansiGreen, a.Symbol())
	case plan.Update:
		return p.paint(ansiYellow, a.Symbol())
	case plan.Delete:
		return p.paint(ansiRed, a.Symbol())
	}
	return a.Symbol()
}

// secrets is a set of sensitive values: those the steps of a plan carry in
// their containers' environment, which the hooks mask in free text
// (progress messages, errors).
type secrets map[string]bool

// add adds the sensitive values the steps carry (their containers'
// environment and those of their compensations) and returns seen.
func (seen secrets) add(steps ...*plan.Step) secrets {
	var add func(s *plan.Step)
	add = func(s *plan.Step) {
		if s == nil {
			return
		}
		for _, c := range s.Containers {
			for _, v := range c.Vars {
				if v.Sensitive && v.Value != "" {
					seen[v.Value] = true
				}
			}
		}
		add(s.Compensation)
	}
	for _, s := range steps {
		add(s)
	}
	return seen
}

// masker returns the masker of the set's values: those shorter than
// redact.MinLen are left alone.
func (seen secrets) masker() redact.Masker {
	vals := make([]string, 0, len(seen))
	for v := range seen {
		vals = append(vals, v)
	}
	return redact.New(vals...)
}

// summary is what the last line of a plan counts.
type summary struct {
	Release, Remove, Repair, RollBack int // services
	Steps                             int
	Checks                            int
	Pauses                            []time.Duration
	Approvals                         int
}

func summarize(p *plan.Plan) summary {
	var s summary
	for _, r := range p.Resources {
		if r.Unchanged || !strings.HasPrefix(r.Address, "service.") {
			continue
		}
		switch {
		case r.To == "":
			s.Remove++
		case r.Strategy == "repair":
			s.Repair++
		case r.Strategy == "rollback":
			s.RollBack++
		default:
			s.Release++
		}
	}
	s.Steps = len(p.Steps)
	s.Checks = len(p.PreChecks) + len(p.PostChecks)
	for _, st := range p.Steps {
		if st.Pause > 0 && (st.Kind == plan.KindPause || st.Kind == plan.KindAnalyse) {
			s.Pauses = append(s.Pauses, st.Pause)
		}
		if st.Approve {
			s.Approvals++
		}
	}
	return s
}

// minDuration is the sum of the pauses: the least time the plan takes.
func (s summary) minDuration() time.Duration {
	var d time.Duration
	for _, p := range s.Pauses {
		d += p
	}
	return d
}

// line is the summary sentence, without the "Plan: " prefix.
func (s summary) line(p *plan.Plan) string {
	if !p.Changed() {
		return fmt.Sprintf("No changes. The live world matches release #%d.", p.PriorRelease)
	}
	var parts []string
	if s.Release > 0 {
		parts = append(parts, count(s.Release, "service")+" to release")
	}
	if s.RollBack > 0 {
		parts = append(parts, count(s.RollBack, "service")+" to roll back")
	}
	if s.Repair > 0 {
		parts = append(parts, count(s.Repair, "service")+" to repair")
	}
	if s.Remove > 0 {
		parts = append(parts, count(s.Remove, "service")+" to remove")
	}
	parts = append(parts, count(s.Steps, "step"))
	if s.Checks > 0 {
		parts = append(parts, count(s.Checks, "check"))
	}
	out := "Plan: " + strings.Join(parts, ", ") + "."
	if len(s.Pauses) > 0 {
		out += fmt.Sprintf(" At least %s (%s).", formatDuration(s.minDuration()), s.pauseText())
	}
	if s.Approvals > 0 {
		out += fmt.Sprintf(" Stops at %s for 'slipway promote'.", count(s.Approvals, "approval gate"))
	}
	return out
}

func (s summary) pauseText() string {
	lo, hi := s.Pauses[0], s.Pauses[0]
	for _, p := range s.Pauses {
		lo, hi = min(lo, p), max(hi, p)
	}
	if lo == hi {
		return fmt.Sprintf("%s of %s", count(len(s.Pauses), "pause"), formatDuration(lo))
	}
	return fmt.Sprintf("%s, %s to %s", count(len(s.Pauses), "pause"), formatDuration(lo), formatDuration(hi))
}

func count(n int, one string) string {
	if n == 1 {
		return fmt.Sprintf("%d %s", n, one)
	}
	return fmt.Sprintf("%d %ss", n, one)
}

// formatDuration writes d the way people write it: "5m", "1h30m", "90ms",
// "2.5s", without the zero units time.Duration.String adds.
func formatDuration(d time.Duration) string {
	if d < time.Second || d%time.Second != 0 {
		return d.String()
	}
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}

// elapsed rounds a measured duration for display: tenths of a second
// below a minute, whole seconds above.
func elapsed(d time.Duration) string {
	if d < time.Minute {
		return fmt.Sprintf("%.1fs", d.Round(100*time.Millisecond).Seconds())
	}
	return formatDuration(d.Round(time.Second))
}

// header is "Release thebot (staging) #42 -> #43", or "Release thebot #42
// (no changes)" when nothing would happen.
func header(p *plan.Plan) string {
	op := "Release"
	if p.Operation == "rollback" {
		op = "Rollback"
	}
	name := p.Project
	if p.Env != "" {
		name += " (" + p.Env + ")"
	}
	if !p.Changed() {
		return fmt.Sprintf("%s %s #%d (no changes)", op, name, p.PriorRelease)
	}
	return fmt.Sprintf("%s %s #%d -> #%d", op, name, p.PriorRelease, p.Release)
}

// stateLine is "lineage 5f1c2a3b..., state serial 317" or "new state".
func stateLine(p *plan.Plan) string {
	if p.Lineage == "" {
		return "new state"
	}
	l := p.Lineage
	if len(l) > 8 {
		l = l[:8] + "..."
	}
	return fmt.Sprintf("lineage %s, state serial %d", l, p.Serial)
}

// group is a resource and the steps shown under it.
type group struct {
	res   *plan.Resource
	steps []*plan.Step
}

// groups orders the steps under their resources. Check steps are shown
// as the check lines and left out; steps of a resource the plan does not
// list get a group of their own, in the order they appear.
func groups(p *plan.Plan) []group {
	var out []group
	shown := map[int]bool{}
	for _, r := range p.Resources {
		g := group{res: r}
		for _, i := range r.Steps {
			if i >= 0 && i < len(p.Steps) {
				g.steps = append(g.steps, p.Steps[i])
				shown[i] = true
			}
		}
		out = append(out, g)
	}
	extra := map[string]int{}
	for i, s := range p.Steps {
		if shown[i] || s.Kind == plan.KindCheck {
			continue
		}
		addr := s.Resource
		if addr == "" {
			addr = s.Provider
		}
		k, ok := extra[addr]
		if !ok {
			k = len(out)
			extra[addr] = k
			out = append(out, group{res: &plan.Resource{Address: addr}})
		}
		out[k].steps = append(out[k].steps, s)
	}
	return out
}

// change is "from -> to   strategy" for a resource line.
func change(r *plan.Resource) string {
	if r.Unchanged {
		return "unchanged"
	}
	var v string
	switch {
	case r.From == "" && r.To == "":
	case r.From == "":
		v = r.To + " (new)"
	case r.To == "":
		v = r.From + " -> (removed)"
	case r.From == r.To:
		v = r.To
	default:
		v = r.From + " -> " + r.To
	}
	if r.Strategy != "" && r.To != "" {
		if v != "" {
			v += "   "
		}
		v += r.Strategy
	}
	return v
}
