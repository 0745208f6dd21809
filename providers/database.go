package providers

import (
	"context"
	"fmt"
	"time"
)

// Migration is one versioned SQL migration file.
type Migration struct {
	Version       string // "0042", the file's numeric prefix
	Name          string // "0042_add_index.sql"
	Path          string
	Checksum      string // "sha256:<hex>" of the file's bytes
	NoTransaction bool   // the file starts with "-- slipway:no-transaction"
	Down          string // path of NNNN_name.down.sql, "" if none
}

// AppliedMigration is a row of slipway_schema_migrations.
type AppliedMigration struct {
	Version   string
	Name      string
	Checksum  string
	AppliedAt time.Time
	AppliedBy string
	Release   int
	Dirty     bool // a no-transaction migration that failed part way
}

// BackupInfo describes a backup file.
type BackupInfo struct {
	Path      string
	SHA256    string
	Size      int64
	CreatedAt time.Time
}

// MigrationError is returned by Migrate when a migration fails: the file,
// the line of the failing statement when PostgreSQL gives a position, and
// its error. Migrations before it stay applied; it was rolled back unless
// it runs without a transaction (then it is recorded as dirty).
type MigrationError struct {
	File string
	Line int
	Err  error
}

func (e *MigrationError) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("migration %s:%d: %v", e.File, e.Line, e.Err)
	}
	return fmt.Sprintf("migration %s: %v", e.File, e.Err)
}

func (e *MigrationError) Unwrap() error { return e.Err }

// Database is a PostgreSQL database slipway backs up and migrates.
//
// Every method honours ctx. Credentials never appear in errors, logs or
// the command lines of the tools it starts. Migrate holds an advisory lock
// while it runs, so two slipways migrating one database serialise and no
// migration runs twice.
type Database interface {
	// Ping checks connectivity.
	Ping(ctx context.Context) error
	// Applied lists applied migrations, oldest first; none when the
	// migrations table does not exist yet.
	Applied(ctx context.Context) ([]AppliedMigration, error)
	// Migrate applies the migrations not yet applied, in order, each in its
	// own transaction, stopping at the first failure (*MigrationError). It
	// returns the ones it applied.
	Migrate(ctx context.Context, ms []Migration, release int, who string) ([]AppliedMigration, error)
	// Backup dumps the database to path (pg_dump -Fc, mode 0600) and checks
	// it with pg_restore --list.
	Backup(ctx context.Context, path string) (BackupInfo, error)
	// Restore replaces the database's content with the backup at path in
	// one transaction, after terminating the other sessions on it.
	Restore(ctx context.Context, path string) error
	// Resolve marks a dirty migration as applied or as pending.
	Resolve(ctx context.Context, version string, applied bool) error
}

// TaskResult is the outcome of a one-off task container.
type TaskResult struct {
	ExitCode int
	Logs     []string
}

// TaskRunner is the optional capability of a Runtime to run a one-off
// container from a release's image (an app's own migration command) and
// wait for it.
type TaskRunner interface {
	RunTask(ctx context.Context, spec ContainerSpec) (TaskResult, error)
}

// MigrationLister is a Database that reads its own versioned migration
// files and compares them with what is applied. It is optional: without
// it, plans see no pending migrations and a check for pending migrations
// is unavailable.
type MigrationLister interface {
	// Migrations lists the migration files in version order; ok is false
	// when the database has no migration directory.
	Migrations() (files []Migration, ok bool, err error)
	// Pending returns the files of files not yet applied, in order, or an
	// error naming an applied migration whose file changed or vanished,
	// or one left dirty.
	Pending(files []Migration, applied []AppliedMigration) ([]Migration, error)
}

// BackupPruner is a Database that removes its own old backups. It is
// optional: without it, backups are kept.
type BackupPruner interface {
	// PruneBackups removes all but the newest keep backups of the
	// project's database in dir, and returns the paths removed.
	PruneBackups(dir, project string, keep int) ([]string, error)
}

// Replicator is a Database that can report on its replication. It is
// optional: a check of replication is unavailable without it.
type Replicator interface {
	// Replication describes the replicas (for evidence) and returns an
	// error when replication is unhealthy or lags more than maxLag (0:
	// any lag is accepted).
	Replication(ctx context.Context, maxLag time.Duration) (string, error)
}
