package config

import (
	"encoding/json"
	"strings"
	"testing"
)

// hashOf loads files and returns the config hash.
func hashOf(t *testing.T, files map[string]string, vars ...string) string {
	t.Helper()
	dir := writeConfig(t, files)
	cfg, diags := Load(dir, LoadOptions{Vars: vars, Environ: []string{}})
	if diags.HasErrors() {
		t.Fatal(render(cfg, diags))
	}
	return cfg.Hash()
}

func TestHash(t *testing.T) {
	const head = "project \"p\" {}\nvariable \"key\" {\n  sensitive = true\n}\n"
	const web = "service \"web\" {\n  image = \"web:1\"\n  port = 80\n  env = { KEY = var.key }\n}\n"
	const api = "service \"api\" {\n  image = \"api:1\"\n  port = 81\n}\n"
	base := hashOf(t, map[string]string{"main.hcl": head + web + api}, "key=a")
	tests := []struct {
		name  string
		files map[string]string
		key   string
		same  bool
	}{
		{"identical", map[string]string{"main.hcl": head + web + api}, "a", true},
		{"blocks reordered", map[string]string{"main.hcl": head + api + web}, "a", true},
		{"split across files", map[string]string{"a.hcl": head + api, "b.hcl": "# comment\n\n" + web}, "a", true},
		{"reformatted", map[string]string{"main.hcl": string(Format([]byte(head + web + api)))}, "a", true},
		{"defaults written out", map[string]string{"main.hcl": head + strings.Replace(web, "port = 80", "port = 80\n  replicas = 1", 1) + api}, "a", true},
		{"sensitive value changed", map[string]string{"main.hcl": head + web + api}, "b", true},
		{"image changed", map[string]string{"main.hcl": head + strings.Replace(web, "web:1", "web:2", 1) + api}, "a", false},
		{"service added", map[string]string{"main.hcl": head + web + api + strings.Replace(api, `"api"`, `"api2"`, 1)}, "a", false},
		{"strategy changed", map[string]string{"main.hcl": head + strings.Replace(web, "port = 80", "port = 80\n  hotfix { reason = \"x\" }", 1) + api}, "a", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := hashOf(t, tt.files, "key="+tt.key)
			if (got == base) != tt.same {
				t.Errorf("hash equal to base = %v, want %v", got == base, tt.same)
			}
		})
	}
}

func TestJSONOmitsSecrets(t *testing.T) {
	cfg := loadFull(t)
	b, err := json.Marshal(cfg)
	if err != nil {
		t.Fatal(err)
	}
	for _, secret := range cfg.SensitiveValues() {
		if strings.Contains(string(b), secret) {
			t.Errorf("JSON holds the secret %q", secret)
		}
	}
	if !strings.Contains(string(b), `"Name":"SECRET_KEY","Sensitive":true`) || !strings.Contains(string(b), `"url":"http://127.0.0.1/api/health"`) {
		t.Errorf("JSON lacks expected fields: %s", b)
	}
	if strings.Contains(string(b), "DeclRange") || strings.Contains(string(b), "main.hcl") {
		t.Errorf("JSON holds source ranges: %s", b)
	}
}

func TestServiceHash(t *testing.T) {
	cfg := loadFull(t)
	a, b := cfg.Service("backend").Hash(), cfg.Service("frontend").Hash()
	if a == b || len(a) != 64 {
		t.Errorf("service hashes %q %q", a, b)
	}
}
