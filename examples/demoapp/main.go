package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"
)

// shutdownTimeout bounds how long in-flight requests may take after SIGTERM.
const shutdownTimeout = 10 * time.Second

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Getenv, os.Environ, os.Stdout, os.Stderr))
}

// run is demoapp's whole life: parse flags and environment, then serve until
// ctx ends, or do the health check. It returns the exit code.
func run(ctx context.Context, args []string, getenv func(string) string, environ func() []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("demoapp", flag.ContinueOnError)
	fs.SetOutput(stderr)
	healthcheck := fs.Bool("healthcheck", false, "GET http://127.0.0.1:$PORT/health and exit 0 on 200, 1 otherwise")
	migrate := fs.Bool("migrate", false, "migrate DATABASE_URL the way an app migrates itself, then exit")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "demoapp: error: unexpected argument %q\n", fs.Arg(0))
		return 2
	}
	cfg, err := configFromEnv(getenv)
	if err != nil {
		fmt.Fprintf(stderr, "demoapp: error: %v\n", err)
		return 2
	}
	if *migrate {
		if err := migrateDB(ctx, getenv("DATABASE_URL"), cfg.Version, stdout); err != nil {
			fmt.Fprintf(stderr, "demoapp: migrate: %v\n", err)
			return 1
		}
		return 0
	}
	if *healthcheck {
		if err := checkHealth(ctx, "http://127.0.0.1:"+cfg.Port+"/health"); err != nil {
			fmt.Fprintf(stderr, "demoapp: unhealthy: %v\n", err)
			return 1
		}
		return 0
	}

	var env []string
	if cfg.LogEnv {
		env = environ()
		for _, kv := range env {
			fmt.Fprintln(stdout, kv)
		}
	}
	ln, err := net.Listen("tcp", ":"+cfg.Port)
	if err != nil {
		fmt.Fprintf(stderr, "demoapp: error: %v\n", err)
		return 1
	}
	srv := newServer(cfg, env)
	if url := getenv("DATABASE_URL"); url != "" {
		db := &dbHolder{}
		srv.mux.HandleFunc("GET /db", db.serveDB)
		go db.hold(ctx, url, stdout)
	}
	if err := serve(ctx, ln, srv, stdout); err != nil {
		fmt.Fprintf(stderr, "demoapp: error: %v\n", err)
		return 1
	}
	return 0
}

// serve runs h on ln until ctx ends, then shuts down gracefully. It logs one
// line when it starts and one when it stops.
func serve(ctx context.Context, ln net.Listener, h *server, stdout io.Writer) error {
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	srv.RegisterOnShutdown(h.closeWebSockets)
	fmt.Fprintf(stdout, "demoapp: listening on %s version=%s color=%s\n", ln.Addr(), h.cfg.Version, h.cfg.Color)

	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("serve %s: %w", ln.Addr(), err)
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
	defer cancel()
	err := srv.Shutdown(sctx)
	if serr := <-errc; !errors.Is(serr, http.ErrServerClosed) && err == nil {
		err = serr
	}
	if err != nil {
		fmt.Fprintf(stdout, "demoapp: stopped with error: %v\n", err)
		return fmt.Errorf("shut down: %w", err)
	}
	fmt.Fprintln(stdout, "demoapp: stopped")
	return nil
}

// checkHealth GETs url and fails unless the answer is 200.
func checkHealth(ctx context.Context, url string) error {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return fmt.Errorf("check health %q: %w", url, err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("check health %q: %w", url, err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("check health %q: status %d", url, resp.StatusCode)
	}
	return nil
}
