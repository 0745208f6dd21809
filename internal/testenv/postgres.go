package testenv

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"
)

// PostgresBin is where Debian installs the PostgreSQL 15 server programs.
const PostgresBin = "/usr/lib/postgresql/15/bin"

// postgresOSUser runs the server when the caller is root: PostgreSQL refuses
// to run as root.
const postgresOSUser = "postgres"

// ErrNoPostgres means the PostgreSQL 15 programs or the postgres OS user are
// missing.
var ErrNoPostgres = errors.New("postgresql 15 not found: install it: apt-get install -y postgresql-15")

// Postgres is a private PostgreSQL 15 server: its data, socket, log and
// password file live in Dir (a fresh directory under /tmp owned by the
// postgres OS user), it listens on 127.0.0.1:Port only, and every connection
// must authenticate with scram-sha-256 as the superuser User with Password.
// Database is created empty for the caller.
type Postgres struct {
	// Dir holds data/, the unix socket, postgres.log; Stop removes it.
	Dir string `json:"dir"`
	// Port is the TCP port on 127.0.0.1.
	Port int `json:"port"`
	// User is the superuser, "slipway".
	User string `json:"user"`
	// Password is User's random password.
	Password string `json:"password"`
	// Database is the empty database made for the caller, "slipway".
	Database string `json:"database"`
}

// PostgresAvailable reports, as an error, why no server can be started; nil
// when the programs (and, for root, the postgres OS user) exist.
func PostgresAvailable() error {
	for _, p := range []string{"initdb", "pg_ctl", "postgres"} {
		if !fileExists(filepath.Join(PostgresBin, p)) {
			return ErrNoPostgres
		}
	}
	if os.Geteuid() == 0 {
		if _, err := user.Lookup(postgresOSUser); err != nil {
			return fmt.Errorf("%w: no %q OS user to run the server as", ErrNoPostgres, postgresOSUser)
		}
		if _, err := exec.LookPath("runuser"); err != nil {
			return fmt.Errorf("%w: runuser not found", ErrNoPostgres)
		}
	}
	return nil
}

// StartPostgres initializes a cluster in a new directory under /tmp (initdb
// -A scram-sha-256 with a random superuser password), starts it on a free
// loopback port with pg_ctl start -w, and creates the database "slipway".
// As root it runs the programs as the postgres OS user through runuser. On
// error nothing is left running and the directory is removed.
func StartPostgres(ctx context.Context) (*Postgres, error) {
	if err := PostgresAvailable(); err != nil {
		return nil, fmt.Errorf("start postgres: %w", err)
	}
	dir, err := os.MkdirTemp("/tmp", "slipway-pg-")
	if err != nil {
		return nil, fmt.Errorf("start postgres: %w", err)
	}
	p := &Postgres{Dir: dir, User: "slipway", Database: "slipway"}
	ok := false
	defer func() {
		if !ok {
			_ = p.Stop()
		}
	}()
	if err := p.chown(dir); err != nil {
		return nil, fmt.Errorf("start postgres: %w", err)
	}
	pw := make([]byte, 16)
	if _, err := rand.Read(pw); err != nil {
		return nil, fmt.Errorf("start postgres: %w", err)
	}
	p.Password = hex.EncodeToString(pw)
	pwfile := filepath.Join(dir, "pwfile")
	if err := os.WriteFile(pwfile, []byte(p.Password+"\n"), 0o600); err != nil {
		return nil, fmt.Errorf("start postgres: %w", err)
	}
	if err := p.chown(pwfile); err != nil {
		return nil, fmt.Errorf("start postgres: %w", err)
	}
	_, err = p.run(ctx, "initdb", "-D", p.dataDir(), "-U", p.User, "--pwfile="+pwfile,
		"-A", "scram-sha-256", "-E", "UTF8", "--locale=C", "--no-sync")
	os.Remove(pwfile)
	if err != nil {
		return nil, fmt.Errorf("start postgres: %w", err)
	}
	// A port found free may be taken before the server binds it: retry.
	for attempt := 0; ; attempt++ {
		if p.Port, err = FreePort(); err != nil {
			return nil, fmt.Errorf("start postgres: %w", err)
		}
		opts := fmt.Sprintf("-k %s -h 127.0.0.1 -p %d -c fsync=off -c full_page_writes=off", dir, p.Port)
		_, err = p.run(ctx, "pg_ctl", "start", "-w", "-t", "60", "-D", p.dataDir(), "-l", p.logFile(), "-o", opts)
		if err == nil {
			break
		}
		if attempt == 2 || !strings.Contains(p.tailLog(), "already in use") {
			return nil, fmt.Errorf("start postgres: %w; log: %s", err, p.tailLog())
		}
	}
	if err := p.createDatabase(ctx); err != nil {
		return nil, fmt.Errorf("start postgres: %w", err)
	}
	ok = true
	return p, nil
}

// URL is the connection URL of Database:
// postgres://User:Password@127.0.0.1:Port/Database?sslmode=disable.
func (p *Postgres) URL() string {
	return p.urlFor(p.Database)
}

// Stop shuts the server down (pg_ctl stop -m fast) and removes Dir. A server
// that is not running is not an error; if it cannot be stopped, Dir is kept.
func (p *Postgres) Stop() error {
	if p.Dir == "" {
		return nil
	}
	if fileExists(filepath.Join(p.dataDir(), "postmaster.pid")) {
		if _, err := p.run(context.Background(), "pg_ctl", "stop", "-w", "-t", "60", "-m", "fast", "-D", p.dataDir()); err != nil {
			if fileExists(filepath.Join(p.dataDir(), "postmaster.pid")) {
				return fmt.Errorf("stop postgres in %q: %w", p.Dir, err)
			}
		}
	}
	if err := os.RemoveAll(p.Dir); err != nil {
		return fmt.Errorf("stop postgres: %w", err)
	}
	return nil
}

// Save writes p to path as JSON (0600: it holds the password), so another
// process can LoadPostgres and stop it.
func (p *Postgres) Save(path string) error {
	b, err := json.MarshalIndent(p, "", "  ")
	if err != nil {
		return fmt.Errorf("save postgres to %q: %w", path, err)
	}
	if err := os.WriteFile(path, append(b, '\n'), 0o600); err != nil {
		return fmt.Errorf("save postgres to %q: %w", path, err)
	}
	return nil
}

// LoadPostgres reads a server description written by Save.
func LoadPostgres(path string) (*Postgres, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("load postgres from %q: %w", path, err)
	}
	var p Postgres
	if err := json.Unmarshal(b, &p); err != nil {
		return nil, fmt.Errorf("load postgres from %q: %w", path, err)
	}
	if p.Dir == "" || p.Port == 0 {
		return nil, fmt.Errorf("load postgres from %q: no directory or port", path)
	}
	return &p, nil
}

func (p *Postgres) urlFor(db string) string {
	u := url.URL{
		Scheme:   "postgres",
		User:     url.UserPassword(p.User, p.Password),
		Host:     "127.0.0.1:" + strconv.Itoa(p.Port),
		Path:     "/" + db,
		RawQuery: "sslmode=disable",
	}
	return u.String()
}

func (p *Postgres) dataDir() string { return filepath.Join(p.Dir, "data") }
func (p *Postgres) logFile() string { return filepath.Join(p.Dir, "postgres.log") }

// tailLog returns the end of the server log, for error messages.
func (p *Postgres) tailLog() string {
	b, _ := os.ReadFile(p.logFile())
	s := strings.TrimSpace(string(b))
	if len(s) > 2000 {
		s = s[len(s)-2000:]
	}
	return s
}

// createDatabase creates Database through the maintenance database.
func (p *Postgres) createDatabase(ctx context.Context) error {
	conn, err := pgx.Connect(ctx, p.urlFor("postgres"))
	if err != nil {
		return fmt.Errorf("create database %q: %w", p.Database, err)
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{p.Database}.Sanitize()); err != nil {
		return fmt.Errorf("create database %q: %w", p.Database, err)
	}
	return nil
}

// run runs a PostgreSQL program from PostgresBin in Dir, as the postgres OS
// user when the caller is root.
func (p *Postgres) run(ctx context.Context, prog string, args ...string) (string, error) {
	path := filepath.Join(PostgresBin, prog)
	var cmd *exec.Cmd
	if os.Geteuid() == 0 {
		cmd = command(ctx, "runuser", append([]string{"-u", postgresOSUser, "--", path}, args...)...)
	} else {
		cmd = command(ctx, path, args...)
	}
	cmd.Dir = p.Dir
	// Keep locale settings of the caller from reaching initdb and the server.
	cmd.Env = append(os.Environ(), "LC_ALL=C", "LANG=C", "PGTZ=UTC")
	return runOutput(cmd)
}

// chown gives path to the postgres OS user when the caller is root.
func (p *Postgres) chown(path string) error {
	if os.Geteuid() != 0 {
		return nil
	}
	u, err := user.Lookup(postgresOSUser)
	if err != nil {
		return fmt.Errorf("look up user %q: %w", postgresOSUser, err)
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	if err := os.Chown(path, uid, gid); err != nil {
		return fmt.Errorf("chown %q to %s: %w", path, postgresOSUser, err)
	}
	return nil
}
