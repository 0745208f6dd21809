package nginx

import (
	"context"
	"errors"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestMainDirectives(t *testing.T) {
	dump := `nginx: the configuration file /p/nginx.conf syntax is ok
nginx: configuration file /p/nginx.conf test is successful
# configuration file /p/nginx.conf:
user root;   # a comment; with "quotes" {
pid "/p/my nginx.pid";
error_log logs/error.log notice;
error_log /var/log/second.log;
events { worker_connections 64; }
http {
    error_log /p/http.log;
    server { pid /not/here; }
    include /p/conf.d/*.conf;
}

# configuration file /p/conf.d/a.conf:
error_log /p/included.log;
`
	got := mainDirectives(dump)
	want := map[string][][]string{
		"user":      {{"root"}},
		"pid":       {{"/p/my nginx.pid"}},
		"error_log": {{"logs/error.log", "notice"}, {"/var/log/second.log"}},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("mainDirectives:\n got %q\nwant %q", got, want)
	}
}

func TestConfigureOption(t *testing.T) {
	v := "configure arguments: --with-cc-opt='-g -O2' --prefix=/usr/share/nginx --error-log-path=stderr --pid-path=/run/nginx.pid"
	for name, want := range map[string]string{"--prefix": "/usr/share/nginx", "--error-log-path": "stderr", "--pid-path": "/run/nginx.pid", "--lock-path": ""} {
		if got := configureOption(v, name); got != want {
			t.Errorf("configureOption(%s) = %q, want %q", name, got, want)
		}
	}
}

func TestNewestLogError(t *testing.T) {
	now := time.Date(2025, 3, 4, 10, 0, 5, 0, time.Local)
	at := func(d time.Duration) string { return now.Add(d).Format(logTimeLayout) }
	log := strings.Join([]string{
		at(-time.Minute) + " [emerg] 1#1: an old failure",
		at(0) + " [notice] 1#1: signal 1 (SIGHUP) received from 9, reconfiguring",
		at(0) + " [emerg] 1#1: bind() to 127.0.0.1:8080 failed (98: Address already in use)",
		at(time.Second) + " [emerg] 1#1: bind() to 127.0.0.1:8080 failed (98: Address already in use)",
		at(2*time.Second) + " [emerg] 1#1: still could not bind()",
		at(2*time.Second) + " [notice] 1#1: signal process started",
		"",
	}, "\n")
	path := filepath.Join(t.TempDir(), "error.log")
	if err := os.WriteFile(path, []byte(log), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		since time.Time
		want  string
	}{
		// The bind() line, not nginx's summary after it.
		{now.Add(300 * time.Millisecond), at(time.Second) + " [emerg] 1#1: bind() to 127.0.0.1:8080 failed (98: Address already in use)"},
		// Only the summary since then: better than nothing.
		{now.Add(2 * time.Second), at(2*time.Second) + " [emerg] 1#1: still could not bind()"},
		// Nothing since: an old failure is not this reload's.
		{now.Add(3 * time.Second), ""},
	} {
		if got := newestLogError(path, tc.since); got != tc.want {
			t.Errorf("since %s: %q, want %q", tc.since.Format(time.TimeOnly), got, tc.want)
		}
	}
	if got := newestLogError(filepath.Join(t.TempDir(), "missing.log"), now); got != "" {
		t.Errorf("missing log: %q", got)
	}
}

// TestReloadBindFailureQuotesErrorLog applies a route on a port another
// program holds: nginx's reload fails to bind it, and the error quotes
// nginx's error log instead of guessing at the reload command.
func TestReloadBindFailureQuotesErrorLog(t *testing.T) {
	l := newLiveRoute(t)
	other, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	go func() { _ = http.Serve(other, http.NotFoundHandler()) }()
	l.spec.Listen = other.Addr().(*net.TCPAddr).Port
	_, err = l.router.Apply(context.Background(), l.spec)
	if !errors.Is(err, ErrNotConfirmed) {
		t.Fatalf("apply on a taken port: %v, want ErrNotConfirmed", err)
	}
	msg := err.Error()
	for _, want := range []string{"nginx's error log " + l.ngx.ErrorLog + " says: ", "[emerg]", "bind() to 127.0.0.1:" + strconv.Itoa(l.spec.Listen) + " failed", "Address already in use"} {
		if !strings.Contains(msg, want) {
			t.Errorf("error does not say %q:\n%s", want, msg)
		}
	}
	if strings.Contains(msg, "is the reload command doing anything") {
		t.Errorf("error still guesses at the reload command:\n%s", msg)
	}
	if _, err := os.Stat(filepath.Join(l.ngx.ConfigDir, FileName(l.spec.Project, l.spec.Env, l.spec.Service))); !os.IsNotExist(err) {
		t.Errorf("the new route file was not removed: %v", err)
	}
}
