package nginx

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/slipwayhq/slipway/internal/valid"
	"github.com/slipwayhq/slipway/providers"
)

func TestTableText(t *testing.T) {
	full := Table{
		Release: 43, Tag: "43/abcdef012345",
		Stable: []string{"127.0.0.1:1", "127.0.0.1:2"}, Candidate: []string{"[::1]:3"},
		CandidateWeight: 25, StableVersion: "1.2.3", CandidateVersion: "1.3.0 rc 1",
		StickyCookie: "slipway_web", CanaryHeader: "X-Canary",
	}
	for _, tc := range []struct {
		name  string
		table Table
	}{
		{"full", full},
		{"empty optional fields", Table{Release: 1, Tag: "1/x", Stable: []string{"127.0.0.1:1"}, Candidate: []string{"127.0.0.1:1"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			text, err := tc.table.MarshalText()
			if err != nil {
				t.Fatal(err)
			}
			var got Table
			if err := got.UnmarshalText(text); err != nil {
				t.Fatalf("unmarshal %q: %v", text, err)
			}
			if !got.Equal(tc.table) {
				t.Fatalf("round trip: %+v, want %+v", got, tc.table)
			}
		})
	}
	text, _ := full.MarshalText()
	want := "release 43\ntag 43/abcdef012345\nweight 25\nstable 127.0.0.1:1 127.0.0.1:2\ncandidate [::1]:3\n" +
		"stable_version 1.2.3\ncandidate_version 1.3.0 rc 1\ncookie slipway_web\nheader X-Canary\n"
	if string(text) != want {
		t.Fatalf("text:\n%s\nwant:\n%s", text, want)
	}

	for _, bad := range []string{
		"release 1\ntag x\nweight 0\nstable a:1\n",                       // no candidate
		"release 1\ntag x\nweight 0\nstable a:1\ncandidate a:1\nfoo 1\n", // unknown key
		"release x\ntag x\nweight 0\nstable a:1\ncandidate a:1\n",        // release not a number
		"release 1\nrelease 2\ntag x\nweight 0\nstable a:1\ncandidate a:1\n",
	} {
		var got Table
		if err := got.UnmarshalText([]byte(bad)); !errors.Is(err, ErrBadTable) {
			t.Errorf("unmarshal %q: %v, want ErrBadTable", bad, err)
		}
	}
}

func TestTableOfNormalisesLikeTheReloadFile(t *testing.T) {
	for _, tc := range []struct {
		name                   string
		edit                   func(*providers.RouteSpec)
		stable, candidate      string
		weight                 int
		header, stableVersions string
	}{
		{"both groups", func(s *providers.RouteSpec) { s.CanaryHeader = "X-Canary" },
			"127.0.0.1:49153 127.0.0.1:49154", "127.0.0.1:49155", 25, "X-Canary", "1.2.3"},
		{"no candidate: all stable, header ignored", func(s *providers.RouteSpec) { s.Candidate, s.CanaryHeader = nil, "X-Canary" },
			"127.0.0.1:49153 127.0.0.1:49154", "127.0.0.1:49153 127.0.0.1:49154", 0, "", "1.2.3"},
		{"no stable: all candidate", func(s *providers.RouteSpec) { s.Stable, s.CanaryHeader = nil, "X-Canary" },
			"127.0.0.1:49155", "127.0.0.1:49155", 100, "", "1.2.3"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			spec := baseSpec()
			tc.edit(&spec)
			got := tableOf(spec, "43/x")
			if strings.Join(got.Stable, " ") != tc.stable || strings.Join(got.Candidate, " ") != tc.candidate ||
				got.CandidateWeight != tc.weight || got.CanaryHeader != tc.header || got.Release != 43 || got.Tag != "43/x" ||
				got.StableVersion != tc.stableVersions {
				t.Fatalf("tableOf: %+v", got)
			}
		})
	}
}

func dynamicOptions() renderOptions {
	return renderOptions{AccessLog: "/var/log/nginx/slipway.log", Dynamic: true, AdminDir: "/run/slipway/nginx"}
}

// TestRenderDynamicShape: what may change without a reload changes the
// table and the tag but not the shape; anything else changes the shape.
func TestRenderDynamicShape(t *testing.T) {
	base, err := render(baseSpec(), dynamicOptions())
	if err != nil {
		t.Fatal(err)
	}
	if s, ok := shapeOf(base.content); !ok || s != base.shape || !strings.HasPrefix(s, "sha256:") {
		t.Fatalf("shapeOf = %q, %v; want %q", s, ok, base.shape)
	}
	if ft, ok := fileTable(base.content); !ok || !ft.Equal(base.table) || base.table.Tag != base.tag {
		t.Fatalf("file table %+v (%v), want %+v with tag %s", ft, ok, base.table, base.tag)
	}
	for _, tc := range []struct {
		name      string
		edit      func(*providers.RouteSpec, *renderOptions)
		sameShape bool
	}{
		{"release", func(s *providers.RouteSpec, _ *renderOptions) { s.Release = 44 }, true},
		{"weight", func(s *providers.RouteSpec, _ *renderOptions) { s.CandidateWeight = 100 }, true},
		{"peers", func(s *providers.RouteSpec, _ *renderOptions) { s.Candidate = []string{"127.0.0.1:1", "127.0.0.1:2"} }, true},
		{"no candidate", func(s *providers.RouteSpec, _ *renderOptions) { s.Candidate = nil }, true},
		{"versions", func(s *providers.RouteSpec, _ *renderOptions) { s.StableVersion, s.CandidateVersion = "2", "3" }, true},
		{"sticky cookie", func(s *providers.RouteSpec, _ *renderOptions) { s.StickyCookie = "sticky" }, true},
		{"canary header", func(s *providers.RouteSpec, _ *renderOptions) { s.CanaryHeader = "X-Test" }, true},
		{"listen", func(s *providers.RouteSpec, _ *renderOptions) { s.Listen = 8081 }, false},
		{"server name", func(s *providers.RouteSpec, _ *renderOptions) { s.ServerName = "other.example.com" }, false},
		{"location", func(s *providers.RouteSpec, _ *renderOptions) { s.Location = "/api/" }, false},
		{"tls", func(s *providers.RouteSpec, _ *renderOptions) { s.TLSCert, s.TLSKey = "/c.pem", "/k.pem" }, false},
		{"timeout", func(s *providers.RouteSpec, _ *renderOptions) { s.ProxyTimeout = time.Minute }, false},
		{"access log", func(_ *providers.RouteSpec, o *renderOptions) { o.AccessLog = "/tmp/other.log" }, false},
		{"admin dir", func(_ *providers.RouteSpec, o *renderOptions) { o.AdminDir = "/run/other" }, false},
		{"listen host", func(_ *providers.RouteSpec, o *renderOptions) { o.ListenHost = "127.0.0.1" }, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			spec, o := baseSpec(), dynamicOptions()
			tc.edit(&spec, &o)
			r, err := render(spec, o)
			if err != nil {
				t.Fatal(err)
			}
			if (r.shape == base.shape) != tc.sameShape {
				t.Fatalf("shape %s vs %s: same = %v, want %v", r.shape, base.shape, r.shape == base.shape, tc.sameShape)
			}
			if r.tag == base.tag {
				t.Fatal("tag unchanged by a change")
			}
			if ft, ok := fileTable(r.content); !ok || !ft.Equal(r.table) {
				t.Fatalf("file table %+v, want %+v", ft, r.table)
			}
		})
	}
}

func TestRenderDynamicRejectsNames(t *testing.T) {
	spec := baseSpec()
	spec.Candidate = []string{"app.internal:8080"}
	if _, err := render(spec, renderOptions{}); err != nil {
		t.Fatalf("reload rendering of a named upstream: %v", err)
	}
	_, err := render(spec, dynamicOptions())
	if !errors.Is(err, ErrInvalidSpec) || !strings.Contains(err.Error(), `"app.internal:8080"`) {
		t.Fatalf("dynamic rendering of a named upstream: %v, want ErrInvalidSpec naming it", err)
	}
}

var dynamicGoldenCases = []struct {
	name string
	edit func(*providers.RouteSpec)
}{
	{"dynamic_sticky_header_25", func(s *providers.RouteSpec) {
		s.StickyCookie, s.CanaryHeader = "slipway_backend", "X-Canary"
	}},
	{"dynamic_tls_no_candidate", func(s *providers.RouteSpec) {
		s.TLSCert, s.TLSKey = "/etc/ssl/thebot.pem", "/etc/ssl/private/thebot key.pem"
		s.Candidate, s.CandidateVersion, s.ProxyTimeout = nil, "", 0
		s.Listen = 8443
	}},
}

func TestRenderDynamicGolden(t *testing.T) {
	for _, tc := range dynamicGoldenCases {
		t.Run(tc.name, func(t *testing.T) {
			spec := baseSpec()
			tc.edit(&spec)
			r, err := render(spec, dynamicOptions())
			if err != nil {
				t.Fatal(err)
			}
			golden := filepath.Join("testdata", tc.name+".conf")
			if *update {
				if err := os.WriteFile(golden, r.content, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test -update to create it)", err)
			}
			if string(r.content) != string(want) {
				t.Errorf("render differs from %s (go test -update rewrites it):\n%s", golden, r.content)
			}
			if f, ok := parseFile(r.content); !ok || f.Checksum != r.checksum || f.Edited() {
				t.Errorf("header does not read back: %+v (ok %v)", f, ok)
			}
		})
	}
}

// TestDynamicGoldenFilesPassNginxTest proves the dynamic renderings are
// valid for nginx with the Lua module, without a warning.
func TestDynamicGoldenFilesPassNginxTest(t *testing.T) {
	needLua(t)
	cert, key := writeSelfSigned(t, "thebot.example.com")
	for _, tc := range dynamicGoldenCases {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			content, err := os.ReadFile(filepath.Join("testdata", tc.name+".conf"))
			if err != nil {
				t.Fatal(err)
			}
			s := strings.ReplaceAll(string(content), "/var/log/nginx/slipway.log", filepath.Join(dir, "slipway.log"))
			s = strings.ReplaceAll(s, "/etc/ssl/thebot.pem", cert)
			s = strings.ReplaceAll(s, "/etc/ssl/private/thebot key.pem", key)
			s = strings.ReplaceAll(s, "/run/slipway/nginx", dir)
			if err := os.WriteFile(filepath.Join(dir, "route.conf"), []byte(s), 0o644); err != nil {
				t.Fatal(err)
			}
			conf := filepath.Join(dir, "nginx.conf")
			var loads string
			for _, m := range luaModuleFiles {
				loads += "load_module " + m + ";\n"
			}
			main := fmt.Sprintf("%spid %s/nginx.pid;\nerror_log %s/error.log;\nevents {}\nhttp {\n    access_log off;\n    include %s/route.conf;\n}\n", loads, dir, dir, dir)
			if err := os.WriteFile(conf, []byte(main), 0o644); err != nil {
				t.Fatal(err)
			}
			out, err := exec.Command(nginxBinary, "-p", dir, "-c", conf, "-t").CombinedOutput()
			if err != nil || strings.Contains(string(out), "[warn]") {
				t.Fatalf("nginx -t: %v\n%s", err, out)
			}
		})
	}
}

func TestLongBracket(t *testing.T) {
	for _, tc := range []struct{ text, want string }{
		{"a\n", "[=[\na\n]=]"},
		{"x ]=] y\n", "[==[\nx ]=] y\n]==]"},
		{"]=] ]==]\n", "[===[\n]=] ]==]\n]===]"},
	} {
		if got := longBracket(tc.text); got != tc.want {
			t.Errorf("longBracket(%q) = %q, want %q", tc.text, got, tc.want)
		}
	}
}

func TestLiveOfDynamicFile(t *testing.T) {
	r, err := render(baseSpec(), dynamicOptions())
	if err != nil {
		t.Fatal(err)
	}
	spec, tag, ok := liveOf(r.content)
	if !ok || tag != r.tag || spec.Listen != 8080 || spec.ServerName != "thebot.example.com" || spec.Location != "/" {
		t.Fatalf("liveOf: %+v %q %v, want tag %q", spec, tag, ok, r.tag)
	}
}

func TestNewSwitchOptions(t *testing.T) {
	for _, tc := range []struct {
		name string
		o    Options
		ok   bool
	}{
		{"default", Options{ConfigDir: "/x"}, true},
		{"dynamic", Options{ConfigDir: "/x", Switch: "dynamic", AdminDir: "/run/a"}, true},
		{"auto", Options{ConfigDir: "/x", Switch: "auto"}, true},
		{"unknown switch", Options{ConfigDir: "/x", Switch: "lua"}, false},
		{"relative admin dir", Options{ConfigDir: "/x", AdminDir: "run/a"}, false},
		{"admin dir with a space", Options{ConfigDir: "/x", AdminDir: "/run/a b"}, false},
		{"admin dir with a semicolon", Options{ConfigDir: "/x", AdminDir: "/run/a;b"}, false},
		{"admin dir too long for a socket", Options{ConfigDir: "/x", AdminDir: "/" + strings.Repeat("a", 100)}, false},
		{"longest admin dir", Options{ConfigDir: "/x", AdminDir: "/" + strings.Repeat("a", valid.MaxSocketPath-len("/0123456789.sock")-1)}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			n, err := New(tc.o)
			if (err == nil) != tc.ok {
				t.Fatalf("New: %v, want ok %v", err, tc.ok)
			}
			if err == nil && tc.o.AdminDir == "" && n.opts.AdminDir != DefaultAdminDir {
				t.Fatalf("admin dir %q, want %q", n.opts.AdminDir, DefaultAdminDir)
			}
		})
	}
	longest := "/" + strings.Repeat("a", valid.MaxSocketPath-len("/0123456789.sock")-1)
	if err := valid.AdminDir(longest); err != nil {
		t.Fatal(err)
	}
	if sock := AdminSocket(longest, "a-long-project", "production", "a-long-service"); len(sock) > valid.MaxSocketPath {
		t.Fatalf("admin socket %q is %d bytes, over %d", sock, len(sock), valid.MaxSocketPath)
	}
	n, _ := New(Options{ConfigDir: "/x", Switch: "dynamic"})
	if n.Mode() != SwitchDynamic {
		t.Fatalf("mode %q", n.Mode())
	}
}

func TestModeAuto(t *testing.T) {
	for _, tc := range []struct {
		name    string
		answers []error // nil: Lua found; errNoLua: not found; else a failure
		want    []string
	}{
		{"lua", []error{nil}, []string{"dynamic", "dynamic"}},
		{"no lua", []error{errNoLua}, []string{"reload", "reload"}},
		{"failure is not kept", []error{errors.New("nginx -T failed"), nil}, []string{"reload", "dynamic", "dynamic"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			n, err := New(Options{ConfigDir: "/x", Switch: SwitchAuto})
			if err != nil {
				t.Fatal(err)
			}
			calls := 0
			n.detect = func(context.Context) (bool, error) {
				a := tc.answers[min(calls, len(tc.answers)-1)]
				calls++
				switch {
				case a == nil:
					return true, nil
				case errors.Is(a, errNoLua):
					return false, nil
				}
				return false, a
			}
			for i, want := range tc.want {
				if got := n.Mode(); got != want {
					t.Fatalf("call %d: mode %q, want %q", i, got, want)
				}
			}
			if calls != len(tc.answers) {
				t.Fatalf("%d detections, want %d", calls, len(tc.answers))
			}
		})
	}
}

var errNoLua = errors.New("no lua")

func TestDetectLua(t *testing.T) {
	needLua(t)
	for _, tc := range []struct {
		name    string
		modules []string
		want    bool
	}{
		{"plain", nil, false},
		{"lua loaded", luaModuleFiles, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			conf := filepath.Join(dir, "nginx.conf")
			var loads string
			for _, m := range tc.modules {
				loads += "load_module " + m + ";\n"
			}
			main := fmt.Sprintf("%spid %s/nginx.pid;\nerror_log %s/error.log;\nevents {}\nhttp {\n    access_log off;\n}\n", loads, dir, dir)
			if err := os.WriteFile(conf, []byte(main), 0o644); err != nil {
				t.Fatal(err)
			}
			got, err := detectLua(context.Background(), &Reload{Binary: nginxBinary, Prefix: dir, Conf: conf})
			if err != nil || got != tc.want {
				t.Fatalf("detectLua = %v, %v; want %v", got, err, tc.want)
			}
			n, err := New(Options{ConfigDir: dir, Binary: nginxBinary, Prefix: dir, Conf: conf, Switch: SwitchAuto})
			if err != nil {
				t.Fatal(err)
			}
			if want := map[bool]string{true: "dynamic", false: "reload"}[tc.want]; n.Mode() != want {
				t.Fatalf("auto mode %q, want %q", n.Mode(), want)
			}
		})
	}
	for _, tc := range []struct {
		out  string
		load bool
	}{
		{"load_module /usr/lib/nginx/modules/ngx_http_lua_module.so;", true},
		{"  load_module \"modules/ngx_http_lua_module.so\";", true},
		{"# load_module /usr/lib/nginx/modules/ngx_http_lua_module.so;", false},
		{"load_module /usr/lib/nginx/modules/ngx_http_echo_module.so;", false},
	} {
		if got := loadLuaRe.MatchString(tc.out); got != tc.load {
			t.Errorf("loadLuaRe on %q: %v, want %v", tc.out, got, tc.load)
		}
	}
}

func TestEnsureAdminDir(t *testing.T) {
	root := t.TempDir()
	fresh := filepath.Join(root, "a", "b")
	if err := ensureAdminDir(fresh); err != nil {
		t.Fatal(err)
	}
	if info, _ := os.Stat(fresh); info.Mode().Perm() != 0o700 {
		t.Fatalf("new admin dir mode %v, want 0700", info.Mode().Perm())
	}

	open := filepath.Join(root, "open")
	if err := os.Mkdir(open, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := ensureAdminDir(open); err != nil {
		t.Fatal(err)
	}
	if info, _ := os.Stat(open); info.Mode().Perm() != 0o700 {
		t.Fatalf("open admin dir left at mode %v, want 0700", info.Mode().Perm())
	}

	link := filepath.Join(root, "link")
	if err := os.Symlink(open, link); err != nil {
		t.Fatal(err)
	}
	if err := ensureAdminDir(link); !errors.Is(err, ErrAdminDir) {
		t.Fatalf("symlinked admin dir: %v, want ErrAdminDir", err)
	}

	file := filepath.Join(root, "file")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := ensureAdminDir(file); err == nil {
		t.Fatal("a file as admin dir was accepted")
	}

	if os.Geteuid() == 0 {
		theirs := filepath.Join(root, "theirs")
		if err := os.Mkdir(theirs, 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.Chown(theirs, 65534, 65534); err != nil {
			t.Fatal(err)
		}
		err := ensureAdminDir(theirs)
		if !errors.Is(err, ErrAdminDir) || !strings.Contains(err.Error(), "uid 65534") {
			t.Fatalf("admin dir owned by nobody: %v, want ErrAdminDir", err)
		}
		var st syscall.Stat_t
		if err := syscall.Stat(theirs, &st); err != nil || st.Uid != 65534 {
			t.Fatalf("someone else's dir was changed: %v uid %d", err, st.Uid)
		}
	}
}
