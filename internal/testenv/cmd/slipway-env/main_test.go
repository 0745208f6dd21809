package main

import (
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/slipwayhq/slipway/internal/testenv"
)

func runCmd(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb strings.Builder
	code = run(t.Context(), args, func(string) string { return "" }, &out, &errb)
	return code, out.String(), errb.String()
}

func TestUsageErrors(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want string
	}{
		{name: "no command", want: "no command"},
		{name: "unknown", args: []string{"launch"}, want: `unknown command "launch"`},
		{name: "build without tag", args: []string{"build-demo"}, want: "needs a TAG"},
		{name: "bad env", args: []string{"build-demo", "x:v1", "COLOR"}, want: `"COLOR" is not KEY=VALUE`},
		{name: "stop without dir", args: []string{"nginx-stop"}, want: "takes one DIR"},
		{name: "flag after dir", args: []string{"nginx-start", "dir", "-lua"}, want: "takes one DIR, got 2"},
		{name: "unknown flag", args: []string{"nginx-start", "-x", "dir"}, want: "flag provided but not defined"},
		{name: "free-port extra", args: []string{"free-port", "1"}, want: "takes no arguments"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, _, stderr := runCmd(t, tt.args...)
			if code != 2 {
				t.Errorf("exit %d, want 2", code)
			}
			if !strings.Contains(stderr, tt.want) || !strings.Contains(stderr, "usage:") {
				t.Errorf("stderr %q lacks %q and the usage", stderr, tt.want)
			}
		})
	}
}

func TestPrintVars(t *testing.T) {
	var b strings.Builder
	printVars(&b, "A", "/plain/path-1.log", "B", "postgres://u:p@h:1/d?sslmode=disable", "C", "it's")
	want := "A=/plain/path-1.log\nB='postgres://u:p@h:1/d?sslmode=disable'\nC='it'\\''s'\n"
	if b.String() != want {
		t.Errorf("got %q, want %q", b.String(), want)
	}
}

func TestFreePort(t *testing.T) {
	code, out, _ := runCmd(t, "free-port")
	if code != 0 || !regexp.MustCompile(`^[0-9]+\n$`).MatchString(out) {
		t.Errorf("free-port: exit %d, out %q", code, out)
	}
}

func TestNginxStartStop(t *testing.T) {
	testenv.Require(t, "nginx", testenv.NginxAvailable())
	dir := t.TempDir()
	code, out, stderr := runCmd(t, "nginx-start", dir)
	if code != 0 {
		t.Fatalf("nginx-start: exit %d: %s", code, stderr)
	}
	t.Cleanup(func() {
		if n, err := testenv.OpenNginx(dir); err == nil {
			_ = n.Stop()
		}
	})
	for _, w := range []string{"NGINX_PREFIX=" + dir + "\n", "NGINX_CONF=" + dir + "/nginx.conf\n", "NGINX_CONF_DIR=" + dir + "/conf.d\n", "NGINX_ACCESS_LOG=" + dir + "/logs/access.log\n", "NGINX_PID="} {
		if !strings.Contains(out, w) {
			t.Errorf("output %q lacks %q", out, w)
		}
	}
	if code, _, stderr := runCmd(t, "nginx-reload", dir); code != 0 {
		t.Errorf("nginx-reload: exit %d: %s", code, stderr)
	}
	if code, _, stderr := runCmd(t, "nginx-stop", dir); code != 0 {
		t.Errorf("nginx-stop: exit %d: %s", code, stderr)
	}
	if code, _, _ := runCmd(t, "nginx-reload", dir); code != 1 {
		t.Errorf("nginx-reload of a stopped instance: exit %d, want 1", code)
	}
}

func TestPgStartStop(t *testing.T) {
	testenv.Require(t, "postgres", testenv.PostgresAvailable())
	dir := filepath.Join(t.TempDir(), "pg")
	code, out, stderr := runCmd(t, "pg-start", dir)
	if code != 0 {
		t.Fatalf("pg-start: exit %d: %s", code, stderr)
	}
	t.Cleanup(func() {
		if p, err := testenv.LoadPostgres(filepath.Join(dir, pgStateFile)); err == nil {
			_ = p.Stop()
		}
	})
	m := regexp.MustCompile(`^DATABASE_URL='(postgres://[^']+)'\n$`).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("output %q is not one DATABASE_URL line", out)
	}
	conn, err := pgx.Connect(t.Context(), m[1])
	if err != nil {
		t.Fatal(err)
	}
	conn.Close(context.Background())
	if code, _, stderr := runCmd(t, "pg-start", dir); code != 1 || !strings.Contains(stderr, "pg-stop") {
		t.Errorf("second pg-start: exit %d, stderr %q; want a refusal naming pg-stop", code, stderr)
	}
	if code, _, stderr := runCmd(t, "pg-stop", dir); code != 0 {
		t.Fatalf("pg-stop: exit %d: %s", code, stderr)
	}
	if _, err := os.Stat(filepath.Join(dir, pgStateFile)); !os.IsNotExist(err) {
		t.Errorf("%s left after pg-stop", pgStateFile)
	}
}
