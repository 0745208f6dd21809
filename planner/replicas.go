package planner

import (
	"github.com/slipwayhq/slipway/providers"
	"github.com/slipwayhq/slipway/state"
)

// ServiceReplicas is how many of the replicas of a service's live release
// serve, as the runtime reports them.
type ServiceReplicas struct {
	// Service names the service; Release is its live release.
	Service string
	Release int
	// Declared is the number of replicas the release runs (its
	// containers in the state); Healthy how many of them serve.
	Declared, Healthy int
	// Down are the replicas that do not serve, in the state's order.
	Down []Replica
}

// Degraded reports whether fewer replicas serve than the release runs.
func (s ServiceReplicas) Degraded() bool { return s.Healthy < s.Declared }

// Replica is one replica of a live release that does not serve.
type Replica struct {
	// Name is the container's name.
	Name string
	// State is the runtime's ("exited", "restarting", "running" for one
	// whose HEALTHCHECK fails or that answers on another port, ...), or
	// "missing" when the container is gone.
	State string
	// Health is the image HEALTHCHECK's verdict, "" without one.
	Health string
	// ExitCode is the exit code of its last run; RestartCount how many
	// times its restart policy brought it back.
	ExitCode, RestartCount int
	// Moved is the address a running replica answers on when it is not
	// the one its route sends requests to (Routed): restarted on another
	// port, it serves nobody.
	Moved, Routed string
}

// Looping reports whether the runtime keeps restarting the replica by its
// restart policy without it serving: it restarts now, or it was restarted
// before and does not serve.
func (r Replica) Looping() bool { return r.State == "restarting" || r.RestartCount > 0 }

// Replicas tells, for each service of prior (by name), how many of its
// live release's replicas serve in obs. A replica serves when its
// container runs on the address state recorded (the one its route sends
// requests to) and no image HEALTHCHECK reports it unhealthy. One whose
// HEALTHCHECK is still starting serves if it never restarted, since a
// release routes to a replica only after its own health gate passed (the
// engine's first check may come later); one its restart policy brought
// back passed no gate, and serves once its HEALTHCHECK says so. A plain function of its inputs: status and watch judge the
// same way.
func Replicas(prior *state.State, obs *providers.Observations) []ServiceReplicas {
	live := map[string]providers.Container{}
	if obs != nil {
		for _, c := range obs.Containers {
			live[c.Name] = c
		}
	}
	var out []ServiceReplicas
	for _, name := range sortedKeys(prior.Services) {
		ps := prior.Services[name]
		sr := ServiceReplicas{Service: name, Release: ps.Release, Declared: len(ps.Containers)}
		for _, c := range ps.Containers {
			lc, ok := live[c.Name]
			switch {
			case !ok:
				sr.Down = append(sr.Down, Replica{Name: c.Name, State: "missing"})
			case moved(c, lc):
				sr.Down = append(sr.Down, Replica{Name: c.Name, State: lc.State, Health: lc.Health, RestartCount: lc.RestartCount, Moved: lc.HostAddr, Routed: c.HostAddr})
			case lc.Running() && lc.Health != "unhealthy" && (lc.Health != "starting" || lc.RestartCount == 0):
				sr.Healthy++
			default:
				sr.Down = append(sr.Down, Replica{Name: c.Name, State: lc.State, Health: lc.Health, ExitCode: lc.ExitCode, RestartCount: lc.RestartCount})
			}
		}
		out = append(out, sr)
	}
	return out
}
