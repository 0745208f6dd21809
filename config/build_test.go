package config

import (
	"reflect"
	"strings"
	"testing"
)

// TestBuildAndPull decodes a service's build block and pull attribute,
// with their defaults.
func TestBuildAndPull(t *testing.T) {
	dir := writeConfig(t, map[string]string{"main.hcl": `
project "p" {}
variable "version" { default = "1.2" }
service "web" {
  image = "127.0.0.1:5000/i22/web:${var.version}"
  port  = 8080
  build {
    context = "app"
    args    = { VERSION = var.version }
    target  = "run"
  }
}
service "api" {
  image = "example/api:1"
  port  = 8080
  pull  = "always"
}
service "db" {
  image = "example/db:1"
  port  = 8080
}
`})
	cfg, diags := Load(dir, LoadOptions{Environ: []string{}})
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	b := cfg.Service("web").Build
	if b == nil || b.Context != "app" || b.Dockerfile != "Dockerfile" || b.Target != "run" || !reflect.DeepEqual(b.Args, map[string]string{"VERSION": "1.2"}) {
		t.Errorf("build = %+v", b)
	}
	if got := cfg.Service("api").Pull; got != "always" {
		t.Errorf("api pull = %q", got)
	}
	if got := cfg.Service("db"); got.Pull != "missing" || got.Build != nil {
		t.Errorf("db pull = %q, build %v", got.Pull, got.Build)
	}
}

// TestBuildBad refuses a sensitive build argument (it would reach the
// image's history), pull beside build, a Dockerfile outside the context
// and an unknown pull policy, without showing the secret.
func TestBuildBad(t *testing.T) {
	for name, tc := range map[string]struct{ src, summary string }{
		"sensitive arg": {`variable "tok" {
  sensitive = true
  default   = "s3cr3t-token"
}
service "web" {
  image = "web:1"
  port  = 80
  build {
    context = "."
    args    = { TOKEN = var.tok }
  }
}`, "Sensitive Value Not Allowed"},
		"pull with build": {`service "web" {
  image = "web:1"
  port  = 80
  pull  = "always"
  build { context = "." }
}`, "Pull With Build"},
		"dockerfile outside": {`service "web" {
  image = "web:1"
  port  = 80
  build {
    context    = "app"
    dockerfile = "../Dockerfile"
  }
}`, "Dockerfile Outside Context"},
		"pull policy": {`service "web" {
  image = "web:1"
  port  = 80
  pull  = "sometimes"
}`, "Unsupported Value"},
	} {
		dir := writeConfig(t, map[string]string{"main.hcl": "project \"p\" {}\n" + tc.src})
		_, diags := Load(dir, LoadOptions{Environ: []string{}})
		if len(diags) != 1 || diags[0].Summary != tc.summary {
			t.Errorf("%s: %v, want one %s", name, diags, tc.summary)
			continue
		}
		if strings.Contains(diags[0].Detail, "s3cr3t") {
			t.Errorf("%s: the diagnostic shows the secret: %s", name, diags[0].Detail)
		}
	}
}
