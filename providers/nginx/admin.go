package nginx

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"syscall"
	"time"
)

// ErrNoAdmin is wrapped when a route's admin endpoint does not answer:
// the route is not loaded in dynamic mode (yet).
var ErrNoAdmin = errors.New("no admin endpoint")

// ErrAdminDir is wrapped when the admin directory is not a directory only
// its owner, slipway's user, can enter.
var ErrAdminDir = errors.New("unsafe admin directory")

// LiveTable is a route's table as its admin endpoint reports it.
type LiveTable struct {
	Table
	// Source is "live" when the table was set over the admin endpoint,
	// "file" when nginx routes as the loaded route file says.
	Source string
	// Shape is the shape of the route file nginx has loaded.
	Shape string
}

// admin talks to one route's admin endpoint over its unix socket.
type admin struct {
	socket string
	client *http.Client
}

func newAdmin(socket string, timeout time.Duration) admin {
	tr := &http.Transport{
		DisableKeepAlives: true,
		Proxy:             nil,
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, "unix", socket)
		},
	}
	return admin{socket: socket, client: &http.Client{Transport: tr, Timeout: timeout}}
}

// get returns the live table.
func (a admin) get(ctx context.Context) (LiveTable, error) {
	return a.do(ctx, http.MethodGet, nil)
}

// put sets the live table and returns it as the endpoint then reports it.
func (a admin) put(ctx context.Context, t Table) (LiveTable, error) {
	text, _ := t.MarshalText()
	return a.do(ctx, http.MethodPut, text)
}

func (a admin) do(ctx context.Context, method string, body []byte) (LiveTable, error) {
	verb := "read"
	if method == http.MethodPut {
		verb = "set"
	}
	fail := func(err error) (LiveTable, error) {
		return LiveTable{}, fmt.Errorf("%s live table at %q: %w", verb, a.socket, err)
	}
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, "http://slipway-admin/table", rd)
	if err != nil {
		return fail(err)
	}
	resp, err := a.client.Do(req)
	if err != nil {
		if errors.Is(err, syscall.ENOENT) || errors.Is(err, syscall.ECONNREFUSED) {
			return fail(fmt.Errorf("%w: %w", ErrNoAdmin, err))
		}
		return fail(err)
	}
	defer resp.Body.Close()
	text, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return fail(err)
	}
	if resp.StatusCode == http.StatusNotFound {
		return fail(fmt.Errorf("%w: status 404", ErrNoAdmin))
	}
	if resp.StatusCode != http.StatusOK {
		return fail(fmt.Errorf("status %d: %s", resp.StatusCode, bytes.TrimSpace(text)))
	}
	lt := LiveTable{Source: resp.Header.Get("X-Slipway-Source"), Shape: resp.Header.Get("X-Slipway-Shape")}
	if err := lt.Table.UnmarshalText(text); err != nil {
		return fail(err)
	}
	return lt, nil
}

// ensureAdminDir makes dir (and missing parents) with mode 0700 and checks
// that it is a real directory owned by this process's user that nobody
// else can enter: nginx creates its unix sockets world-writable, so the
// directory is what keeps other local users away from the admin endpoint.
// A directory of ours that others may enter is tightened to 0700.
func ensureAdminDir(dir string) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("make admin directory %q: %w", dir, err)
	}
	info, err := os.Lstat(dir)
	if err != nil {
		return fmt.Errorf("check admin directory %q: %w", dir, err)
	}
	st, ok := info.Sys().(*syscall.Stat_t)
	switch {
	case !info.IsDir():
		return fmt.Errorf("check admin directory %q: %w: not a directory (a symbolic link?)", dir, ErrAdminDir)
	case !ok || int(st.Uid) != os.Geteuid():
		return fmt.Errorf("check admin directory %q: %w: owned by uid %d, not %d; remove it or choose another nginx admin_dir", dir, ErrAdminDir, st.Uid, os.Geteuid())
	}
	if info.Mode().Perm() != 0o700 {
		if err := os.Chmod(dir, 0o700); err != nil {
			return fmt.Errorf("restrict admin directory %q: %w", dir, err)
		}
	}
	return nil
}
