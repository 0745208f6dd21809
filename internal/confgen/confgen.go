package confgen

import (
	"fmt"
	"strings"
)

// Chooser picks a whole number in [0, n) for n > 0. *math/rand.Rand is
// one.
type Chooser interface {
	Intn(n int) int
}

// Bytes is a Chooser that reads its choices from a fuzz input, one byte
// each; once the bytes run out every choice is 0 (the first, valid value
// of its pool).
type Bytes struct {
	b []byte
}

// NewBytes returns a Chooser reading b.
func NewBytes(b []byte) *Bytes {
	return &Bytes{b: b}
}

// Intn returns the next byte modulo n.
func (s *Bytes) Intn(n int) int {
	if n <= 1 || len(s.b) == 0 {
		return 0
	}
	v := int(s.b[0])
	s.b = s.b[1:]
	return v % n
}

// Options are the facts of the machine the configuration is for.
type Options struct {
	// Dir is a directory that exists: the access log and the admin
	// directory go there.
	Dir string
	// CertFile and KeyFile are a real certificate and key (WriteCert);
	// TLS routes use them.
	CertFile, KeyFile string
	// ListenBase is the first listen port routes use; they use the three
	// from there.
	ListenBase int
	// Dynamic lets the nginx block ask for dynamic switching (nginx loads
	// the Lua module).
	Dynamic bool
}

// Case is one generated configuration.
type Case struct {
	// Files maps file names to their content.
	Files map[string]string
	// Vars are -var options, name=value.
	Vars []string
}

// gen writes one configuration.
type gen struct {
	c Chooser
	o Options
	// bad is the chance, in thousandths, that a value comes from its pool
	// of invalid values.
	bad int
	b   strings.Builder
}

// pick returns a value from good, or now and then from bad.
func (g *gen) pick(good, bad []string) string {
	if len(bad) > 0 && g.c.Intn(1000) < g.bad {
		return bad[g.c.Intn(len(bad))]
	}
	return good[g.c.Intn(len(good))]
}

// chance reports true with probability n/d.
func (g *gen) chance(n, d int) bool {
	return g.c.Intn(d) < n
}

// line writes one line of HCL.
func (g *gen) line(format string, args ...any) {
	fmt.Fprintf(&g.b, format+"\n", args...)
}

// q quotes s as an HCL string literal.
func q(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`, "\t", `\t`, "${", "$${", "%{", "%%{")
	return `"` + r.Replace(s) + `"`
}

// qs quotes each of ss.
func qs(ss ...string) []string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = q(s)
	}
	return out
}

const digest = "sha256:5b0e1c36c1e7e1f0a0c4c7a6f9e0b1d2c3e4f5a6b7c8d9e0f1a2b3c4d5e6f7a8"

// Generate writes one configuration from c's choices.
func Generate(c Chooser, o Options) Case {
	g := &gen{c: c, o: o, bad: []int{0, 0, 15, 60}[c.Intn(4)]}
	cs := Case{Files: map[string]string{}}

	g.line("project %s {}", g.pick(qs("gen", "my-app", "a.b_c"), qs("my app", "-x", "")))
	g.line("")
	version := g.chance(1, 2)
	if version {
		g.line("variable \"version\" {\n  type    = string\n  default = \"v1\"\n}")
		cs.Vars = append(cs.Vars, "version="+g.pick([]string{"v2", "1.2.3", "latest", "v1.0-rc.1"}, []string{"", "1 2", "V$1", "a:b", "-"}))
	}
	g.line("nginx {")
	g.line("  config_dir  = %s", q(o.Dir+"/conf.d"))
	g.line("  access_log  = %s", g.pick(qs(o.Dir+"/logs/access.log", o.Dir+"/logs/slip way.log"), qs(o.Dir+`/logs/a"b.log`, o.Dir+"/logs/$host.log", o.Dir+"/logs/a\\b.log")))
	g.line("  listen_host = %s", g.pick(qs("", "127.0.0.1", "::1", "0.0.0.0"), qs("localhost", "1.2.3.4.5", "fe80::1%lo")))
	sw := "reload"
	if o.Dynamic && g.chance(1, 2) {
		sw = "dynamic"
	}
	g.line("  switch      = %s", q(sw))
	g.line("  admin_dir   = %s", g.pick(qs(o.Dir+"/admin"), qs("relative/admin", o.Dir+"/ad min", "/"+strings.Repeat("a", 100))))
	g.line("}")
	g.line("")

	n := 1 + c.Intn(3)
	for i := 0; i < n; i++ {
		g.service(i, version)
	}
	g.analysis()
	if g.chance(1, 3) {
		g.line("notify \"ops\" {\n  webhook = %s\n}", g.pick(qs("https://hooks.example.com/T0/B0", "http://127.0.0.1:9/hook"), qs("ftp://hooks.example.com/x", "hooks.example.com/x", "https://", "javascript:alert(1)")))
	}
	cs.Files["main.hcl"] = g.b.String()
	return cs
}

// service writes service i.
func (g *gen) service(i int, version bool) {
	name := g.pick(qs("web", "api", "worker", "front-end", "svc_2"), qs("a b", "-x"))
	if i > 0 {
		name = q(fmt.Sprintf("s%d", i))
	}
	g.line("service %s {", name)
	image := g.pick(qs("demo:v1", "registry.local:5000/team/app:1.2", "ghcr.io/acme/web", "demo@"+digest, "demo:v1@"+digest),
		qs("Demo:v1", "demo:", "demo: v1", "a:b:c", `demo:"v1"`, "", strings.Repeat("a", 64), "demo:v1 "))
	if version && g.chance(1, 2) {
		image = `"demo:${var.version}"`
	}
	g.line("  image    = %s", image)
	replicas := g.pick([]string{"1", "2", "3"}, []string{"0", "1e9", "1.5", "-1", "101", `"many"`})
	g.line("  replicas = %s", replicas)
	g.line("  port     = %s", g.pick([]string{"8080", "1", "65535"}, []string{"0", "70000", "1e400"}))
	g.line("  host_ip  = %s", g.pick(qs("127.0.0.1", "0.0.0.0", "::1"), qs("localhost", "1.2.3", "::1%lo")))
	g.line("  memory   = %s", g.pick(qs("", "6m", "256m", "1g", "0"), qs("5m", "1t", "99999999999g", "1.5g", "-1m")))
	g.line("  cpus     = %s", g.pick([]string{"0", "0.5", "2"}, []string{"0.001", "-1", "2000", "1e400"}))
	g.line("  env = {\n    %s = \"x\"\n    SECRET_KEY = \"y\"\n  }", g.pick(qs("A", "_a", "DEBUG"), qs("1A", "A-B", "A B", "A=B")))
	g.line("  volumes     = [%s]", g.pick([]string{"", `"data:/data"`, `"/srv/data:/data:ro"`}, []string{`"./data:/data"`, `"/:/"`, `"data"`, `"/a:/b:xx"`}))
	g.line("  extra_hosts = [%s]", g.pick([]string{"", `"db:10.0.0.5"`, `"gw:host-gateway"`}, []string{`"db:notanip"`, `"db"`, `":1.2.3.4"`}))
	g.line("  health {")
	g.line("    path     = %s", g.pick(qs("/health", "/api/health?x=1"), qs("health", "/a b", "")))
	g.line("    interval = %s", g.pick(qs("1s", "500ms", "2s"), qs("-1s", "2h", "NaN", "0s")))
	g.line("    timeout  = %s", g.pick(qs("1s", "100ms", "3s"), qs("-1s", "2h", "0s")))
	g.line("    deadline = %s", g.pick(qs("60s", "10m"), qs("48h", "1y")))
	g.line("  }")
	if g.chance(7, 8) {
		g.route()
	}
	switch g.c.Intn(4) {
	case 0:
		g.line("  blue_green {\n    keep_previous = %s\n  }", g.pick(qs("running", "stopped", "removed"), qs("kept")))
	case 1:
		g.line("  canary {")
		g.line("    steps         = %s", g.pick([]string{"[100]", "[5, 25, 100]", `[{ percent = 50, approve = true }, 100]`, `[10, { percent = 50, pause = "1m" }, 100]`},
			[]string{"[50]", "[100, 50]", "[101]", `["NaN"]`, `[{ percent = 50, pause = "200h" }, 100]`, "[1e9, 100]"}))
		g.line("    pause         = %s", g.pick(qs("0s", "1m", "168h"), qs("169h", "-1s")))
		g.line("    analysis      = \"a\"")
		g.line("    sticky_cookie = %s", g.pick(qs("", "bucket", "canary_bucket_2"), qs("canary-bucket", "a b", "a=b", "a;b")))
		g.line("    header        = %s", g.pick(qs("X-Slipway-Canary", "X-Test", "x1"), qs("X_Canary", "X Canary", "X:C", "")))
		g.line("  }")
	case 2:
		g.line("  rolling {\n    batch_size = %s\n    drain      = %s\n  }", g.pick([]string{"1", "2"}, []string{"0", "1000", "4"}), g.pick(qs("5s", "0s"), qs("2h", "-5s")))
	default:
		g.line("  hotfix {\n    reason = %s\n  }", g.pick(qs("CVE fix"), qs("", "  ")))
	}
	g.line("}")
	g.line("")
}

// route writes a service's route block.
func (g *gen) route() {
	g.line("  route {")
	g.line("    listen        = %s", g.pick([]string{fmt.Sprint(g.o.ListenBase), fmt.Sprint(g.o.ListenBase + 1), fmt.Sprint(g.o.ListenBase + 2)}, []string{"0", "70000", "-1", "1.5", "1e9"}))
	g.line("    server_name   = %s", g.pick(qs("_", "example.com", "a-b.example.com", "*.example.com", ".example.org", "www.example.*", "localhost", "UPPER.example.com", "x_y.test", strings.Repeat("l", 34)+".example.com"),
		qs(strings.Repeat("l", 35)+".example.com", "*", "a*b.com", "*a.com", `~^www\.example\.com$`, "a b", "..", "a..b", "例え.jp", "exa$mple.com", "a.com.", "", "a;b")))
	g.line("    location      = %s", g.pick(qs("/", "/api/", "= /exact", "/a-b_c.d/", "/%20x", "/ü/", "/a(b)", "/a?b"),
		qs("api", "~ ^/api", "^~ /x", "@named", "/a b", "/a#b", "/a$b", "/a;b", "/a{b", "=/exact", "", "/a\x01b")))
	g.line("    proxy_timeout = %s", g.pick(qs("60s", "1ms", "1500ms", "24h", "0s"), qs("-1s", "25h", "1y", "NaN")))
	if g.chance(1, 3) {
		cert, key := g.o.CertFile, g.o.KeyFile
		switch g.pick([]string{"both"}, []string{"dollar", "quote", "cert only"}) {
		case "dollar":
			cert = g.o.Dir + "/$ssl_server_name.pem"
		case "quote":
			key = g.o.Dir + `/k"ey.pem`
		case "cert only":
			key = ""
		}
		g.line("    tls_cert      = %s", q(cert))
		g.line("    tls_key       = %s", q(key))
	}
	g.line("  }")
}

// analysis writes the analysis "a" canaries refer to.
func (g *gen) analysis() {
	g.line("analysis \"a\" {")
	g.line("  interval     = %s", g.pick(qs("30s", "10s"), qs("2h", "0s")))
	g.line("  min_requests = %s", g.pick([]string{"50", "0"}, []string{"-1", "1e9"}))
	g.line("  error_rate {")
	g.line("    warn     = %s", g.pick(qs("1%", "0.5%"), qs("NaN%", "Inf%", "-1%", "1e2%", "0x1p-2%")))
	g.line("    fail     = %s", g.pick([]string{`"5%"`, "5", `"100%"`}, []string{`"101%"`, `"NaN%"`, "1/0", `"5"`}))
	g.line("    warn_for = %s", g.pick(qs("2m", "0s"), qs("25h")))
	g.line("  }")
	g.line("  latency_p95 {")
	g.line("    fail = %s", g.pick(qs("2s", "500ms"), qs("2h", "-1s", "NaN")))
	g.line("  }")
	g.line("}")
	g.line("")
}
