package planner_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/slipwayhq/slipway/planner"
	"github.com/slipwayhq/slipway/planner/plan"
	"github.com/slipwayhq/slipway/providers"
	"github.com/slipwayhq/slipway/state"
)

// TestRollback returns from release 2 to release 1 of a blue-green
// service, whose old color was kept running, stopped or removed.
func TestRollback(t *testing.T) {
	const r1, r2 = "shop-web-r1-1 shop-web-r1-2", "shop-web-r2-1 shop-web-r2-2"
	tests := []struct {
		keep      string
		wantSteps []string
		wantComps []string
	}{
		{
			keep:      "running",
			wantSteps: []string{"health " + r1, "traffic update [" + r1 + "]", "pause", "stop update " + r2},
			wantComps: []string{"", "traffic update [" + r2 + "]", "", "start update " + r2},
		},
		{
			keep:      "stopped",
			wantSteps: []string{"start update " + r1, "health " + r1, "traffic update [" + r1 + "]", "pause", "stop update " + r2},
			wantComps: []string{"stop update " + r1, "", "traffic update [" + r2 + "]", "", "start update " + r2},
		},
		{
			keep:      "removed",
			wantSteps: []string{"start create " + r1, "health " + r1, "traffic update [" + r1 + "]", "pause", "stop update " + r2},
			wantComps: []string{"remove delete " + r1, "", "traffic update [" + r2 + "]", "", "start update " + r2},
		},
	}
	for _, tt := range tests {
		t.Run(tt.keep, func(t *testing.T) {
			src := serviceHCL(2, fmt.Sprintf("blue_green {\n    keep_previous = %q\n  }", tt.keep))
			s1 := released(t, load(t, src))
			cfg2 := load(t, src, "version=v2")
			s2 := settle(mustPlan(t, testOpts(), cfg2, s1, world(s1)), s1)

			p, diags := planner.Rollback(t.Context(), testOpts(), cfg2, s2, s1, world(s2))
			if diags.HasErrors() {
				t.Fatal(diags.Error())
			}
			diffLines(t, "steps", kinds(p), tt.wantSteps)
			diffLines(t, "compensations", comps(p), tt.wantComps)
			// Release 2 served until the switch: it drains before it stops,
			// and undoing the switch drains release 1 before it stops.
			for i, st := range p.Steps {
				if st.Kind == plan.KindTraffic {
					if d := p.Steps[i+1]; !d.Drains() || d.Pause != planner.RetireDrain {
						t.Errorf("step after the switch = %s %q, want a %s drain", d.Kind, d.Detail, planner.RetireDrain)
					}
					if st.Compensation.Drain != planner.RetireDrain {
						t.Errorf("undoing the switch drains for %s, want %s", st.Compensation.Drain, planner.RetireDrain)
					}
				}
			}
			if p.Operation != "rollback" || p.Release != 3 || p.Reason != "rollback to release #1" {
				t.Errorf("operation %q release %d reason %q", p.Operation, p.Release, p.Reason)
			}
			for _, s := range p.Steps {
				for _, c := range s.Containers {
					if c.ImageID != idV1 || c.Release != 1 || c.Color != state.ColorBlue {
						t.Errorf("recreated %s from %s as release %d %s, want release 1's image id and color", c.Name, c.ImageID, c.Release, c.Color)
					}
				}
				if s.Traffic != nil && s.Traffic.Route.StableVersion != "v1" {
					t.Errorf("rollback routes to version %q", s.Traffic.Route.StableVersion)
				}
			}
			// Containers kept running pass on one probe; started or
			// recreated ones keep the configured gate.
			for _, s := range p.Steps {
				if s.Kind != plan.KindHealth {
					continue
				}
				want := 2
				if tt.keep == "running" {
					want = 1
				}
				if s.Health.HealthyThreshold != want || (want == 1) != strings.Contains(s.Detail, "once (already running)") {
					t.Errorf("health %q needs %d in a row, want %d", s.Detail, s.Health.HealthyThreshold, want)
				}
			}
			svc := p.Services["web"]
			if svc.ImageID != idV1 || svc.Color != state.ColorBlue || svc.Release != 1 {
				t.Errorf("next state = %+v, want release 1", svc)
			}
			if svc.Previous == nil || svc.Previous.Release != 2 || svc.Previous.Kept != state.KeptStopped {
				t.Errorf("previous = %+v, want release 2 kept stopped", svc.Previous)
			}
		})
	}
}

func TestRollbackImageGone(t *testing.T) {
	src := serviceHCL(1, `blue_green {
    keep_previous = "removed"
  }`)
	s1 := released(t, load(t, src))
	cfg2 := load(t, src, "version=v2")
	s2 := settle(mustPlan(t, testOpts(), cfg2, s1, world(s1)), s1)
	obs := world(s2)
	obs.ImageIDs[idV1] = false
	p, diags := planner.Rollback(t.Context(), testOpts(), cfg2, s2, s1, obs)
	if p != nil || !hasDiag(diags, "Image Of Target Release Is Gone") {
		t.Fatalf("plan = %v, diagnostics %v; want Image Of Target Release Is Gone", p, diags)
	}
}

func TestRollbackToLiveRelease(t *testing.T) {
	cfg := load(t, serviceHCL(2, ""))
	s1 := released(t, cfg)
	p, diags := planner.Rollback(t.Context(), testOpts(), cfg, s1, s1, world(s1))
	if diags.HasErrors() {
		t.Fatal(diags.Error())
	}
	if p.Changed() {
		t.Errorf("rolling back to the settled live release plans %v", kinds(p))
	}

	// After an interrupted apply that left a container removed, the same
	// rollback repairs it.
	obs := world(s1)
	obs.Containers = obs.Containers[1:]
	p, diags = planner.Rollback(t.Context(), testOpts(), cfg, s1, s1, obs)
	if diags.HasErrors() {
		t.Fatal(diags.Error())
	}
	diffLines(t, "steps", kinds(p), []string{
		"start create shop-web-r1-1",
		"health shop-web-r1-1",
		"traffic update [shop-web-r1-1 shop-web-r1-2]",
	})
}

func TestRollbackServiceNoLongerConfigured(t *testing.T) {
	s1 := released(t, load(t, serviceHCL(1, "")))
	s1.Services["gone"] = &state.Service{Name: "gone", Image: "demo:v1", ImageID: idV1, Release: 1}
	cfg := load(t, serviceHCL(1, ""), "version=v2")
	s2 := settle(mustPlan(t, testOpts(), cfg, s1, world(s1)), s1)
	delete(s2.Services, "gone")
	_, diags := planner.Rollback(t.Context(), testOpts(), cfg, s2, s1, world(s2))
	if !hasDiag(diags, "Service No Longer Configured") {
		t.Errorf("diagnostics = %v, want Service No Longer Configured", diags)
	}
}

// TestRollbackUndo fails each rollback at each of its steps and checks that
// undoing it routes only to running containers and leaves release 2 as it
// ran.
func TestRollbackUndo(t *testing.T) {
	for _, keep := range []string{"running", "stopped", "removed"} {
		t.Run(keep, func(t *testing.T) {
			src := serviceHCL(2, fmt.Sprintf("blue_green {\n    keep_previous = %q\n  }", keep)) + postCheckHCL
			s1 := released(t, load(t, src))
			cfg2 := load(t, src, "version=v2")
			s2 := settle(mustPlan(t, testOpts(), cfg2, s1, world(s1)), s1)
			obs := world(s2)
			p, diags := planner.Rollback(t.Context(), testOpts(), cfg2, s2, s1, obs)
			if diags.HasErrors() {
				t.Fatal(diags.Error())
			}
			replayUndo(t, p, s2, obs)
		})
	}
}

// TestRollbackAcrossMigrations returns from release 2, whose migration
// 0002 is still applied, to release 1: without -restore-db the plan warns
// and offers it; with it, the database is restored from the backup taken
// before release 2, after a fresh one.
func TestRollbackAcrossMigrations(t *testing.T) {
	src := serviceHCL(1, "") + `
postgres "main" {
  url        = "postgres://app@127.0.0.1:5432/app"
  migrations = "conf.d"
  backup {
    dir = "backups"
  }
}
`
	cfg1 := load(t, src)
	s1 := released(t, cfg1)
	m1 := state.Migration{Version: "0001", Name: "0001_a.sql", Release: 1}
	m2 := state.Migration{Version: "0002", Name: "0002_b.sql", Release: 2}
	s1.Databases = map[string]*state.Database{"main": {Name: "main", Migrations: []state.Migration{m1}}}
	cfg2 := load(t, src, "version=v2")
	s2 := settle(mustPlan(t, testOpts(), cfg2, s1, world(s1)), s1)
	backup := &state.Backup{Path: "backups/shop-main-r2-20250102T030405Z.dump", Release: 2, CreatedAt: testOpts().Now}
	s2.Databases = map[string]*state.Database{"main": {Name: "main", Migrations: []state.Migration{m1, m2}, LastBackup: backup}}
	obs := world(s2)
	obs.Databases = map[string]*providers.DatabaseObservation{"main": {Applied: []providers.AppliedMigration{
		{Version: "0001", Name: "0001_a.sql", Release: 1}, {Version: "0002", Name: "0002_b.sql", Release: 2}}}}

	tests := []struct {
		name         string
		restore      map[string]*state.Backup
		wantRestore  bool
		wantWarning  string
		wantNoWarn   string
		wantFailNote string
	}{
		{
			name:        "code only",
			wantWarning: "postgres.main: release #1 predates migrations still applied (0002_b.sql). Its code runs against the newer schema: safe only for additive (expand/contract) migrations. To restore the database too: slipway rollback -restore-db 1",
			wantNoWarn:  "writes made since",
		},
		{
			name:         "restore-db",
			restore:      map[string]*state.Backup{"main": backup},
			wantRestore:  true,
			wantWarning:  "postgres.main: writes made since 2025-01-02 03:04:05Z leave the live database; the fresh backup taken first keeps them.",
			wantNoWarn:   "predates migrations",
			wantFailNote: "postgres.main: the restore is one transaction",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opts := testOpts()
			opts.RestoreDB = tt.restore
			p, diags := planner.Rollback(t.Context(), opts, cfg2, s2, s1, obs)
			if diags.HasErrors() {
				t.Fatal(diags.Error())
			}
			var restores []*plan.Step
			for _, s := range p.Steps {
				if s.RestoreFrom != "" {
					restores = append(restores, s)
				}
			}
			switch {
			case !tt.wantRestore && len(restores) > 0:
				t.Errorf("plan restores %s without -restore-db", restores[0].RestoreFrom)
			case tt.wantRestore && (len(restores) != 1 || restores[0].RestoreFrom != backup.Path || restores[0].BackupDir != "backups" || restores[0].Database != "main"):
				t.Errorf("restore steps %+v, want one restoring %s with a fresh backup into backups", restores, backup.Path)
			case tt.wantRestore && !strings.Contains(restores[0].Detail, backup.Path):
				t.Errorf("restore detail %q does not name the backup", restores[0].Detail)
			}
			if tt.wantRestore && kinds(p)[len(kinds(p))-1] != "migrate delete" {
				t.Errorf("steps %q: the restore must come last, after the services moved", kinds(p))
			}
			if !slices.Contains(p.Warnings, tt.wantWarning) {
				t.Errorf("warnings %q, want %q", p.Warnings, tt.wantWarning)
			}
			for _, w := range p.Warnings {
				if strings.Contains(w, tt.wantNoWarn) {
					t.Errorf("unexpected warning %q", w)
				}
			}
			if tt.wantFailNote != "" && !slices.ContainsFunc(p.OnFailure, func(s string) bool { return strings.HasPrefix(s, tt.wantFailNote) }) {
				t.Errorf("on failure %q, want %q", p.OnFailure, tt.wantFailNote)
			}
		})
	}
}
