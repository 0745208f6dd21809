package operation_test

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/slipwayhq/slipway/executor"
	"github.com/slipwayhq/slipway/operation"
)

// TestRunPullPinsDigest: an image only the registry has is pinned to its
// digest at plan time and pulled by it; a saved plan whose tag moved in
// the registry since is refused, and a registry that refuses stops the
// plan with its message, nothing changed.
func TestRunPullPinsDigest(t *testing.T) {
	dir, w := world(t)
	if _, _, err := w.AddRemote("demo:v3"); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "v3.plan")
	if _, _, err := run(t, w, operation.Operation{Kind: operation.KindPlan, Dir: dir, Out: out, Vars: []string{"version=v3"}}); err != nil {
		t.Fatal(err)
	}
	moved, id, err := w.AddRemote("demo:v3", "pushed again")
	if err != nil {
		t.Fatal(err)
	}
	_, _, err = run(t, w, operation.Operation{Kind: operation.KindApply, Dir: dir, PlanFile: out, Vars: []string{"version=v3"}})
	var oe *operation.Error
	if !errors.As(err, &oe) || oe.Outcome != executor.Refused || !strings.Contains(err.Error(), "the registry's demo:v3 is "+moved+" now") {
		t.Fatalf("a saved plan whose digest moved: %v", err)
	}
	if len(w.Containers("shop")) != 0 {
		t.Fatal("a refused plan started containers")
	}

	w.Fail["registry demo:v3"] = errors.New("read demo:v3 from its registry: unauthorized: authentication required")
	_, _, err = run(t, w, operation.Operation{Kind: operation.KindApply, Dir: dir, AutoApprove: true, Vars: []string{"version=v3"}})
	if !errors.As(err, &oe) || oe.Outcome != executor.Refused || !strings.Contains(err.Error(), "service.web: read demo:v3 from its registry: unauthorized") || !strings.Contains(oe.Hint, "DOCKER_AUTH_CONFIG") {
		t.Fatalf("a refusing registry: %v", err)
	}
	delete(w.Fail, "registry demo:v3")

	res, _, err := run(t, w, operation.Operation{Kind: operation.KindApply, Dir: dir, AutoApprove: true, Vars: []string{"version=v3"}})
	if err != nil {
		t.Fatal(err)
	}
	if cs := w.Containers("shop"); len(cs) != 1 || cs[0].ImageID != id {
		t.Fatalf("containers: %+v, want image %s", cs, id)
	}
	if s := res.Plan.Services["web"]; s.ImageDigest != "demo@"+moved {
		t.Errorf("the snapshot records %q", s.ImageDigest)
	}
}
