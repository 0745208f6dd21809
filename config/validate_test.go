package config

import (
	"strings"
	"testing"
)

// TestEnvNameAsNginxTakesIt proves -env names follow the rule the nginx
// renderer and Docker's container names apply (they became part of both),
// not only "no path separator".
func TestEnvNameAsNginxTakesIt(t *testing.T) {
	dir := writeConfig(t, map[string]string{"main.hcl": "project \"p\" {}\n"})
	for _, env := range []string{"a b", "a;b", "-prod", "../prod", "prod\n"} {
		_, diags := Load(dir, LoadOptions{Env: env, Environ: []string{}})
		if len(diags) != 1 || diags[0].Summary != "Invalid Environment Name" || !strings.Contains(diags[0].Detail, "use letters, digits") {
			t.Errorf("-env %q: %v, want one Invalid Environment Name", env, diags)
		}
	}
	for _, env := range []string{"prod", "eu-west.1", "staging_2"} {
		if _, diags := Load(dir, LoadOptions{Env: env, Environ: []string{}}); len(diags) > 0 {
			t.Errorf("-env %q: %v", env, diags)
		}
	}
}

// TestSensitiveValuesStayHidden proves a rule broken by a value from a
// sensitive variable names the attribute and the variable, never the value.
func TestSensitiveValuesStayHidden(t *testing.T) {
	dir := writeConfig(t, map[string]string{"main.hcl": `
project "p" {}
variable "hook" {
  sensitive = true
  default   = "ftp://user:s3cr3t-pw@hooks.example.com/x"
}
notify "n" { webhook = var.hook }
`})
	cfg, diags := Load(dir, LoadOptions{Environ: []string{}})
	if len(diags) != 1 || diags[0].Summary != "Invalid Webhook URL" {
		t.Fatalf("diags = %v", diags)
	}
	if out := render(cfg, diags); strings.Contains(diags[0].Detail, "s3cr3t") || !strings.Contains(diags[0].Detail, "var.hook") {
		t.Errorf("detail %q shows the secret or does not name var.hook:\n%s", diags[0].Detail, out)
	}
}
