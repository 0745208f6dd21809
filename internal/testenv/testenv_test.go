package testenv

import (
	"archive/tar"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestTagVersion(t *testing.T) {
	tests := []struct{ ref, want string }{
		{"slipway-demo:v1", "v1"},
		{"slipway-demo", "latest"},
		{"localhost:5000/demo", "latest"},
		{"localhost:5000/demo:1.2.3", "1.2.3"},
	}
	for _, tt := range tests {
		if got := tagVersion(tt.ref); got != tt.want {
			t.Errorf("tagVersion(%q) = %q, want %q", tt.ref, got, tt.want)
		}
	}
}

func TestDemoDockerfile(t *testing.T) {
	tests := []struct {
		name    string
		env     map[string]string
		want    string
		wantErr error
	}{
		{
			name: "sorted and quoted",
			env:  map[string]string{"VERSION": "v1", "COLOR": "blue", "MSG": `say "$HOME" \ok`},
			want: `FROM scratch
COPY demoapp /demoapp
ENV COLOR="blue"
ENV MSG="say \"\$HOME\" \\ok"
ENV VERSION="v1"
EXPOSE 8080
HEALTHCHECK --interval=1s --timeout=1s CMD ["/demoapp","-healthcheck"]
ENTRYPOINT ["/demoapp"]
`,
		},
		{name: "bad name", env: map[string]string{"A-B": "x"}, wantErr: ErrBadEnv},
		{name: "newline in value", env: map[string]string{"A": "x\nRUN rm -rf /"}, wantErr: ErrBadEnv},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := demoDockerfile(tt.env)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("error %v, want %v", err, tt.wantErr)
			}
			if got != tt.want {
				t.Errorf("Dockerfile:\n%s\nwant:\n%s", got, tt.want)
			}
		})
	}
}

func TestTarContext(t *testing.T) {
	r, err := tarContext(map[string]tarFile{
		"demoapp":    {mode: 0o755, data: []byte("\x7fELF")},
		"Dockerfile": {mode: 0o644, data: []byte("FROM scratch\n")},
	})
	if err != nil {
		t.Fatal(err)
	}
	tr := tar.NewReader(r)
	var got []string
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(tr)
		got = append(got, h.Name+" "+os.FileMode(h.Mode).String()+" "+string(b))
	}
	want := []string{"Dockerfile -rw-r--r-- FROM scratch\n", "demoapp -rwxr-xr-x \x7fELF"}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("entries %q, want %q", got, want)
	}
}

func TestReadBuildOutput(t *testing.T) {
	tests := []struct {
		name, stream, wantErr string
	}{
		{name: "success", stream: `{"stream":"Step 1/6 : FROM scratch\n"}{"stream":"Successfully tagged x:v1\n"}`},
		{name: "error", stream: `{"stream":"Step 2/6 : COPY demoapp /demoapp\n"}{"errorDetail":{"message":"COPY failed"},"error":"COPY failed"}`, wantErr: "COPY failed (after: Step 2/6"},
		{name: "detail only", stream: `{"errorDetail":{"message":"no space"}}`, wantErr: "no space"},
		{name: "garbage", stream: `{"stream":`, wantErr: "read build output"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := readBuildOutput(strings.NewReader(tt.stream))
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("unexpected error %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("error %v, want one containing %q", err, tt.wantErr)
			}
		})
	}
}

// fakeRepo makes a module with a tiny examples/demoapp.
func fakeRepo(t *testing.T) string {
	t.Helper()
	root := t.TempDir()
	files := map[string]string{
		"go.mod":                   "module " + modulePath + "\n\ngo 1.22\n",
		"examples/demoapp/main.go": "package main\n\nfunc main() {}\n",
	}
	for p, s := range files {
		full := filepath.Join(root, p)
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return root
}

func TestDemoBinaryCache(t *testing.T) {
	if _, err := goTool(); err != nil {
		t.Skip(err)
	}
	root, cache := fakeRepo(t), t.TempDir()
	ctx := t.Context()
	path, built, err := demoBinary(ctx, cache, root, "amd64")
	if err != nil {
		t.Fatal(err)
	}
	if !built {
		t.Error("first call did not build")
	}
	b, err := os.ReadFile(path)
	if err != nil || !strings.HasPrefix(string(b), "\x7fELF") {
		t.Fatalf("cached binary %q is not an ELF file (%v)", path, err)
	}
	if _, built, err = demoBinary(ctx, cache, root, "amd64"); err != nil || built {
		t.Errorf("second call: built=%v err=%v, want the cached binary", built, err)
	}
	// A source newer than the binary forces a rebuild.
	fi, _ := os.Stat(path)
	newer := fi.ModTime().Add(2e9)
	if err := os.Chtimes(filepath.Join(root, "examples/demoapp/main.go"), newer, newer); err != nil {
		t.Fatal(err)
	}
	if _, built, err = demoBinary(ctx, cache, root, "amd64"); err != nil || !built {
		t.Errorf("after a source change: built=%v err=%v, want a rebuild", built, err)
	}
	// Another architecture is another cache entry.
	other, built, err := demoBinary(ctx, cache, root, "arm64")
	if err != nil || !built || other == path {
		t.Errorf("arm64: path %q built=%v err=%v, want a separate build", other, built, err)
	}
	// A broken source reports the compiler's message.
	if err := os.WriteFile(filepath.Join(root, "examples/demoapp/main.go"), []byte("package main\nfunc main() { undefinedThing() }\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Chtimes(filepath.Join(root, "examples/demoapp/main.go"), newer.Add(2e9), newer.Add(2e9)); err != nil {
		t.Fatal(err)
	}
	if _, _, err := demoBinary(ctx, cache, root, "amd64"); err == nil || !strings.Contains(err.Error(), "undefinedThing") {
		t.Errorf("broken source: error %v, want the compiler's message", err)
	}
}

func TestFindRepoRoot(t *testing.T) {
	root := fakeRepo(t)
	got, err := FindRepoRoot(filepath.Join(root, "examples/demoapp"))
	if err != nil || got != root {
		t.Errorf("FindRepoRoot() = %q, %v; want %q", got, err, root)
	}
	if _, err := FindRepoRoot(t.TempDir()); !errors.Is(err, ErrNotRepo) {
		t.Errorf("outside a repository: error %v, want ErrNotRepo", err)
	}
}

func TestFreePort(t *testing.T) {
	p, err := FreePort()
	if err != nil || p <= 0 || p > 65535 {
		t.Errorf("FreePort() = %d, %v", p, err)
	}
}

func TestNginxConf(t *testing.T) {
	n := &Nginx{Prefix: "/p", Conf: "/p/nginx.conf", ConfDir: "/p/conf.d", ErrorLog: "/p/logs/error.log", PIDFile: "/p/logs/nginx.pid"}
	tests := []struct {
		name     string
		modules  []string
		root     bool
		want     []string
		dontWant []string
	}{
		{
			name:     "plain, not root",
			want:     []string{"daemon on;", "pid /p/logs/nginx.pid;", "error_log /p/logs/error.log notice;", "include /p/conf.d/*.conf;", "proxy_temp_path /p/tmp/proxy;", "access_log /p/logs/default.access.log;"},
			dontWant: []string{"user ", "load_module", "listen"},
		},
		{
			name:    "lua as root",
			modules: []string{"/m/ndk_http_module.so", "/m/ngx_http_lua_module.so"},
			root:    true,
			want:    []string{"load_module /m/ndk_http_module.so;\nload_module /m/ngx_http_lua_module.so;", "user root;"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := nginxConf(n, tt.modules, tt.root)
			for _, w := range tt.want {
				if !strings.Contains(got, w) {
					t.Errorf("conf lacks %q:\n%s", w, got)
				}
			}
			for _, w := range tt.dontWant {
				if strings.Contains(got, w) {
					t.Errorf("conf holds %q:\n%s", w, got)
				}
			}
		})
	}
}

func TestProcStat(t *testing.T) {
	state, ppid, ok := procStat(os.Getpid())
	if !ok || ppid != os.Getppid() || state == 'Z' {
		t.Errorf("procStat(self) = %c, %d, %v; want ppid %d", state, ppid, ok, os.Getppid())
	}
	if _, _, ok := procStat(1 << 30); ok {
		t.Error("procStat of a missing pid succeeded")
	}
	if !processAlive(os.Getpid()) {
		t.Error("processAlive(self) = false")
	}
}

func TestPostgresURLAndSave(t *testing.T) {
	p := &Postgres{Dir: "/tmp/x", Port: 5499, User: "slip way", Password: "p@ss/w:rd", Database: "db"}
	want := "postgres://slip%20way:p%40ss%2Fw%3Ard@127.0.0.1:5499/db?sslmode=disable"
	if got := p.URL(); got != want {
		t.Errorf("URL() = %q, want %q", got, want)
	}
	path := filepath.Join(t.TempDir(), "pg.json")
	if err := p.Save(path); err != nil {
		t.Fatal(err)
	}
	if fi, _ := os.Stat(path); fi.Mode().Perm() != 0o600 {
		t.Errorf("saved with mode %v, want 0600", fi.Mode().Perm())
	}
	got, err := LoadPostgres(path)
	if err != nil || *got != *p {
		t.Errorf("LoadPostgres() = %+v, %v; want %+v", got, err, p)
	}
	if err := os.WriteFile(path, []byte(`{}`), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadPostgres(path); err == nil {
		t.Error("LoadPostgres accepted a description without directory or port")
	}
}
