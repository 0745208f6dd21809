package config

import (
	"os"
	"path/filepath"
	"testing"
)

// FuzzLoad writes the fuzzed bytes as main.hcl and loads it: Load must never
// panic, and must always return a Config with its Files.
func FuzzLoad(f *testing.F) {
	seeds, _ := filepath.Glob("testdata/full/*.hcl")
	for _, p := range seeds {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte(`project "p" {}` + "\nvariable \"s\" {\n  sensitive = true\n  default = \"x\"\n}\nlocals { a = local.b\n b = local.a }\n"))
	f.Add([]byte("project \"p\" {}\nservice \"w\" {\n  image = \"i\"\n  port = 1\n  canary { steps = [1, {percent = 2, pause = \"1s\"}, 100] }\n  env = { A = null }\n}\n"))
	f.Add([]byte("project \"p\" {}\ncheck \"c\" { http { url = [for x in range(3): x] } }\nanalysis \"a\" { error_rate { fail = 5 } }\n"))
	f.Fuzz(func(t *testing.T, src []byte) {
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, "main.hcl"), src, 0o644); err != nil {
			t.Fatal(err)
		}
		cfg, diags := Load(dir, LoadOptions{Environ: []string{}, Vars: []string{}})
		if cfg == nil || cfg.Files == nil {
			t.Fatalf("Load returned no Config or Files (diags %v)", diags)
		}
		if !diags.HasErrors() {
			_ = cfg.Hash()
			_ = cfg.SensitiveValues()
		}
	})
}
