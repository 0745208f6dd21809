package postgres

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/slipwayhq/slipway/internal/atomicfile"
	"github.com/slipwayhq/slipway/internal/safedir"
	"github.com/slipwayhq/slipway/providers"
)

// ErrToolNotFound is returned when pg_dump or pg_restore cannot be found.
var ErrToolNotFound = errors.New("postgresql client program not found")

// ErrEmptyBackup is returned by Backup when pg_dump wrote nothing usable,
// and by Restore for such a file.
var ErrEmptyBackup = errors.New("backup is empty")

// ErrSessionsRemain is returned by Restore when other sessions on the
// database do not end after being terminated.
var ErrSessionsRemain = errors.New("other sessions on the database did not end")

// backupTimeLayout is the UTC time in backup names.
const backupTimeLayout = "20060102T150405Z"

// BackupName returns the file name of a backup:
// "<project>-<db>-r<release>-<20060102T150405Z>.dump", t in UTC.
func BackupName(project, db string, release int, t time.Time) string {
	return fmt.Sprintf("%s-%s-r%d-%s.dump", project, db, release, t.UTC().Format(backupTimeLayout))
}

// parseBackupName returns the release and time of a name BackupName made
// for project and db.
func parseBackupName(name, project, db string) (int, time.Time, bool) {
	rest, ok := strings.CutPrefix(name, project+"-"+db+"-r")
	if !ok {
		return 0, time.Time{}, false
	}
	rest, ok = strings.CutSuffix(rest, ".dump")
	if !ok {
		return 0, time.Time{}, false
	}
	rel, ts, ok := strings.Cut(rest, "-")
	if !ok {
		return 0, time.Time{}, false
	}
	r, err := strconv.Atoi(rel)
	if err != nil || r < 0 || strconv.Itoa(r) != rel {
		return 0, time.Time{}, false
	}
	t, err := time.Parse(backupTimeLayout, ts)
	if err != nil {
		return 0, time.Time{}, false
	}
	return r, t, true
}

// Prune removes the oldest backups of project's database db in dir beyond
// the newest keep (by the time in their names, then release) and returns
// the paths it removed. keep <= 0 keeps every backup. Files not named by
// BackupName for project and db are never touched.
func Prune(dir, project, db string, keep int) ([]string, error) {
	if keep <= 0 {
		return nil, nil
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("prune backups in %q: %w", dir, err)
	}
	type backup struct {
		name    string
		release int
		t       time.Time
	}
	var bs []backup
	for _, e := range entries {
		if !e.Type().IsRegular() {
			continue
		}
		if r, t, ok := parseBackupName(e.Name(), project, db); ok {
			bs = append(bs, backup{e.Name(), r, t})
		}
	}
	sort.Slice(bs, func(i, j int) bool {
		if !bs[i].t.Equal(bs[j].t) {
			return bs[i].t.After(bs[j].t)
		}
		if bs[i].release != bs[j].release {
			return bs[i].release > bs[j].release
		}
		return bs[i].name > bs[j].name
	})
	var removed []string
	for _, b := range bs[min(keep, len(bs)):] {
		path := filepath.Join(dir, b.name)
		if err := os.Remove(path); err != nil {
			return removed, fmt.Errorf("prune backup %q: %w", path, err)
		}
		removed = append(removed, path)
	}
	return removed, nil
}

// Backup dumps the database with pg_dump -Fc to path (mode 0600, its
// directory made 0700 if missing), checks it with pg_restore --list and
// returns its sha256 and size. pg_dump writes to a new temporary file
// beside path (atomicfile.New) that is renamed into place only once
// checked, so a failed or empty dump leaves nothing at path and a symbolic
// link at path is replaced, never written through. A directory that
// safedir.Make refuses (a link, one others can write) is refused before
// anything is written.
func (p *Postgres) Backup(ctx context.Context, path string) (providers.BackupInfo, error) {
	if p.closed.Load() {
		return providers.BackupInfo{}, ErrClosed
	}
	info, err := p.backup(ctx, path)
	if err != nil {
		return providers.BackupInfo{}, fmt.Errorf("back up to %q: %w", path, err)
	}
	return info, nil
}

// backup is Backup without the path in its errors.
func (p *Postgres) backup(ctx context.Context, path string) (providers.BackupInfo, error) {
	if err := safedir.Make(filepath.Dir(path), "backup directory"); err != nil {
		return providers.BackupInfo{}, err
	}
	f, err := atomicfile.New(path)
	if err != nil {
		return providers.BackupInfo{}, err
	}
	defer f.Cleanup()
	created := p.now()
	if _, err := p.tool(ctx, "pg_dump", "--format=custom", "--no-password", "--file="+f.Name(), "--dbname="+p.toolConn); err != nil {
		return providers.BackupInfo{}, err
	}
	if err := p.checkBackup(ctx, f.Name()); err != nil {
		return providers.BackupInfo{}, err
	}
	sum, size, err := fileSum(f.Name())
	if err != nil {
		return providers.BackupInfo{}, err
	}
	if err := f.Commit(); err != nil {
		return providers.BackupInfo{}, err
	}
	return providers.BackupInfo{Path: path, SHA256: sum, Size: size, CreatedAt: created}, nil
}

// checkBackup runs pg_restore --list on a backup: it must be non-empty and
// readable as a custom-format archive.
func (p *Postgres) checkBackup(ctx context.Context, path string) error {
	fi, err := os.Stat(path)
	if err != nil {
		return err
	}
	if fi.Size() == 0 {
		return ErrEmptyBackup
	}
	// A database with nothing in it yet (before its first migration) dumps
	// to an archive with a header and no entry: that is a valid backup. A
	// file pg_restore cannot read as an archive fails here.
	if _, err := p.tool(ctx, "pg_restore", "--list", path); err != nil {
		return fmt.Errorf("check backup: %w", err)
	}
	return nil
}

// Restore replaces the database's content with the backup at path, in one
// transaction: all of it or, on any error, nothing. It checks the backup
// with pg_restore --list and terminates the other sessions on the
// database, then pipes pg_restore's script of the archive into psql
// behind a prefix (clearSQL) that first drops what this role owns: its
// schemas with everything in them, its objects in the schemas of other
// roles and its large objects. So objects created after the backup (a
// table of a later migration) are gone too, and the database is left
// exactly as the archive has it.
func (p *Postgres) Restore(ctx context.Context, path string) error {
	if p.closed.Load() {
		return ErrClosed
	}
	if err := p.checkBackup(ctx, path); err != nil {
		return fmt.Errorf("restore %q: %w", path, err)
	}
	// Both programs are found before any session is ended.
	restoreBin, err := p.findTool("pg_restore")
	if err != nil {
		return fmt.Errorf("restore %q: %w", path, err)
	}
	psqlBin, err := p.findTool("psql")
	if err != nil {
		return fmt.Errorf("restore %q: %w", path, err)
	}
	if err := p.terminateSessions(ctx); err != nil {
		return fmt.Errorf("restore %q: %w", path, err)
	}
	if err := p.restoreScript(ctx, restoreBin, psqlBin, path); err != nil {
		return fmt.Errorf("restore %q: %w", path, err)
	}
	return nil
}

// clearSQL opens the restore's transaction and empties the database of
// what the connected role owns, so that the archive's script that follows
// rebuilds it from nothing. It drops every schema the role owns (or holds
// the privileges of, pg_database_owner included) but those of extensions;
// in the schemas left (another role's, such as public owned by the
// bootstrap superuser before PostgreSQL 15) the tables, views, sequences,
// routines and types the role owns; and its large objects. It then makes
// public again as initdb makes it, since archives never create public:
// owned by pg_database_owner with USAGE for everyone (PostgreSQL 15 and
// later), or owned by the role with CREATE and USAGE for everyone.
const clearSQL = `SET client_min_messages = error;
SET lock_timeout = '1min';
SET search_path = '';
BEGIN;
DO $slipway_clear$
DECLARE
	r record;
BEGIN
	FOR r IN
		SELECT n.nspname FROM pg_catalog.pg_namespace n
		WHERE n.nspname NOT LIKE 'pg\_%' AND n.nspname <> 'information_schema'
			AND pg_catalog.pg_has_role(n.nspowner, 'USAGE')
			AND NOT EXISTS (SELECT FROM pg_catalog.pg_depend d
				WHERE d.classid = 'pg_catalog.pg_namespace'::pg_catalog.regclass AND d.objid = n.oid AND d.deptype = 'e')
	LOOP
		EXECUTE pg_catalog.format('DROP SCHEMA %I CASCADE', r.nspname);
	END LOOP;
	FOR r IN
		SELECT c.oid::pg_catalog.regclass::text AS name, CASE c.relkind
			WHEN 'v' THEN 'VIEW' WHEN 'm' THEN 'MATERIALIZED VIEW' WHEN 'S' THEN 'SEQUENCE'
			WHEN 'f' THEN 'FOREIGN TABLE' ELSE 'TABLE' END AS kind
		FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
		WHERE n.nspname NOT LIKE 'pg\_%' AND n.nspname <> 'information_schema'
			AND c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f')
			AND pg_catalog.pg_has_role(c.relowner, 'USAGE')
			AND NOT EXISTS (SELECT FROM pg_catalog.pg_depend d
				WHERE d.classid = 'pg_catalog.pg_class'::pg_catalog.regclass AND d.objid = c.oid AND d.deptype IN ('e', 'a', 'i'))
	LOOP
		IF pg_catalog.to_regclass(r.name) IS NOT NULL THEN
			EXECUTE pg_catalog.format('DROP %s IF EXISTS %s CASCADE', r.kind, r.name);
		END IF;
	END LOOP;
	FOR r IN
		SELECT p.oid::pg_catalog.regprocedure::text AS name
		FROM pg_catalog.pg_proc p JOIN pg_catalog.pg_namespace n ON n.oid = p.pronamespace
		WHERE n.nspname NOT LIKE 'pg\_%' AND n.nspname <> 'information_schema'
			AND pg_catalog.pg_has_role(p.proowner, 'USAGE')
			AND NOT EXISTS (SELECT FROM pg_catalog.pg_depend d
				WHERE d.classid = 'pg_catalog.pg_proc'::pg_catalog.regclass AND d.objid = p.oid AND d.deptype = 'e')
	LOOP
		IF pg_catalog.to_regprocedure(r.name) IS NOT NULL THEN
			EXECUTE pg_catalog.format('DROP ROUTINE IF EXISTS %s CASCADE', r.name);
		END IF;
	END LOOP;
	FOR r IN
		SELECT t.oid::pg_catalog.regtype::text AS name
		FROM pg_catalog.pg_type t JOIN pg_catalog.pg_namespace n ON n.oid = t.typnamespace
		WHERE n.nspname NOT LIKE 'pg\_%' AND n.nspname <> 'information_schema'
			AND (t.typtype IN ('b', 'd', 'e', 'r') AND t.typrelid = 0 AND t.typcategory <> 'A'
				OR t.typtype = 'c' AND EXISTS (SELECT FROM pg_catalog.pg_class c WHERE c.oid = t.typrelid AND c.relkind = 'c'))
			AND pg_catalog.pg_has_role(t.typowner, 'USAGE')
			AND NOT EXISTS (SELECT FROM pg_catalog.pg_depend d
				WHERE d.classid = 'pg_catalog.pg_type'::pg_catalog.regclass AND d.objid = t.oid AND d.deptype = 'e')
	LOOP
		IF pg_catalog.to_regtype(r.name) IS NOT NULL THEN
			EXECUTE pg_catalog.format('DROP TYPE IF EXISTS %s CASCADE', r.name);
		END IF;
	END LOOP;
	PERFORM pg_catalog.lo_unlink(l.oid) FROM pg_catalog.pg_largeobject_metadata l
		WHERE pg_catalog.pg_has_role(l.lomowner, 'USAGE');
	IF pg_catalog.to_regnamespace('public') IS NULL THEN
		IF pg_catalog.current_setting('server_version_num')::int >= 150000 THEN
			CREATE SCHEMA public AUTHORIZATION pg_database_owner;
			GRANT USAGE ON SCHEMA public TO PUBLIC;
		ELSE
			CREATE SCHEMA public;
			GRANT CREATE, USAGE ON SCHEMA public TO PUBLIC;
		END IF;
		COMMENT ON SCHEMA public IS 'standard public schema';
	END IF;
END
$slipway_clear$;
`

// commitSQL ends the script. pg_restore --single-transaction already ends
// its script with COMMIT (psql then warns that no transaction is in
// progress); this one makes sure that a complete script never ends
// uncommitted.
const commitSQL = "\nCOMMIT;\n"

// restoreScript runs restoreBin (pg_restore) --single-transaction --file=- on the
// archive (it needs no connection) and feeds clearSQL, its script and
// commitSQL to psql with ON_ERROR_STOP. The end of the script (its COMMIT
// among it) reaches psql only once pg_restore has exited successfully: a
// pg_restore that fails part way leaves psql at end of input inside the
// open transaction, which the server then rolls back.
func (p *Postgres) restoreScript(ctx context.Context, restoreBin, psqlBin, path string) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()

	restore := exec.CommandContext(ctx, restoreBin, "--single-transaction", "--file=-", path)
	restore.Env = toolEnv(os.Environ(), p.secrets)
	restore.WaitDelay = 5 * time.Second
	var restoreErr bytes.Buffer
	restore.Stderr = &restoreErr
	script, err := restore.StdoutPipe()
	if err != nil {
		return fmt.Errorf("run pg_restore: %w", err)
	}

	env, removePassfile, err := p.connEnv("psql")
	if err != nil {
		return err
	}
	defer removePassfile()
	var restoreDone struct {
		once sync.Once
		err  error
	}
	waitRestore := func() error {
		restoreDone.once.Do(func() { restoreDone.err = restore.Wait() })
		return restoreDone.err
	}
	psql := exec.CommandContext(ctx, psqlBin, "--no-psqlrc", "--quiet", "--set=ON_ERROR_STOP=1",
		"--dbname="+p.toolConn, "--file=-")
	psql.Env = env
	psql.WaitDelay = 5 * time.Second
	psql.Stdin = io.MultiReader(strings.NewReader(clearSQL),
		&heldTail{r: script, keep: heldTailSize, done: waitRestore},
		strings.NewReader(commitSQL))
	var psqlErr bytes.Buffer
	psql.Stdout, psql.Stderr = io.Discard, &psqlErr

	if p.observe != nil {
		p.observe(restore)
		p.observe(psql)
	}
	if err := restore.Start(); err != nil {
		return p.errorf(err, "run pg_restore")
	}
	perr := psql.Run()
	cancel() // a pg_restore still writing to a psql that stopped
	if rerr := waitRestore(); rerr != nil && (perr == nil || errors.Is(perr, rerr)) {
		return p.toolError("pg_restore", rerr, restoreErr.String())
	}
	if perr != nil {
		return p.toolError("psql", perr, psqlErr.String())
	}
	return nil
}

// heldTailSize is how much of pg_restore's script heldTail keeps back: far
// more than its closing COMMIT and footer.
const heldTailSize = 64 << 10

// heldTail reads r but keeps its last keep bytes back until r ends and
// done, called then, returns nil; when done fails, the tail is never
// read and Read returns done's error.
type heldTail struct {
	r    io.Reader
	keep int
	done func() error
	buf  []byte
	end  bool
	err  error
}

func (h *heldTail) Read(p []byte) (int, error) {
	for {
		if len(h.buf) > h.keep || (h.end && h.err == nil && len(h.buf) > 0) {
			n := len(h.buf)
			if !h.end {
				n -= h.keep
			}
			n = copy(p, h.buf[:n])
			h.buf = h.buf[n:]
			return n, nil
		}
		if h.end {
			if h.err != nil {
				return 0, h.err
			}
			return 0, io.EOF
		}
		if cap(h.buf)-len(h.buf) < 32<<10 {
			h.buf = append(make([]byte, 0, 2*len(h.buf)+64<<10), h.buf...)
		}
		n, err := h.r.Read(h.buf[len(h.buf):cap(h.buf)])
		h.buf = h.buf[:len(h.buf)+n]
		switch {
		case err == io.EOF:
			h.end, h.err = true, h.done()
		case err != nil:
			h.end, h.err = true, err
		}
	}
}

// terminateSessions ends every other session on the database and waits
// (up to 10s) until they are gone.
func (p *Postgres) terminateSessions(ctx context.Context) error {
	conn, err := p.connect(ctx)
	if err != nil {
		return err
	}
	defer conn.Close(context.Background())
	const others = "FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"
	if _, err := conn.Exec(ctx, "SELECT pg_terminate_backend(pid) "+others); err != nil {
		return p.errorf(err, "terminate sessions")
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		var n int
		if err := conn.QueryRow(ctx, "SELECT count(*) "+others).Scan(&n); err != nil {
			return p.errorf(err, "terminate sessions")
		}
		if n == 0 {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("terminate sessions: %w: %d left", ErrSessionsRemain, n)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// tool runs a PostgreSQL client program with the password in a temporary
// PGPASSFILE and returns its standard output. Its error carries the end of
// the program's standard error, masked.
func (p *Postgres) tool(ctx context.Context, name string, args ...string) (string, error) {
	bin, err := p.findTool(name)
	if err != nil {
		return "", err
	}
	env, removePassfile, err := p.connEnv(name)
	if err != nil {
		return "", err
	}
	defer removePassfile()
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Env = env
	cmd.WaitDelay = 5 * time.Second
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if p.observe != nil {
		p.observe(cmd)
	}
	if err := cmd.Run(); err != nil {
		return "", p.toolError(name, err, stderr.String())
	}
	return stdout.String(), nil
}

// toolError is the error of a client program that failed with err: it
// carries the end of the program's standard error, masked.
func (p *Postgres) toolError(name string, err error, stderr string) error {
	msg := strings.TrimSpace(stderr)
	if len(msg) > 2000 {
		msg = "..." + msg[len(msg)-2000:]
	}
	if msg != "" {
		return &maskedError{msg: p.clean(fmt.Sprintf("run %s: %v: %s", name, err, msg)), err: err}
	}
	return p.errorf(err, "run %s", name)
}

// toolEnv is the environment of a client program: the caller's, without
// any password or password file of its own, and without the variables
// whose value holds one of secrets (the DATABASE_URL the configuration
// read the password from, in any encoding).
func toolEnv(environ, secrets []string) []string {
	var env []string
next:
	for _, kv := range environ {
		if strings.HasPrefix(kv, "PGPASSWORD=") || strings.HasPrefix(kv, "PGPASSFILE=") {
			continue
		}
		_, v, _ := strings.Cut(kv, "=")
		for _, s := range secrets {
			if strings.Contains(v, s) {
				continue next
			}
		}
		env = append(env, kv)
	}
	return env
}

// connEnv is the environment of a client program that connects, name:
// toolEnv's, with the password (if any) in a new PGPASSFILE that the
// caller removes with remove once the program has ended.
func (p *Postgres) connEnv(name string) (env []string, remove func(), err error) {
	env = toolEnv(os.Environ(), p.secrets)
	pw := p.cfg.Password
	if pw == "" {
		return env, func() {}, nil
	}
	passfile, err := writePassfile(pw)
	if err != nil {
		return nil, nil, fmt.Errorf("run %s: %w", name, err)
	}
	return append(env, "PGPASSFILE="+passfile), func() { os.Remove(passfile) }, nil
}

// writePassfile writes a 0600 password file matching any host, port,
// database and user, and returns its path.
func writePassfile(password string) (string, error) {
	if strings.ContainsAny(password, "\r\n") {
		return "", errors.New("write password file: password contains a line break")
	}
	f, err := os.CreateTemp("", "slipway-pgpass-*")
	if err != nil {
		return "", fmt.Errorf("write password file: %w", err)
	}
	pw := strings.ReplaceAll(password, `\`, `\\`)
	pw = strings.ReplaceAll(pw, `:`, `\:`)
	_, werr := f.WriteString("*:*:*:*:" + pw + "\n")
	cerr := f.Close()
	if err := errors.Join(werr, cerr, os.Chmod(f.Name(), 0o600)); err != nil {
		os.Remove(f.Name())
		return "", fmt.Errorf("write password file: %w", err)
	}
	return f.Name(), nil
}

// findTool returns the path of a client program: in BinDir if set, else in
// PATH, else in the newest <toolRoot>/<version>/bin.
func (p *Postgres) findTool(name string) (string, error) {
	if p.binDir != "" {
		path := filepath.Join(p.binDir, name)
		if fi, err := os.Stat(path); err != nil || fi.IsDir() || fi.Mode()&0o111 == 0 {
			return "", fmt.Errorf("find %s in %q: %w", name, p.binDir, ErrToolNotFound)
		}
		return path, nil
	}
	if path, err := exec.LookPath(name); err == nil {
		return path, nil
	}
	dirs, _ := filepath.Glob(filepath.Join(p.toolRoot, "*", "bin"))
	best, bestVersion := "", -1.0
	for _, d := range dirs {
		v, err := strconv.ParseFloat(filepath.Base(filepath.Dir(d)), 64)
		if err != nil {
			continue
		}
		path := filepath.Join(d, name)
		if fi, err := os.Stat(path); err == nil && !fi.IsDir() && fi.Mode()&0o111 != 0 && v > bestVersion {
			best, bestVersion = path, v
		}
	}
	if best == "" {
		return "", fmt.Errorf("find %s in PATH or %s/*/bin: %w", name, p.toolRoot, ErrToolNotFound)
	}
	return best, nil
}

// fileSum returns the hex sha256 and the size of a file.
func fileSum(path string) (string, int64, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", 0, err
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.Copy(h, f)
	if err != nil {
		return "", 0, err
	}
	return hex.EncodeToString(h.Sum(nil)), n, nil
}
