// Package postgres implements providers.Database on PostgreSQL through
// github.com/jackc/pgx/v5, with pg_dump and pg_restore for backups.
//
// # Connection and credentials
//
// New parses the connection URL (a postgres:// URL or a keyword/value
// string) without connecting; each operation opens its own connection. The
// password never appears in an error, in the command line or environment of
// a tool the package starts, nor in the tool output it reports: pg_dump,
// pg_restore and psql get it through a temporary PGPASSFILE (mode 0600,
// removed when the tool exits), they do not inherit the variables that hold
// it (such as the DATABASE_URL it came from), and every message is masked
// (the password plain and percent-encoded, then Options.Mask) by the rule
// of internal/redact: a password shorter than redact.MinLen is not searched
// for in messages, where it would garble them.
//
// # Migrations
//
// LoadMigrations reads a directory of NNNN_name.sql files (with optional
// NNNN_name.down.sql companions). Versions are compared as numbers, so
// "0042" follows "0041" and "42" duplicates "0042". Applied migrations are
// rows of slipway_schema_migrations (version, name, checksum, applied_at,
// applied_by, release, dirty). Pending compares files with rows and refuses
// a changed (*ChecksumError) or vanished (*VanishedError) applied file and
// a dirty row (*DirtyError).
//
// Migrate takes the session advisory lock
// pg_advisory_lock(hashtext('slipway_schema_migrations')) on its own
// connection, creates the table if needed, re-reads the applied rows under
// the lock (so a second migrator waits, then skips what the first applied)
// and applies each pending migration statement by statement, with the
// simple query protocol (one statement at a time, so that the failing
// statement is known even when PostgreSQL gives no position; statements
// split as psql splits them). A migration runs in one transaction together with
// the insert of its row; one whose first line is "-- slipway:no-transaction"
// runs outside a transaction, its row inserted dirty first and marked clean
// when every statement succeeded. The first failure stops Migrate with a
// *providers.MigrationError naming the file and the line of the failing
// statement (of the error itself when PostgreSQL gives a position). A
// migration in a transaction may not end it (COMMIT, ROLLBACK):
// ErrTransactionControl. Resolve clears a dirty row (applied) or deletes it
// (pending) by version or file name.
//
// # Backups
//
// Backup runs pg_dump -Fc into a temporary file beside the target, checks
// it with pg_restore --list, and renames it into place with mode 0600.
// Restore checks the backup the same way, terminates the other sessions on
// the database, and leaves the database exactly as the backup has it, in
// one transaction: all or nothing. psql (ON_ERROR_STOP) runs, in one
// transaction, a prefix that drops what the connected role owns (its
// schemas with their content, its tables, views, sequences, routines and
// types in other roles' schemas, its large objects; public is made again
// as initdb makes it) and then the script pg_restore --single-transaction
// writes from the archive. So objects created after the backup (a table of
// a later migration) are gone too. The end of the script, its COMMIT among
// it, reaches psql only once pg_restore has exited successfully. The role
// must own what the backup holds, as for pg_restore --clean.
//
// Programs (pg_dump, pg_restore, psql) come from Options.BinDir, else PATH,
// else the newest /usr/lib/postgresql/*/bin. BackupName and Prune name
// backups and enforce retention.
package postgres
