package operation

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/slipwayhq/slipway/internal/panics"
	"github.com/slipwayhq/slipway/notify"
	"github.com/slipwayhq/slipway/planner"
	"github.com/slipwayhq/slipway/providers"
	"github.com/slipwayhq/slipway/state"
)

// replicaLogLines is how many log lines status and a degraded notification
// show of a replica that does not serve.
const replicaLogLines = 10

// replicaPoll is how often a watch looks at the live release's replicas.
const replicaPoll = 2 * time.Second

// DescribeDown says in one line what became of a replica that does not
// serve: "web-r3-2 is restarting (exit code 1, restarted 4 times: a
// restart loop)".
func DescribeDown(r planner.Replica) string {
	if r.State == "missing" {
		return r.Name + " is gone (removed outside slipway)"
	}
	if r.Moved != "" {
		return fmt.Sprintf("%s runs on %s, but nginx sends its requests to %s (restarted on another port; 'slipway apply' routes to it again)", r.Name, r.Moved, r.Routed)
	}
	what := r.State
	if r.Health != "" {
		what += ", " + r.Health
	}
	var why []string
	if r.State != "running" {
		why = append(why, fmt.Sprintf("exit code %d", r.ExitCode))
	}
	if r.RestartCount > 0 {
		why = append(why, fmt.Sprintf("restarted %s", times(r.RestartCount)))
	}
	s := r.Name + " is " + what
	if len(why) > 0 {
		s += " (" + strings.Join(why, ", ")
		if r.Looping() {
			s += ": a restart loop"
		}
		s += ")"
	}
	return s
}

func times(n int) string {
	if n == 1 {
		return "once"
	}
	return fmt.Sprintf("%d times", n)
}

// degradedSummary names each degraded service and how many of its
// replicas serve: "service.web: 1 of 2 replicas healthy".
func degradedSummary(reps []planner.ServiceReplicas) string {
	var parts []string
	for _, r := range reps {
		if r.Degraded() {
			parts = append(parts, fmt.Sprintf("service.%s: %d of %d replicas healthy", r.Service, r.Healthy, r.Declared))
		}
	}
	return strings.Join(parts, "; ")
}

// downLogs returns the last log lines of each replica of reps that does
// not serve but still exists, masked, by container name; a replica whose
// logs cannot be read gets one line saying why.
func downLogs(ctx context.Context, rt providers.Runtime, reps []planner.ServiceReplicas, mask func(string) string) map[string][]string {
	out := map[string][]string{}
	for _, r := range reps {
		for _, d := range r.Down {
			if d.State == "missing" {
				continue
			}
			lines, err := rt.Logs(ctx, d.Name, replicaLogLines)
			if err != nil {
				lines = []string{"(logs unavailable: " + err.Error() + ")"}
			}
			for i, l := range lines {
				lines[i] = mask(l)
			}
			out[d.Name] = lines
		}
	}
	return out
}

// downDetails lists, for a notification, each replica that does not serve
// and its last log lines, indented.
func downDetails(reps []planner.ServiceReplicas, logs map[string][]string) []string {
	var out []string
	for _, r := range reps {
		for _, d := range r.Down {
			out = append(out, DescribeDown(d))
			for _, l := range logs[d.Name] {
				out = append(out, "  "+l)
			}
		}
	}
	return out
}

// replicaMonitor remembers whether the watched release was degraded when
// a watch last looked, so that it tells once when the release becomes
// degraded and once when it recovers.
type replicaMonitor struct{ degraded bool }

// look returns the event reps call for: notify.EventDegraded when a
// service became degraded, notify.EventRecovered when none is any more,
// "" when nothing changed.
func (m *replicaMonitor) look(reps []planner.ServiceReplicas) string {
	now := false
	for _, r := range reps {
		now = now || r.Degraded()
	}
	if now == m.degraded {
		return ""
	}
	m.degraded = now
	if now {
		return notify.EventDegraded
	}
	return notify.EventRecovered
}

// replicaWatch looks at the replicas of the live release every poll
// while ctx lasts, and when it becomes degraded or recovers, says so
// through tell and tells the notify blocks. The live release is the
// state's, whichever it is by then (a repair makes a new one of the same
// containers). It does not look while an operation is under way or
// paused (its journal exists): containers start and stop then before the
// state says so.
type replicaWatch struct {
	runtime  providers.Runtime
	poll     time.Duration
	tell     func(line string)
	notifier *notify.Notifier
	mask     func(string) string
	// read returns the current state and whether an operation's journal
	// exists.
	read func() (*state.State, bool, error)
}

// newReplicaWatch watches the replicas of o's state through rt.
func (o *run) newReplicaWatch(rt providers.Runtime, notifier *notify.Notifier, tell func(string)) *replicaWatch {
	return &replicaWatch{runtime: rt, poll: replicaPoll, tell: tell, notifier: notifier, mask: o.mask,
		read: func() (*state.State, bool, error) {
			j, err := o.backend.ReadJournal()
			if err != nil || j != nil {
				return nil, true, err
			}
			st, err := o.backend.Read()
			return st, false, err
		}}
}

// start runs the watch in the background; wait waits for it after ctx
// ended.
func (w *replicaWatch) start(ctx context.Context) (wait func()) {
	var wg sync.WaitGroup
	wg.Go(func() {
		defer panics.Recover()
		w.run(ctx)
	})
	return wg.Wait
}

func (w *replicaWatch) run(ctx context.Context) {
	var m replicaMonitor
	var lastErr string
	tick := time.NewTicker(w.poll)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		st, busy, err := w.read()
		if err != nil || busy || st.Release == 0 {
			continue
		}
		cs, err := w.runtime.Observe(ctx, st.Project, st.Env)
		if err != nil {
			if ctx.Err() == nil && err.Error() != lastErr {
				lastErr = err.Error()
				w.tell(fmt.Sprintf("slipway: warning: cannot look at the replicas: %v", err))
			}
			continue
		}
		lastErr = ""
		reps := planner.Replicas(st, &providers.Observations{Containers: cs})
		if ev := m.look(reps); ev != "" {
			w.told(ctx, st, reps, ev)
		}
	}
}

// told says the release became degraded (ev is notify.EventDegraded) or
// recovered, and tells the notify blocks.
func (w *replicaWatch) told(ctx context.Context, st *state.State, reps []planner.ServiceReplicas, ev string) {
	e := notify.Event{Type: ev, Project: st.Project, Env: st.Env, Release: st.Release, PriorRelease: st.Release,
		Operation: "watch", Who: who()}
	if ev == notify.EventDegraded {
		logs := downLogs(ctx, w.runtime, reps, w.mask)
		e.Summary = degradedSummary(reps)
		e.Details = downDetails(reps, logs)
		w.tell(fmt.Sprintf("slipway: release #%d is degraded: %s", st.Release, e.Summary))
		for _, d := range e.Details {
			w.tell("  " + d)
		}
	} else {
		e.Summary = "every replica serves again"
		w.tell(fmt.Sprintf("slipway: release #%d serves with every replica again", st.Release))
	}
	for _, warning := range w.notifier.Send(ctx, e) {
		w.tell("slipway: warning: " + warning)
	}
}
