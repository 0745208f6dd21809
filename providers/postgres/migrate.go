package postgres

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sort"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/slipwayhq/slipway/providers"
)

// ErrNotDirty is returned by Resolve when no dirty migration has the
// version or name given.
var ErrNotDirty = errors.New("no dirty migration")

// ErrMigrating is returned by Resolve while another slipway holds the
// migration lock.
var ErrMigrating = errors.New("another migration is running")

// ErrFileChanged is returned by Migrate when a migration file no longer
// has the checksum it was loaded with.
var ErrFileChanged = errors.New("migration file changed since it was loaded")

// ErrTransactionControl is returned (inside a *providers.MigrationError)
// when a migration that runs in a transaction ends that transaction itself
// with COMMIT, ROLLBACK or the like.
var ErrTransactionControl = errors.New("migration ended its own transaction: remove BEGIN/COMMIT or start the file with '-- slipway:no-transaction'")

// MigrationsTable is the table that records applied migrations.
const MigrationsTable = "slipway_schema_migrations"

// lockSQL and unlockSQL take and release the advisory lock that serialises
// migrators.
const (
	lockSQL    = "SELECT pg_advisory_lock(hashtext('" + MigrationsTable + "'))"
	tryLockSQL = "SELECT pg_try_advisory_lock(hashtext('" + MigrationsTable + "'))"
	unlockSQL  = "SELECT pg_advisory_unlock(hashtext('" + MigrationsTable + "'))"
)

const createTableSQL = `CREATE TABLE IF NOT EXISTS ` + MigrationsTable + ` (
	version    text PRIMARY KEY,
	name       text NOT NULL,
	checksum   text NOT NULL,
	applied_at timestamptz NOT NULL DEFAULT now(),
	applied_by text NOT NULL,
	release    integer NOT NULL,
	dirty      boolean NOT NULL DEFAULT false
)`

// Applied lists the applied migrations, oldest first (by applied_at, then
// version); none when the table does not exist yet.
func (p *Postgres) Applied(ctx context.Context) ([]providers.AppliedMigration, error) {
	conn, err := p.connect(ctx)
	if err != nil {
		return nil, err
	}
	defer conn.Close(context.Background())
	return p.applied(ctx, conn)
}

func (p *Postgres) applied(ctx context.Context, conn *pgx.Conn) ([]providers.AppliedMigration, error) {
	var exists bool
	if err := conn.QueryRow(ctx, "SELECT to_regclass($1) IS NOT NULL", MigrationsTable).Scan(&exists); err != nil {
		return nil, p.errorf(err, "read applied migrations")
	}
	if !exists {
		return nil, nil
	}
	rows, err := conn.Query(ctx, "SELECT version, name, checksum, applied_at, applied_by, release, dirty FROM "+MigrationsTable)
	if err != nil {
		return nil, p.errorf(err, "read applied migrations")
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (providers.AppliedMigration, error) {
		var a providers.AppliedMigration
		err := r.Scan(&a.Version, &a.Name, &a.Checksum, &a.AppliedAt, &a.AppliedBy, &a.Release, &a.Dirty)
		return a, err
	})
	if err != nil {
		return nil, p.errorf(err, "read applied migrations")
	}
	sort.SliceStable(out, func(i, j int) bool {
		if !out[i].AppliedAt.Equal(out[j].AppliedAt) {
			return out[i].AppliedAt.Before(out[j].AppliedAt)
		}
		return versionLess(out[i].Version, out[j].Version)
	})
	return out, nil
}

// Migrate applies the migrations of ms not yet applied, in order, under the
// advisory lock, and returns the ones it applied. It refuses (before
// applying anything) as Pending does, and stops at the first failure with a
// *providers.MigrationError; the migrations before it stay applied.
func (p *Postgres) Migrate(ctx context.Context, ms []providers.Migration, release int, who string) ([]providers.AppliedMigration, error) {
	conn, err := p.connect(ctx)
	if err != nil {
		return nil, err
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(ctx, lockSQL); err != nil {
		return nil, p.errorf(err, "take the migration lock")
	}
	defer func() {
		// Closing the connection releases the lock as well.
		uctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_, _ = conn.Exec(uctx, unlockSQL)
	}()
	if _, err := conn.Exec(ctx, createTableSQL); err != nil {
		return nil, p.errorf(err, "create table %s", MigrationsTable)
	}
	applied, err := p.applied(ctx, conn)
	if err != nil {
		return nil, err
	}
	pending, err := Pending(ms, applied)
	if err != nil {
		return nil, fmt.Errorf("migrate: %w", err)
	}
	var done []providers.AppliedMigration
	for _, m := range pending {
		a, err := p.apply(ctx, conn, m, release, who)
		if err != nil {
			return done, err
		}
		done = append(done, a)
	}
	return done, nil
}

// apply runs one migration: in a transaction with its row, or, for a
// no-transaction migration, statement by statement after a dirty row.
func (p *Postgres) apply(ctx context.Context, conn *pgx.Conn, m providers.Migration, release int, who string) (providers.AppliedMigration, error) {
	file := m.Path
	if file == "" {
		file = m.Name
	}
	b, err := os.ReadFile(m.Path)
	if err != nil {
		return providers.AppliedMigration{}, &providers.MigrationError{File: file, Err: p.wrapMasked(err)}
	}
	if got := checksum(b); got != m.Checksum {
		return providers.AppliedMigration{}, &providers.MigrationError{File: file,
			Err: fmt.Errorf("%w: checksum %s, loaded as %s", ErrFileChanged, got, m.Checksum)}
	}
	src := string(b)
	stmts := splitStatements(src)
	a := providers.AppliedMigration{Version: m.Version, Name: m.Name, Checksum: m.Checksum, AppliedBy: who, Release: release}
	const insert = "INSERT INTO " + MigrationsTable + " (version, name, checksum, applied_by, release, dirty) VALUES ($1, $2, $3, $4, $5, $6) RETURNING applied_at"

	if m.NoTransaction {
		if err := conn.QueryRow(ctx, insert, a.Version, a.Name, a.Checksum, who, release, true).Scan(&a.AppliedAt); err != nil {
			return a, &providers.MigrationError{File: file, Err: p.errorf(err, "record migration")}
		}
		if err := p.run(ctx, conn, src, stmts, file, false); err != nil {
			return a, err
		}
		if _, err := conn.Exec(ctx, "UPDATE "+MigrationsTable+" SET dirty = false WHERE version = $1", a.Version); err != nil {
			return a, &providers.MigrationError{File: file, Err: p.errorf(err, "record migration")}
		}
		return a, nil
	}

	tx, err := conn.Begin(ctx)
	if err != nil {
		return a, &providers.MigrationError{File: file, Err: p.errorf(err, "begin transaction")}
	}
	defer func() { _ = tx.Rollback(context.Background()) }()
	if err := p.run(ctx, tx.Conn(), src, stmts, file, true); err != nil {
		return a, err
	}
	if err := tx.QueryRow(ctx, insert, a.Version, a.Name, a.Checksum, who, release, false).Scan(&a.AppliedAt); err != nil {
		return a, &providers.MigrationError{File: file, Err: p.errorf(err, "record migration")}
	}
	if err := tx.Commit(ctx); err != nil {
		return a, &providers.MigrationError{File: file, Err: p.errorf(err, "commit")}
	}
	return a, nil
}

// run executes statements one by one with the simple protocol; an error
// names the file and the line of the error (or of its statement). With
// inTx, a statement that leaves the transaction is an error.
func (p *Postgres) run(ctx context.Context, conn *pgx.Conn, src string, stmts []statement, file string, inTx bool) error {
	for _, st := range stmts {
		if _, err := conn.Exec(ctx, st.Text, pgx.QueryExecModeSimpleProtocol); err != nil {
			pos := 0
			var pgErr *pgconn.PgError
			if errors.As(err, &pgErr) {
				pos = int(pgErr.Position)
			}
			return &providers.MigrationError{File: file, Line: errorLine(src, st, pos), Err: p.wrapMasked(err)}
		}
		if inTx && conn.PgConn().TxStatus() != 'T' {
			return &providers.MigrationError{File: file, Line: errorLine(src, st, 0), Err: ErrTransactionControl}
		}
	}
	return nil
}

// Resolve marks the dirty migration with version (or file name) as
// applied, clearing its dirty flag, or as pending, deleting its row. It
// fails with ErrNotDirty when no dirty row matches and with ErrMigrating
// while a migration runs.
func (p *Postgres) Resolve(ctx context.Context, version string, applied bool) error {
	conn, err := p.connect(ctx)
	if err != nil {
		return err
	}
	defer conn.Close(context.Background())
	var locked bool
	if err := conn.QueryRow(ctx, tryLockSQL).Scan(&locked); err != nil {
		return p.errorf(err, "resolve migration %q: take the migration lock", version)
	}
	if !locked {
		return fmt.Errorf("resolve migration %q: %w", version, ErrMigrating)
	}
	defer func() { _, _ = conn.Exec(context.Background(), unlockSQL) }()
	var exists bool
	if err := conn.QueryRow(ctx, "SELECT to_regclass($1) IS NOT NULL", MigrationsTable).Scan(&exists); err != nil {
		return p.errorf(err, "resolve migration %q", version)
	}
	if !exists {
		return fmt.Errorf("resolve migration %q: %w", version, ErrNotDirty)
	}
	q := "DELETE FROM " + MigrationsTable + " WHERE dirty AND (version = $1 OR name = $1 OR ltrim(version, '0') = ltrim($1, '0'))"
	if applied {
		q = "UPDATE " + MigrationsTable + " SET dirty = false WHERE dirty AND (version = $1 OR name = $1 OR ltrim(version, '0') = ltrim($1, '0'))"
	}
	tag, err := conn.Exec(ctx, q, version)
	if err != nil {
		return p.errorf(err, "resolve migration %q", version)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("resolve migration %q: %w", version, ErrNotDirty)
	}
	return nil
}
