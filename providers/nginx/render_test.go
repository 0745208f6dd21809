package nginx

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/slipwayhq/slipway/providers"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

func baseSpec() providers.RouteSpec {
	return providers.RouteSpec{
		Project: "thebot", Env: "prod", Service: "backend", Release: 43,
		Listen: 8080, ServerName: "thebot.example.com", Location: "/",
		ProxyTimeout:  30 * time.Second,
		Stable:        []string{"127.0.0.1:49153", "127.0.0.1:49154"},
		Candidate:     []string{"127.0.0.1:49155"},
		StableVersion: "1.2.3", CandidateVersion: "1.3.0",
		CandidateWeight: 25,
	}
}

// goldenCases are rendered to testdata/<name>.conf.
var goldenCases = []struct {
	name string
	opts renderOptions
	edit func(*providers.RouteSpec)
}{
	{"canary_25", renderOptions{AccessLog: "/var/log/nginx/slipway.log"}, func(*providers.RouteSpec) {}},
	{"no_env_weight_0_exact_location", renderOptions{}, func(s *providers.RouteSpec) {
		s.Env, s.CandidateWeight, s.ProxyTimeout, s.ServerName = "", 0, 0, ""
		s.Location = "= /health"
	}},
	{"tls_header_100", renderOptions{AccessLog: "/var/log/nginx/slipway.log", ListenHost: "127.0.0.1"}, func(s *providers.RouteSpec) {
		s.TLSCert, s.TLSKey = "/etc/ssl/thebot.pem", "/etc/ssl/private/thebot key.pem"
		s.CandidateWeight, s.CanaryHeader = 100, "X-Canary"
		s.ProxyTimeout = 1500 * time.Millisecond
		s.Listen = 8443
	}},
	{"sticky_header_50", renderOptions{AccessLog: "/var/log/nginx/slipway.log"}, func(s *providers.RouteSpec) {
		s.CandidateWeight, s.StickyCookie, s.CanaryHeader = 50, "slipway_backend", "X-Canary"
		s.ProxyTimeout = 120 * time.Second
	}},
	{"no_candidate_servers", renderOptions{}, func(s *providers.RouteSpec) {
		s.Candidate, s.CandidateVersion, s.CanaryHeader = nil, "", "X-Canary"
	}},
	{"no_stable_servers", renderOptions{}, func(s *providers.RouteSpec) {
		s.Stable, s.StableVersion, s.CandidateWeight = nil, "", 5
	}},
	{"names_needing_hash", renderOptions{}, func(s *providers.RouteSpec) {
		s.Project, s.Env, s.Service = "The-Bot", "eu.prod", "api_v2"
		s.Location = "/api/"
	}},
	{"long_names", renderOptions{}, func(s *providers.RouteSpec) {
		s.Project, s.Env, s.Service = "acme-enterprise-platform", "production-eu-west-1", "customer-facing-frontend"
		s.StickyCookie, s.CanaryHeader = "acme_enterprise_platform_canary_bucket", "X-Acme-Enterprise-Canary-Tester"
	}},
}

func TestRenderGolden(t *testing.T) {
	for _, tc := range goldenCases {
		t.Run(tc.name, func(t *testing.T) {
			spec := baseSpec()
			tc.edit(&spec)
			r, err := render(spec, tc.opts)
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
			f, ok := parseFile(r.content)
			if !ok || f.Project != spec.Project || f.Env != spec.Env || f.Service != spec.Service ||
				f.Release != spec.Release || f.Checksum != r.checksum || f.Edited() {
				t.Errorf("header does not read back: %+v (ok %v)", f, ok)
			}
			if r.name != FileName(spec.Project, spec.Env, spec.Service) {
				t.Errorf("file name %q", r.name)
			}
		})
	}
}

// TestGoldenFilesPassNginxTest proves every golden rendering is a valid
// nginx configuration, without a warning.
func TestGoldenFilesPassNginxTest(t *testing.T) {
	needNginx(t)
	cert, key := writeSelfSigned(t, "thebot.example.com")
	for _, tc := range goldenCases {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			content, err := os.ReadFile(filepath.Join("testdata", tc.name+".conf"))
			if err != nil {
				t.Fatal(err)
			}
			s := strings.ReplaceAll(string(content), "/var/log/nginx/slipway.log", filepath.Join(dir, "slipway.log"))
			s = strings.ReplaceAll(s, "/etc/ssl/thebot.pem", cert)
			s = strings.ReplaceAll(s, "/etc/ssl/private/thebot key.pem", key)
			if err := os.WriteFile(filepath.Join(dir, "route.conf"), []byte(s), 0o644); err != nil {
				t.Fatal(err)
			}
			conf := filepath.Join(dir, "nginx.conf")
			main := fmt.Sprintf("pid %s/nginx.pid;\nerror_log %s/error.log;\nevents {}\nhttp {\n    access_log off;\n    include %s/route.conf;\n}\n", dir, dir, dir)
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

func TestRenderRejects(t *testing.T) {
	for _, tc := range []struct {
		name string
		edit func(*providers.RouteSpec)
		want string
	}{
		{"server name with space", func(s *providers.RouteSpec) { s.ServerName = "a.com b.com" }, "server_name"},
		{"server name with semicolon", func(s *providers.RouteSpec) { s.ServerName = "a.com;" }, "server_name"},
		{"regex server name", func(s *providers.RouteSpec) { s.ServerName = "~^a" }, "server_name"},
		{"wildcard inside a server name", func(s *providers.RouteSpec) { s.ServerName = "*a.com" }, "server_name"},
		{"bare wildcard server name", func(s *providers.RouteSpec) { s.ServerName = "*" }, "server_name"},
		{"regex location", func(s *providers.RouteSpec) { s.Location = "~ ^/api" }, "location"},
		{"location with hash", func(s *providers.RouteSpec) { s.Location = "/a#b" }, "location"},
		{"location with control character", func(s *providers.RouteSpec) { s.Location = "/a\x01b" }, "location"},
		{"location with brace", func(s *providers.RouteSpec) { s.Location = "/a{" }, "location"},
		{"location with quote", func(s *providers.RouteSpec) { s.Location = `/a"` }, "location"},
		{"location with newline", func(s *providers.RouteSpec) { s.Location = "/a\nb" }, "location"},
		{"location with space", func(s *providers.RouteSpec) { s.Location = "/a b" }, "location"},
		{"relative location", func(s *providers.RouteSpec) { s.Location = "api" }, "location"},
		{"empty location", func(s *providers.RouteSpec) { s.Location = "" }, "location"},
		{"upstream without port", func(s *providers.RouteSpec) { s.Stable = []string{"127.0.0.1"} }, "not host:port"},
		{"upstream with bad port", func(s *providers.RouteSpec) { s.Candidate = []string{"127.0.0.1:0"} }, "port"},
		{"upstream with semicolon", func(s *providers.RouteSpec) { s.Stable = []string{"a;b:80"} }, "not host:port"},
		{"no upstreams", func(s *providers.RouteSpec) { s.Stable, s.Candidate = nil, nil }, "no upstream servers"},
		{"weight above 100", func(s *providers.RouteSpec) { s.CandidateWeight = 101 }, "weight"},
		{"negative weight", func(s *providers.RouteSpec) { s.CandidateWeight = -1 }, "weight"},
		{"port 0", func(s *providers.RouteSpec) { s.Listen = 0 }, "listen"},
		{"cert without key", func(s *providers.RouteSpec) { s.TLSCert = "/c.pem" }, "both"},
		{"quote in key path", func(s *providers.RouteSpec) { s.TLSCert, s.TLSKey = "/c.pem", `/k".pem` }, "tls path"},
		{"dollar in version", func(s *providers.RouteSpec) { s.CandidateVersion = "$host" }, "version"},
		{"dash in cookie", func(s *providers.RouteSpec) { s.StickyCookie = "a-b" }, "sticky cookie"},
		{"underscore in header", func(s *providers.RouteSpec) { s.CanaryHeader = "X_Canary" }, "canary header"},
		{"service with slash", func(s *providers.RouteSpec) { s.Service = "a/b" }, "service"},
		{"empty project", func(s *providers.RouteSpec) { s.Project = "" }, "project"},
		{"env with space", func(s *providers.RouteSpec) { s.Env = "a b" }, "env"},
		{"negative timeout", func(s *providers.RouteSpec) { s.ProxyTimeout = -time.Second }, "timeout"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			spec := baseSpec()
			tc.edit(&spec)
			_, err := render(spec, renderOptions{})
			if !errors.Is(err, ErrInvalidSpec) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("render: %v, want ErrInvalidSpec mentioning %q", err, tc.want)
			}
		})
	}
}

func TestRenderTagChangesWithRouting(t *testing.T) {
	a := baseSpec()
	b := baseSpec()
	b.CandidateWeight = 50
	ra, _ := render(a, renderOptions{})
	rb, _ := render(b, renderOptions{})
	if ra.tag == rb.tag {
		t.Fatalf("same release, different routing, same tag %q", ra.tag)
	}
	if !strings.HasPrefix(ra.tag, "43/") {
		t.Fatalf("tag %q does not start with the release", ra.tag)
	}
	if !strings.Contains(string(ra.content), `add_header X-Slipway-Release "`+ra.tag+`" always;`) {
		t.Fatal("the file does not carry its tag")
	}
	again, _ := render(a, renderOptions{})
	if string(again.content) != string(ra.content) {
		t.Fatal("rendering is not deterministic")
	}
}

func TestRouteIDUnique(t *testing.T) {
	triples := [][3]string{
		{"thebot", "prod", "backend"},
		{"thebot", "", "backend"},
		{"my-app", "", "web"},
		{"my_app", "", "web"},
		{"a_b", "c", "d"},
		{"a", "b_c", "d"},
		{"a", "b", "c_d"},
		{"A", "b", "c"},
		{"a", "b", "c"},
	}
	seen := map[string][3]string{}
	for _, tr := range triples {
		id := routeID(tr[0], tr[1], tr[2])
		for _, r := range id {
			if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '_') {
				t.Fatalf("routeID%v = %q has %q", tr, id, r)
			}
		}
		if other, dup := seen[id]; dup {
			t.Fatalf("routeID%v = routeID%v = %q", tr, other, id)
		}
		seen[id] = tr
	}
	if got := routeID("thebot", "prod", "backend"); got != "thebot_prod_backend" {
		t.Fatalf("plain names: %q", got)
	}
}

func TestParseFile(t *testing.T) {
	for _, tc := range []struct {
		name    string
		content string
		ok      bool
	}{
		{"valid", "# managed by slipway: project=p env= service=s release=3 checksum=sha256:ab\nbody\n", true},
		{"no header", "upstream x {}\n", false},
		{"missing checksum", "# managed by slipway: project=p env= service=s release=3\nbody\n", false},
		{"bad release", "# managed by slipway: project=p env= service=s release=x checksum=sha256:ab\nbody\n", false},
		{"header only", "# managed by slipway: project=p env= service=s release=3 checksum=sha256:ab", false},
		{"empty", "", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f, ok := parseFile([]byte(tc.content))
			if ok != tc.ok {
				t.Fatalf("ok = %v, want %v (%+v)", ok, tc.ok, f)
			}
			if f.Actual == "" {
				t.Fatal("Actual not set")
			}
			if ok && (f.Project != "p" || f.Env != "" || f.Service != "s" || f.Release != 3 || f.Checksum != "sha256:ab") {
				t.Fatalf("parsed %+v", f)
			}
		})
	}
}

func TestLiveOf(t *testing.T) {
	spec := baseSpec()
	spec.TLSCert, spec.TLSKey, spec.Location = "/c", "/k", "= /x"
	r, err := render(spec, renderOptions{ListenHost: "127.0.0.1"})
	if err != nil {
		t.Fatal(err)
	}
	got, tag, ok := liveOf(r.content)
	if !ok || tag != r.tag || got.Listen != 8080 || got.ServerName != spec.ServerName || got.Location != "= /x" || got.TLSCert == "" {
		t.Fatalf("liveOf = %+v %q %v", got, tag, ok)
	}
}

func TestNginxDuration(t *testing.T) {
	for d, want := range map[time.Duration]string{
		30 * time.Second:        "30s",
		1500 * time.Millisecond: "1500ms",
		time.Microsecond:        "1ms",
	} {
		if got := nginxDuration(d); got != want {
			t.Errorf("nginxDuration(%s) = %q, want %q", d, got, want)
		}
	}
}
