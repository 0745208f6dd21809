package postgres

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"os/exec"
	"sort"
	"strings"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/slipwayhq/slipway/internal/redact"
	"github.com/slipwayhq/slipway/providers"
)

var _ providers.Database = (*Postgres)(nil)

// ErrClosed is returned by every method of a Postgres after Close.
var ErrClosed = errors.New("postgres provider is closed")

// ErrBadURL is returned by New for a connection URL it cannot parse.
var ErrBadURL = errors.New("invalid database url")

// Options configures New.
type Options struct {
	// URL is the connection string: a postgres:// URL or a keyword/value
	// string, usually env("DATABASE_URL"). PG* environment variables fill
	// what it leaves out, as for psql.
	URL string
	// BinDir holds pg_dump, pg_restore and psql; "" looks them up in PATH, then
	// in the newest /usr/lib/postgresql/*/bin.
	BinDir string
	// Mask, if set, is applied to every message after the password has been
	// masked, to hide other sensitive values.
	Mask func(string) string
	// Name is the postgres block's name, which names its backup files
	// (see BackupName and PruneBackups).
	Name string
	// Migrations is the directory of versioned SQL migrations that
	// Migrations reads; "" means none.
	Migrations string
}

// Postgres is one PostgreSQL database. It is safe for concurrent use; each
// operation opens its own connection.
type Postgres struct {
	cfg      *pgx.ConnConfig
	toolConn string   // connection string for pg_dump/pg_restore, without the password
	secrets  []string // the password and its encodings, longest first
	masker   redact.Masker
	binDir   string
	mask     func(string) string
	name     string // the postgres block
	migDir   string // the migration directory, "" for none
	closed   atomic.Bool

	// Test hooks.
	toolRoot string          // where <version>/bin directories are searched
	observe  func(*exec.Cmd) // sees every command just before it starts
	now      func() time.Time
}

// New parses o.URL and returns the database it names. It does not connect.
// Its errors never contain the password.
func New(o Options) (*Postgres, error) {
	p := &Postgres{binDir: o.BinDir, mask: o.Mask, name: o.Name, migDir: o.Migrations, toolRoot: "/usr/lib/postgresql", now: time.Now}
	p.secrets = secretVariants(urlPasswords(o.URL))
	p.masker = redact.New(p.secrets...)
	if strings.TrimSpace(o.URL) == "" {
		return nil, fmt.Errorf("parse database url: %w: empty", ErrBadURL)
	}
	cfg, err := pgx.ParseConfig(o.URL)
	if err != nil {
		return nil, fmt.Errorf("parse database url: %w: %s", ErrBadURL, p.clean(err.Error()))
	}
	p.secrets = secretVariants(append(urlPasswords(o.URL), cfg.Password))
	p.masker = redact.New(p.secrets...)
	if _, ok := cfg.RuntimeParams["application_name"]; !ok {
		cfg.RuntimeParams["application_name"] = "slipway"
	}
	p.cfg = cfg
	if p.toolConn, err = toolConnString(o.URL); err != nil {
		return nil, fmt.Errorf("parse database url: %w: %s", ErrBadURL, p.clean(err.Error()))
	}
	return p, nil
}

// Close releases the provider; later calls fail with ErrClosed. It holds
// no connection between calls, so there is nothing else to release.
func (p *Postgres) Close() error {
	p.closed.Store(true)
	return nil
}

// Redacted returns the connection string without the password, for plans
// and messages.
func (p *Postgres) Redacted() string { return p.clean(p.toolConn) }

// Database returns the name of the database the URL names.
func (p *Postgres) Database() string { return p.cfg.Database }

// Ping connects and checks the server answers.
func (p *Postgres) Ping(ctx context.Context) error {
	conn, err := p.connect(ctx)
	if err != nil {
		return err
	}
	defer conn.Close(context.Background())
	if err := conn.Ping(ctx); err != nil {
		return p.errorf(err, "ping database %q", p.cfg.Database)
	}
	return nil
}

// connect opens a connection of its own.
func (p *Postgres) connect(ctx context.Context) (*pgx.Conn, error) {
	if p.closed.Load() {
		return nil, ErrClosed
	}
	conn, err := pgx.ConnectConfig(ctx, p.cfg.Copy())
	if err != nil {
		return nil, p.errorf(err, "connect to database %q", p.cfg.Database)
	}
	return conn, nil
}

// maskedError is an error whose message has its secrets masked; it unwraps
// to the original error so that callers can still branch on it.
type maskedError struct {
	msg string
	err error
}

func (e *maskedError) Error() string { return e.msg }
func (e *maskedError) Unwrap() error { return e.err }

// errorf returns "<format>: <err>" with secrets masked, wrapping err.
func (p *Postgres) errorf(err error, format string, args ...any) error {
	return &maskedError{msg: p.clean(fmt.Sprintf(format, args...) + ": " + err.Error()), err: err}
}

// wrapMasked returns err with its message masked, still wrapping it.
func (p *Postgres) wrapMasked(err error) error {
	if err == nil {
		return nil
	}
	return &maskedError{msg: p.clean(err.Error()), err: err}
}

// clean masks the password (in every encoding) by the rule of
// internal/redact, and then applies Options.Mask.
func (p *Postgres) clean(s string) string {
	s = p.masker.Mask(s)
	if p.mask != nil {
		s = p.mask(s)
	}
	return s
}

// secretVariants returns the non-empty values with their percent-encodings,
// longest first, so that a value containing another is masked whole.
func secretVariants(values []string) []string {
	seen := map[string]bool{}
	var out []string
	add := func(v string) {
		if v != "" && !seen[v] {
			seen[v] = true
			out = append(out, v)
		}
	}
	for _, v := range values {
		add(v)
		add(url.QueryEscape(v))
		add(url.PathEscape(v))
		add(strings.TrimPrefix(url.UserPassword("", v).String(), ":"))
		if d, err := url.PathUnescape(v); err == nil {
			add(d)
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return len(out[i]) > len(out[j]) })
	return out
}

// urlPasswords finds the passwords written in a connection string, even one
// that does not parse: the user info of a URL, its password parameter, and
// the password keyword of a keyword/value string.
func urlPasswords(s string) []string {
	var out []string
	if i := strings.Index(s, "://"); i >= 0 {
		rest := s[i+3:]
		if at := strings.LastIndex(rest, "@"); at >= 0 {
			userinfo := rest[:at]
			if _, pw, ok := strings.Cut(userinfo, ":"); ok {
				out = append(out, pw)
			}
		}
		if _, query, ok := strings.Cut(rest, "?"); ok {
			for _, kv := range strings.Split(query, "&") {
				if k, v, ok := strings.Cut(kv, "="); ok && strings.EqualFold(k, "password") {
					out = append(out, v)
				}
			}
		}
		return out
	}
	for _, kv := range splitKeywordValues(s) {
		if kv.key == "password" {
			out = append(out, kv.value, kv.raw)
		}
	}
	return out
}

// pgxOnly reports whether a connection parameter is one that pgx
// understands and libpq rejects.
func pgxOnly(key string) bool {
	switch key {
	case "statement_cache_capacity", "description_cache_capacity", "default_query_exec_mode", "min_read_buffer_size":
		return true
	}
	return strings.HasPrefix(key, "pool_")
}

// toolConnString returns the connection string for pg_dump and pg_restore:
// s without its password and without the parameters only pgx knows.
func toolConnString(s string) (string, error) {
	if strings.HasPrefix(s, "postgres://") || strings.HasPrefix(s, "postgresql://") {
		u, err := url.Parse(s)
		if err != nil {
			return "", errors.New("not a valid URL")
		}
		if u.User != nil {
			u.User = url.User(u.User.Username())
		}
		q := u.Query()
		for k := range q {
			if strings.EqualFold(k, "password") || pgxOnly(k) {
				q.Del(k)
			}
		}
		u.RawQuery = q.Encode()
		return u.String(), nil
	}
	var parts []string
	for _, kv := range splitKeywordValues(s) {
		if kv.key == "password" || pgxOnly(kv.key) {
			continue
		}
		v := strings.ReplaceAll(kv.value, `\`, `\\`)
		v = strings.ReplaceAll(v, `'`, `\'`)
		parts = append(parts, kv.key+"='"+v+"'")
	}
	return strings.Join(parts, " "), nil
}

// keywordValue is one key=value pair of a libpq keyword/value string.
type keywordValue struct {
	key, value string
	raw        string // the value as written, quotes and escapes included
}

// splitKeywordValues parses "host=h password='a b'" leniently: what it
// cannot parse ends the list.
func splitKeywordValues(s string) []keywordValue {
	var out []keywordValue
	i := 0
	for {
		for i < len(s) && isSpace(s[i]) {
			i++
		}
		if i >= len(s) {
			return out
		}
		eq := strings.IndexByte(s[i:], '=')
		if eq < 0 {
			return out
		}
		key := strings.TrimSpace(s[i : i+eq])
		i += eq + 1
		for i < len(s) && isSpace(s[i]) {
			i++
		}
		start := i
		var b strings.Builder
		if i < len(s) && s[i] == '\'' {
			i++
			for i < len(s) && s[i] != '\'' {
				if s[i] == '\\' && i+1 < len(s) {
					i++
				}
				b.WriteByte(s[i])
				i++
			}
			i++ // closing quote
		} else {
			for i < len(s) && !isSpace(s[i]) {
				if s[i] == '\\' && i+1 < len(s) {
					i++
				}
				b.WriteByte(s[i])
				i++
			}
		}
		out = append(out, keywordValue{key: key, value: b.String(), raw: s[start:min(i, len(s))]})
	}
}

func isSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'
}
