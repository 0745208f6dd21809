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
	"time"

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
// returns its sha256 and size. The dump goes to a temporary file beside
// path first: a failed or empty dump leaves nothing at path.
func (p *Postgres) Backup(ctx context.Context, path string) (providers.BackupInfo, error) {
	if p.closed.Load() {
		return providers.BackupInfo{}, ErrClosed
	}
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return providers.BackupInfo{}, fmt.Errorf("back up to %q: %w", path, err)
	}
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return providers.BackupInfo{}, fmt.Errorf("back up to %q: %w", path, err)
	}
	tmpName := tmp.Name()
	tmp.Close()
	ok := false
	defer func() {
		if !ok {
			os.Remove(tmpName)
		}
	}()
	if err := os.Chmod(tmpName, 0o600); err != nil {
		return providers.BackupInfo{}, fmt.Errorf("back up to %q: %w", path, err)
	}
	created := p.now()
	if _, err := p.tool(ctx, "pg_dump", "--format=custom", "--no-password", "--file="+tmpName, "--dbname="+p.toolConn); err != nil {
		return providers.BackupInfo{}, fmt.Errorf("back up to %q: %w", path, err)
	}
	if err := p.checkBackup(ctx, tmpName); err != nil {
		return providers.BackupInfo{}, fmt.Errorf("back up to %q: %w", path, err)
	}
	sum, size, err := fileSum(tmpName)
	if err != nil {
		return providers.BackupInfo{}, fmt.Errorf("back up to %q: %w", path, err)
	}
	if err := os.Rename(tmpName, path); err != nil {
		return providers.BackupInfo{}, fmt.Errorf("back up to %q: %w", path, err)
	}
	ok = true
	syncDir(dir)
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

// Restore checks the backup at path with pg_restore --list, terminates the
// other sessions on the database, then restores it with pg_restore --clean
// --if-exists --single-transaction: all of it or, on error, nothing.
// Objects created after the backup that it does not contain are left in
// place.
func (p *Postgres) Restore(ctx context.Context, path string) error {
	if p.closed.Load() {
		return ErrClosed
	}
	if err := p.checkBackup(ctx, path); err != nil {
		return fmt.Errorf("restore %q: %w", path, err)
	}
	if err := p.terminateSessions(ctx); err != nil {
		return fmt.Errorf("restore %q: %w", path, err)
	}
	if _, err := p.tool(ctx, "pg_restore", "--clean", "--if-exists", "--single-transaction", "--no-password",
		"--dbname="+p.toolConn, path); err != nil {
		return fmt.Errorf("restore %q: %w", path, err)
	}
	return nil
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
	env := toolEnv(os.Environ())
	if pw := p.cfg.Password; pw != "" {
		passfile, err := writePassfile(pw)
		if err != nil {
			return "", fmt.Errorf("run %s: %w", name, err)
		}
		defer os.Remove(passfile)
		env = append(env, "PGPASSFILE="+passfile)
	}
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Env = env
	cmd.WaitDelay = 5 * time.Second
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if p.observe != nil {
		p.observe(cmd)
	}
	if err := cmd.Run(); err != nil {
		msg := strings.TrimSpace(stderr.String())
		if len(msg) > 2000 {
			msg = "..." + msg[len(msg)-2000:]
		}
		if msg != "" {
			return "", &maskedError{msg: p.clean(fmt.Sprintf("run %s: %v: %s", name, err, msg)), err: err}
		}
		return "", p.errorf(err, "run %s", name)
	}
	return stdout.String(), nil
}

// toolEnv is the environment of a client program: the caller's, without
// any password or password file of its own.
func toolEnv(environ []string) []string {
	var env []string
	for _, kv := range environ {
		if strings.HasPrefix(kv, "PGPASSWORD=") || strings.HasPrefix(kv, "PGPASSFILE=") {
			continue
		}
		env = append(env, kv)
	}
	return env
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

// fileSum returns the hex sha256 and the size of a file, after flushing
// it to disk.
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
	if err := f.Sync(); err != nil {
		return "", 0, err
	}
	return hex.EncodeToString(h.Sum(nil)), n, nil
}

// syncDir flushes a directory entry change to disk, best effort.
func syncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync()
		d.Close()
	}
}
