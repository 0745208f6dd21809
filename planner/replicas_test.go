package planner_test

import (
	"reflect"
	"testing"

	"github.com/slipwayhq/slipway/planner"
)

// TestReplicas: a replica serves when it runs and no HEALTHCHECK says
// otherwise; one that exited, restarts, fails its HEALTHCHECK or is gone
// makes its service degraded, with what the runtime said of it.
func TestReplicas(t *testing.T) {
	s1 := released(t, load(t, serviceHCL(3, "")))
	obs := world(s1)
	if got := planner.Replicas(s1, obs); len(got) != 1 || got[0].Degraded() || got[0].Healthy != 3 || got[0].Declared != 3 || got[0].Release != 1 {
		t.Fatalf("the live release as recorded: %+v, want 3 of 3 healthy", got)
	}

	obs.Containers[0].State, obs.Containers[0].RestartCount, obs.Containers[0].ExitCode = "restarting", 4, 137
	obs.Containers[1].Health = "unhealthy"
	obs.Containers = obs.Containers[:2] // the third is gone
	got := planner.Replicas(s1, obs)
	want := []planner.Replica{
		{Name: "shop-web-r1-1", State: "restarting", ExitCode: 137, RestartCount: 4},
		{Name: "shop-web-r1-2", State: "running", Health: "unhealthy"},
		{Name: "shop-web-r1-3", State: "missing"},
	}
	if len(got) != 1 || !got[0].Degraded() || got[0].Healthy != 0 || !reflect.DeepEqual(got[0].Down, want) {
		t.Fatalf("replicas = %+v, want 0 of 3 healthy, down %+v", got, want)
	}
	if !got[0].Down[0].Looping() || got[0].Down[1].Looping() || got[0].Down[2].Looping() {
		t.Errorf("looping: %v %v %v, want only the restarting one", got[0].Down[0].Looping(), got[0].Down[1].Looping(), got[0].Down[2].Looping())
	}

	// A replica restarted on another port serves nobody: its route sends
	// requests to the address state recorded.
	obs = world(s1)
	obs.Containers[1].HostAddr, obs.Containers[1].RestartCount = "127.0.0.1:45678", 1
	if got := planner.Replicas(s1, obs); got[0].Healthy != 2 || len(got[0].Down) != 1 ||
		got[0].Down[0].Moved != "127.0.0.1:45678" || got[0].Down[0].Routed != s1.Services["web"].Containers[1].HostAddr {
		t.Errorf("a replica on another port: %+v, want it down, moved", got[0])
	}

	// A replica whose HEALTHCHECK has not run yet serves: the release's
	// own health gate let requests reach it.
	obs = world(s1)
	obs.Containers[2].Health = "starting"
	if got := planner.Replicas(s1, obs); got[0].Degraded() {
		t.Errorf("a replica whose HEALTHCHECK is starting: %+v, want it serving", got[0])
	}
	// One its restart policy just brought back has passed no gate.
	obs.Containers[2].RestartCount = 1
	if got := planner.Replicas(s1, obs); got[0].Healthy != 2 || len(got[0].Down) != 1 || !got[0].Down[0].Looping() {
		t.Errorf("a restarted replica whose HEALTHCHECK is starting: %+v, want it down", got[0])
	}
}
