package checks

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/slipwayhq/slipway/config"
)

// TestDiagnosticsHideSensitiveValues: a check attribute refused by its kind
// quotes the value ("not \"<the secret>\""); when the value is sensitive,
// the error says so and withholds it.
func TestDiagnosticsHideSensitiveValues(t *testing.T) {
	dir := t.TempDir()
	src := `project "p" {}
variable "s" {
  sensitive = true
}
check "smoke" {
  command {
    argv    = ["true"]
    timeout = var.s
  }
}
check "plain" {
  command {
    argv    = ["true"]
    timeout = "soon"
  }
}
`
	if err := os.WriteFile(filepath.Join(dir, "main.hcl"), []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg, diags := config.Load(dir, config.LoadOptions{Environ: []string{"SLIPWAY_VAR_s=Top-Secret-7"}})
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	got := Diagnostics(cfg)
	if len(got) != 2 {
		t.Fatalf("diags = %v", got)
	}
	if d := got[0].Detail; strings.Contains(d, "Top-Secret") || !strings.Contains(d, `Check "smoke" (command): an attribute derived from a sensitive value is invalid`) {
		t.Errorf("smoke: %s", d)
	}
	if d := got[1].Detail; !strings.Contains(d, `not "soon"`) {
		t.Errorf("plain: %s", d)
	}
}
