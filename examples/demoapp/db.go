package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
)

// dbHolder keeps one connection to DATABASE_URL open for as long as the app
// runs, as a real app's pool would: a database restore must cope with it.
type dbHolder struct {
	mu   sync.Mutex
	conn *pgx.Conn
	err  error
}

// hold connects to url, retrying until ctx ends, and reconnects when the
// connection is lost (a restore terminates it).
func (d *dbHolder) hold(ctx context.Context, url string, log io.Writer) {
	for ctx.Err() == nil {
		conn, err := pgx.Connect(ctx, url)
		d.mu.Lock()
		d.conn, d.err = conn, err
		d.mu.Unlock()
		if err == nil {
			fmt.Fprintln(log, "demoapp: connected to the database")
			for ctx.Err() == nil && conn.Ping(ctx) == nil {
				sleep(ctx, time.Second)
			}
			conn.Close(context.Background())
			continue
		}
		sleep(ctx, time.Second)
	}
}

func sleep(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
	}
}

// serveDB answers whether the connection is up.
func (d *dbHolder) serveDB(w http.ResponseWriter, r *http.Request) {
	d.mu.Lock()
	conn, err := d.conn, d.err
	d.mu.Unlock()
	if conn == nil || err != nil {
		http.Error(w, "no database connection", http.StatusServiceUnavailable)
		return
	}
	fmt.Fprintln(w, "connected")
}

// migrateDB is the app's own migration command (as `manage.py migrate` is
// for a Django app): it creates its table if needed and records that this
// version migrated. Running it twice for one version changes nothing.
func migrateDB(ctx context.Context, url, version string, out io.Writer) error {
	if url == "" {
		return fmt.Errorf("DATABASE_URL is not set")
	}
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		return fmt.Errorf("connect: %w", err)
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(ctx, `CREATE TABLE IF NOT EXISTS demoapp_migrations (version text PRIMARY KEY, at timestamptz NOT NULL DEFAULT now())`); err != nil {
		return err
	}
	tag, err := conn.Exec(ctx, `INSERT INTO demoapp_migrations (version) VALUES ($1) ON CONFLICT DO NOTHING`, version)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "demoapp: migrated the database for version %s (%d new)\n", version, tag.RowsAffected())
	return nil
}
