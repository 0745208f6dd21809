package postgres

import "github.com/slipwayhq/slipway/providers"

// Migrations lists the migrations of Options.Migrations (LoadMigrations);
// ok is false when no directory was given.
func (p *Postgres) Migrations() (files []providers.Migration, ok bool, err error) {
	if p.migDir == "" {
		return nil, false, nil
	}
	files, err = LoadMigrations(p.migDir)
	return files, true, err
}

// Pending compares migration files with the applied ones (see the
// function Pending).
func (p *Postgres) Pending(files []providers.Migration, applied []providers.AppliedMigration) ([]providers.Migration, error) {
	return Pending(files, applied)
}

// PruneBackups removes the oldest backups of the project's database in
// dir beyond the newest keep, those named for Options.Name (see Prune).
func (p *Postgres) PruneBackups(dir, project string, keep int) ([]string, error) {
	return Prune(dir, project, p.name, keep)
}

var (
	_ providers.MigrationLister = (*Postgres)(nil)
	_ providers.BackupPruner    = (*Postgres)(nil)
)
