package valid

import (
	"math"
	"strings"
	"testing"
)

// check runs rule on every good value (want nil) and every bad one (want
// an error that does not repeat the value).
func check(t *testing.T, name string, rule func(string) error, good, bad []string) {
	t.Helper()
	for _, s := range good {
		if err := rule(s); err != nil {
			t.Errorf("%s(%q) = %v, want nil", name, s, err)
		}
	}
	for _, s := range bad {
		err := rule(s)
		if err == nil {
			t.Errorf("%s(%q) = nil, want an error", name, s)
			continue
		}
		if len(s) > 8 && strings.Contains(err.Error(), s) {
			t.Errorf("%s(%q) = %v: the message repeats the value", name, s, err)
		}
	}
}

func TestName(t *testing.T) {
	check(t, "Name", Name,
		[]string{"web", "a", "my-app_2.v1", "0day"},
		[]string{"", "-web", ".web", "a b", "a/b", "a;b", "é"})
}

func TestServerName(t *testing.T) {
	check(t, "ServerName", ServerName,
		[]string{"_", "example.com", "a-b.example.com", "*.example.com", ".example.org", "www.example.*", "localhost", "UPPER.com", "x_y",
			strings.Repeat("a", 46), "*." + strings.Repeat("a", 46), "." + strings.Repeat("a", 46), strings.Repeat("a", 46) + ".*"},
		[]string{"", "*", "*.", ".", "..", "a..b", "a*b", "*a.com", "**.a", "a.**", "*.a.*", ".a.*", "~^www\\.", "a b", "a;b", "a.com.", "exa$mple.com",
			"例え.jp", strings.Repeat("a", 47), "*." + strings.Repeat("a", 47), strings.Repeat("a", 47) + ".*"})
}

func TestLocation(t *testing.T) {
	check(t, "Location", Location,
		[]string{"/", "/api/", "= /exact", "/a-b_c.d", "/%20", "/a(b)", "/ü", "/a?b", "//"},
		[]string{"", "api", "@named", "~ ^/api", "~* \\.php$", "^~ /x", "=/exact", "/a b", "/a\tb", "/#x", "/a$b", "/a;b", "/a{", "/a}", "/a\"", "/a'", "/a\\b", "/a\x01b", "/a\u00a0b"})
}

func TestHeaderAndCookieNames(t *testing.T) {
	check(t, "HeaderName", HeaderName,
		[]string{"X-Slipway-Canary", "x", "X-1"},
		[]string{"", "X_Canary", "X Canary", "X:C", "X-Ü"})
	check(t, "CookieName", CookieName,
		[]string{"bucket", "canary_bucket", "A1"},
		[]string{"", "canary-bucket", "a b", "a=b", "a;b"})
}

func TestQuotable(t *testing.T) {
	check(t, "Quotable", Quotable,
		[]string{"", "/etc/ssl/cert.pem", "/etc/ssl/my cert.pem", "v1.2.3", "/a;b{c}"},
		[]string{"/etc/$host.pem", `/a"b`, "/a'b", `/a\b`, "/a\nb", "/a\x7fb"})
}

func TestListenHostAndHostIP(t *testing.T) {
	good := []string{"127.0.0.1", "0.0.0.0", "::1", "::", "10.1.2.3"}
	bad := []string{"", "localhost", "127.0.0.1:80", "256.1.1.1", "fe80::1%eth0", "1.2.3"}
	check(t, "ListenHost", ListenHost, good, bad)
	check(t, "HostIP", HostIP, good, bad)
}

func TestAdminDir(t *testing.T) {
	check(t, "AdminDir", AdminDir,
		[]string{"/run/slipway/nginx", "/tmp/a_b-c.d"},
		[]string{"run/slipway", "", "/run/slip way", "/run/$x", "/" + strings.Repeat("a", 100)})
}

func TestImage(t *testing.T) {
	check(t, "Image", Image,
		[]string{"demo", "demo:v1", "thebot/backend:1.3.0", "registry.local:5000/team/app:1.2", "ghcr.io/a/b",
			"demo@sha256:" + strings.Repeat("a", 64), "demo:v1@sha256:" + strings.Repeat("0", 64), "localhost/x:y"},
		[]string{"", "Demo:v1", "demo:", "demo: v1", "demo:v1 ", " demo", "a:b:c", "demo@sha256:12", "demo@", strings.Repeat("a", 64),
			"demo:" + strings.Repeat("t", 129), "demo:v$1", "demo:\"v1\"", "a//b"})
	err := Image("Demo:v1")
	if err == nil || !strings.Contains(err.Error(), "upper-case") {
		t.Errorf("Image(Demo:v1) = %v, want it to name the upper-case letters", err)
	}
}

func TestEnvName(t *testing.T) {
	check(t, "EnvName", EnvName,
		[]string{"A", "_a", "SECRET_KEY", "a1"},
		[]string{"", "1A", "A-B", "A B", "A=B", "A.B", "Ä"})
}

func TestMemory(t *testing.T) {
	for s, want := range map[string]int64{"0": 0, "6m": 6 << 20, "256m": 256 << 20, "1G": 1 << 30, "1024g": 1 << 40, "6291456": 6 << 20, "6144k": 6 << 20, "6291456b": 6 << 20} {
		got, err := Memory(s)
		if err != nil || got != want {
			t.Errorf("Memory(%q) = %d, %v; want %d", s, got, err, want)
		}
	}
	for _, s := range []string{"", "1", "5m", "1025g", "99999999999999999999", "9223372036854775807g", "1.5g", "1t", "-1m", "256 m"} {
		if n, err := Memory(s); err == nil {
			t.Errorf("Memory(%q) = %d, want an error", s, n)
		}
	}
}

func TestCPUs(t *testing.T) {
	for _, f := range []float64{0, 0.01, 0.5, 2, 1024} {
		if err := CPUs(f); err != nil {
			t.Errorf("CPUs(%v) = %v", f, err)
		}
	}
	for _, f := range []float64{-1, 0.001, 1024.5, math.Inf(1), math.NaN()} {
		if err := CPUs(f); err == nil {
			t.Errorf("CPUs(%v) = nil, want an error", f)
		}
	}
}

func TestVolume(t *testing.T) {
	check(t, "Volume", Volume,
		[]string{"/data", "data:/data", "/srv/data:/data", "/srv/data:/data:ro", "data:/data:ro,nocopy", "/a:/b:rw,Z,rshared,cached"},
		[]string{"", "/", "data", "./data:/data", "data:data", "/a:/", "a:/b:xx", "/a:/b:ro,rw", "/a:/b:nocopy", "a:/b:c:d", ":/data", "x:/b"})
}

func TestExtraHost(t *testing.T) {
	check(t, "ExtraHost", ExtraHost,
		[]string{"db:10.0.0.5", "host.docker.internal:host-gateway", "v6:::1", "v6b:[::1]"},
		[]string{"", "db", "db:", "db:notanip", ":1.2.3.4", "a b:1.2.3.4", "db:1.2.3.4:5"})
}

func TestWebhookURL(t *testing.T) {
	check(t, "WebhookURL", WebhookURL,
		[]string{"https://hooks.example.com/T0/B0", "http://127.0.0.1:9000/hook"},
		[]string{"", "hooks.example.com/x", "ftp://x/y", "file:///etc/passwd", "https://", "mailto:a@b", "javascript:alert(1)", "http:/x"})
}
