package executor

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/slipwayhq/slipway/internal/safedir"
	"github.com/slipwayhq/slipway/planner/plan"
	"github.com/slipwayhq/slipway/providers"
	"github.com/slipwayhq/slipway/state"
	"github.com/slipwayhq/slipway/state/records"
)

// BackupName is the file name of a database backup: project, database,
// release and time, so that a directory of them sorts by age.
func BackupName(project, db string, release int, at string) string {
	return fmt.Sprintf("%s-%s-r%d-%s.dump", project, db, release, at)
}

func (r *run) database(name string) (providers.Database, error) {
	db := r.provs.Databases[name]
	if db == nil {
		return nil, fmt.Errorf("postgres %q is not connected", name)
	}
	return db, nil
}

// nextDB is the database's record in the next state, created on demand.
func (r *run) nextDB(name string) *state.Database {
	if r.next.Databases == nil {
		r.next.Databases = map[string]*state.Database{}
	}
	d := r.next.Databases[name]
	if d == nil {
		d = &state.Database{Name: name}
		r.next.Databases[name] = d
	}
	return d
}

// backup dumps a database into the step's directory and remembers the
// file, which a restore compensation of this run uses.
func (r *run) backup(ctx context.Context, s *plan.Step, label string) (string, error) {
	db, err := r.database(s.Database)
	if err != nil {
		return "", err
	}
	if err := safedir.Make(s.BackupDir, "backup directory"); err != nil {
		return "", err
	}
	at := r.opts.Now().UTC().Format("20060102T150405Z")
	name := BackupName(r.p.Project, s.Database, r.p.Release, at+label)
	path := filepath.Join(s.BackupDir, name)
	info, err := db.Backup(ctx, path)
	if err != nil {
		return "", err
	}
	d := r.nextDB(s.Database)
	d.LastBackup = &state.Backup{Path: info.Path, SHA256: info.SHA256, Size: info.Size, Release: r.p.Release, CreatedAt: info.CreatedAt}
	r.dbChanged = true
	r.hook.Progress(s, fmt.Sprintf("backup %s (%d bytes, sha256 %s)", info.Path, info.Size, shortSum(info.SHA256)))
	return info.Path, nil
}

func shortSum(s string) string {
	s = strings.TrimPrefix(s, "sha256:")
	if len(s) > 12 {
		return s[:12]
	}
	return s
}

func (r *run) migrate(ctx context.Context, s *plan.Step, sr *records.StepRecord) error {
	if s.RestoreFrom != "" {
		return r.restore(ctx, s, sr)
	}
	if s.Task != nil {
		tr, ok := r.provs.Runtime.(providers.TaskRunner)
		if !ok {
			return errors.New("the container runtime cannot run one-off tasks")
		}
		res, err := tr.RunTask(ctx, r.pinned(*s.Task))
		sr.Output = append(sr.Output, res.Logs...)
		if err != nil {
			return fmt.Errorf("migration command %q: %w; its last output:\n    %s", strings.Join(s.Task.Command, " "), err, strings.Join(tail(res.Logs, 20), "\n    "))
		}
		return nil
	}
	db, err := r.database(s.Database)
	if err != nil {
		return err
	}
	applied, err := db.Migrate(ctx, s.Migrations, r.p.Release, r.opts.Who)
	if len(applied) > 0 {
		d := r.nextDB(s.Database)
		for _, a := range applied {
			d.Migrations = append(d.Migrations, state.Migration{Version: a.Version, Name: a.Name, Checksum: a.Checksum, AppliedAt: a.AppliedAt, Release: a.Release})
			sr.Output = append(sr.Output, "applied "+a.Name)
		}
		r.dbChanged = true
	}
	if err == nil {
		r.recordOthers(ctx, s, sr, db)
	}
	var me *providers.MigrationError
	if errors.As(err, &me) {
		if rows, aerr := db.Applied(context.WithoutCancel(ctx)); aerr == nil {
			for _, a := range rows {
				if a.Dirty {
					r.nextDB(s.Database).Dirty = a.Name
					r.dbChanged = true
				}
			}
		}
	}
	return err
}

// restore takes a fresh backup of the database as it is (nothing is lost)
// and then restores the backup the step names.
func (r *run) restore(ctx context.Context, s *plan.Step, sr *records.StepRecord) error {
	from := s.RestoreFrom
	if from == "backup" {
		from = r.backups[s.Database]
		if from == "" {
			return errors.New("no backup was taken in this operation, so there is nothing to restore")
		}
	}
	db, err := r.database(s.Database)
	if err != nil {
		return err
	}
	fresh, err := r.backup(ctx, s, "-pre-restore")
	if err != nil {
		return fmt.Errorf("fresh backup before restoring: %w", err)
	}
	sr.Output = append(sr.Output, "fresh backup of the current database: "+fresh)
	r.rec.Warnings = append(r.rec.Warnings, fmt.Sprintf("postgres.%s: the database as it was before the restore is kept in %s", s.Database, fresh))
	if err := db.Restore(ctx, from); err != nil {
		return fmt.Errorf("restore %s: %w", from, err)
	}
	sr.Output = append(sr.Output, "restored "+from)
	rows, err := db.Applied(ctx)
	if err != nil {
		return fmt.Errorf("read migrations after restore: %w", err)
	}
	d := r.nextDB(s.Database)
	d.Migrations = nil
	d.Dirty = ""
	for _, a := range rows {
		d.Migrations = append(d.Migrations, state.Migration{Version: a.Version, Name: a.Name, Checksum: a.Checksum, AppliedAt: a.AppliedAt, Release: a.Release})
	}
	r.dbChanged = true
	return nil
}

// recordOthers records the step's migrations that the migrations table
// holds and the next state does not: another migrator (a second slipway on
// the same database) applied them while this one waited for the lock, so
// that the next plan sees no drift.
func (r *run) recordOthers(ctx context.Context, s *plan.Step, sr *records.StepRecord, db providers.Database) {
	files := map[string]bool{}
	for _, m := range s.Migrations {
		files[m.Version] = true
	}
	rows, err := db.Applied(ctx)
	if err != nil {
		return
	}
	d := r.nextDB(s.Database)
	recorded := map[string]bool{}
	for _, m := range d.Migrations {
		recorded[m.Version] = true
	}
	for _, a := range rows {
		if !files[a.Version] || recorded[a.Version] || a.Dirty {
			continue
		}
		d.Migrations = append(d.Migrations, state.Migration{Version: a.Version, Name: a.Name, Checksum: a.Checksum, AppliedAt: a.AppliedAt, Release: a.Release})
		sr.Output = append(sr.Output, "applied by another migrator meanwhile: "+a.Name)
		r.dbChanged = true
	}
}
