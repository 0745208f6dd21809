package planner

import (
	"fmt"
	"path/filepath"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/slipwayhq/slipway/config"
	"github.com/slipwayhq/slipway/planner/plan"
	"github.com/slipwayhq/slipway/providers"
	"github.com/slipwayhq/slipway/state"
)

// planDatabases adds each database's backup and migrate steps. They run
// before the service changes, except for the migrations of a database
// whose app-command service says migrate = "after".
func planDatabases(p *plan.Plan, cfg *config.Config, opts Options, prior *state.State, obs *providers.Observations, after bool) hcl.Diagnostics {
	var diags hcl.Diagnostics
	for _, db := range cfg.Postgres {
		if dbAfter(cfg, db) != after {
			continue
		}
		diags = append(diags, planDatabase(p, cfg, opts, prior, obs, db)...)
	}
	return diags
}

// dbAfter reports whether a database migrates after the service changes:
// when any service says migrate = "after".
func dbAfter(cfg *config.Config, db *config.Postgres) bool {
	for _, s := range cfg.Services {
		if s.Migrate == "after" {
			return true
		}
	}
	return false
}

func planDatabase(p *plan.Plan, cfg *config.Config, opts Options, prior *state.State, obs *providers.Observations, db *config.Postgres) hcl.Diagnostics {
	addr := "postgres." + db.Name
	o := obs.Databases[db.Name]
	if o == nil {
		o = &providers.DatabaseObservation{}
	}
	if o.Problem != nil {
		return hcl.Diagnostics{{Severity: hcl.DiagError, Summary: "Migrations Do Not Match The Database",
			Detail: fmt.Sprintf("postgres %q: %v.", db.Name, o.Problem), Subject: db.DeclRange.Ptr()}}
	}
	res := &plan.Resource{Address: addr}
	p.Resources = append(p.Resources, res)
	sp := &svcPlan{p: p, res: res}

	var task *providers.ContainerSpec
	if m := db.Migrate; m != nil {
		// The app migrates itself when its service gets a new image.
		for _, s := range p.Steps {
			for _, c := range s.Containers {
				if c.Service == m.Service && c.Release == p.Release && task == nil {
					t := c
					t.Name = fmt.Sprintf("%s-migrate-r%d", strings.TrimSuffix(c.Name, fmt.Sprintf("-r%d-%d", c.Release, c.Index)), p.Release)
					t.Command = m.Command
					t.Port = 0
					task = &t
				}
			}
		}
	}
	changes := len(o.Pending) > 0 || task != nil
	when := "never"
	if db.Backup != nil {
		when = db.Backup.When
	}
	if when == "always" && p.Changed() || when == "migrations" && changes {
		dir := db.Backup.Dir
		sp.add(&plan.Step{Kind: plan.KindBackup, Action: plan.Create, Provider: "postgres", Target: db.Name, Database: db.Name, BackupDir: dir,
			Detail: fmt.Sprintf("pg_dump -Fc -> %s", filepath.Join(dir, fmt.Sprintf("%s-%s-r%d-<time>.dump", cfg.Project.Name, db.Name, p.Release)))})
	}
	if len(o.Pending) > 0 {
		var n []string
		for _, m := range o.Pending {
			n = append(n, m.Name)
		}
		// The provider gets every file: it checks the applied ones again
		// under its lock and applies the rest.
		s := sp.add(&plan.Step{Kind: plan.KindMigrate, Action: plan.Update, Provider: "postgres", Target: db.Name, Database: db.Name,
			Migrations: o.Files, Detail: fmt.Sprintf("%d pending: %s", len(n), strings.Join(n, ", "))})
		if db.Restore && db.Backup != nil {
			s.Compensation = &plan.Step{Kind: plan.KindMigrate, Action: plan.Delete, Provider: "postgres", Target: db.Name, Database: db.Name,
				RestoreFrom: "backup", BackupDir: db.Backup.Dir, Detail: "restore the backup taken before migrating (after a fresh backup)"}
		}
	}
	if task != nil {
		s := sp.add(&plan.Step{Kind: plan.KindMigrate, Action: plan.Update, Provider: "docker", Target: task.Name, Database: db.Name, Task: task,
			Detail: fmt.Sprintf("run %q once from %s", strings.Join(task.Command, " "), task.Image)})
		if db.Restore && db.Backup != nil {
			s.Compensation = &plan.Step{Kind: plan.KindMigrate, Action: plan.Delete, Provider: "postgres", Target: db.Name, Database: db.Name,
				RestoreFrom: "backup", BackupDir: db.Backup.Dir, Detail: "restore the backup taken before migrating (after a fresh backup)"}
		}
	}
	if len(res.Steps) == 0 {
		res.Unchanged = true
	}
	if len(o.Pending) > 0 || task != nil {
		where := "the database keeps them"
		if db.Restore && db.Backup != nil {
			where = "the backup is restored"
		}
		p.Warnings = append(p.Warnings, fmt.Sprintf("postgres.%s: if a later step fails, traffic goes back but %s (restore by hand with: slipway rollback -restore-db).", db.Name, where))
	}
	return nil
}

// databaseDrift compares the migrations the state recorded with the
// migrations table.
func databaseDrift(prior *state.State, obs *providers.Observations) []plan.Drift {
	var out []plan.Drift
	for _, name := range sortedKeys(obs.Databases) {
		o := obs.Databases[name]
		recorded := map[string]bool{}
		if d := prior.Databases[name]; d != nil {
			for _, m := range d.Migrations {
				recorded[m.Version] = true
			}
		}
		live := map[string]bool{}
		for _, m := range o.Applied {
			live[m.Version] = true
			if !recorded[m.Version] {
				out = append(out, plan.Drift{Address: "postgres." + name, Detail: fmt.Sprintf("migration %s was applied outside slipway", m.Name)})
			}
		}
		if d := prior.Databases[name]; d != nil {
			for _, m := range d.Migrations {
				if !live[m.Version] {
					out = append(out, plan.Drift{Address: "postgres." + name, Detail: fmt.Sprintf("migration %s is recorded but not in the migrations table", m.Name)})
				}
			}
		}
	}
	return out
}
