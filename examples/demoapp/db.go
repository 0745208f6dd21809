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
