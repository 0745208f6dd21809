package config

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/zclconf/go-cty/cty"
)

func TestFunctions(t *testing.T) {
	tests := []struct {
		expr string
		want cty.Value
	}{
		{`env("HOME_DIR")`, cty.StringVal("/home/app")},
		{`env("UNSET")`, cty.StringVal("")},
		{`env("DUP")`, cty.StringVal("second")},
		{`file("hello.txt")`, cty.StringVal("hello\n")},
		{`trimspace(file("${local.dir}/hello.txt"))`, cty.StringVal("hello")},
		{`length("héllo")`, cty.NumberIntVal(5)},
		{`length([1, 2])`, cty.NumberIntVal(2)},
		{`length({ a = 1 })`, cty.NumberIntVal(1)},
		{`upper(lower("MiX"))`, cty.StringVal("MIX")},
		{`format("%s-%d", "a", 1)`, cty.StringVal("a-1")},
		{`join(",", split(":", "a:b"))`, cty.StringVal("a,b")},
		{`replace("a.b.c", ".", "/")`, cty.StringVal("a/b/c")},
		{`lookup({ a = "x" }, "b", "dflt")`, cty.StringVal("dflt")},
		{`base64decode(base64encode("hi"))`, cty.StringVal("hi")},
		{`base64encode("hi")`, cty.StringVal("aGk=")},
		{`startswith("slipway", "slip")`, cty.True},
		{`endswith("slipway", "slip")`, cty.False},
		{`tonumber("42")`, cty.NumberIntVal(42)},
		{`tostring(42)`, cty.StringVal("42")},
		{`coalesce("", "b")`, cty.StringVal("b")},
		{`coalesce(null, 2)`, cty.NumberIntVal(2)},
		{`try(tonumber("x"), 7)`, cty.NumberIntVal(7)},
		{`jsonencode({ a = 1 })`, cty.StringVal(`{"a":1}`)},
		{`max(1, 5, 3)`, cty.NumberIntVal(5)},
		{`element(reverse(["a", "b"]), 0)`, cty.StringVal("b")},
		{`title("hello world")`, cty.StringVal("Hello World")},
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "hello.txt"), []byte("hello\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tt := range tests {
		t.Run(tt.expr, func(t *testing.T) {
			src := "project \"p\" {}\nlocals {\n  dir = \"" + dir + "\"\n  x = " + tt.expr + "\n}\n"
			if err := os.WriteFile(filepath.Join(dir, "main.hcl"), []byte(src), 0o644); err != nil {
				t.Fatal(err)
			}
			cfg, diags := Load(dir, LoadOptions{Environ: []string{"HOME_DIR=/home/app", "DUP=first", "DUP=second"}})
			if len(diags) > 0 {
				t.Fatal(render(cfg, diags))
			}
			if got := cfg.Locals["x"]; !got.RawEquals(tt.want) && !(got.Type() == cty.Number && got.Equals(tt.want).True()) {
				t.Errorf("%s = %#v, want %#v", tt.expr, got, tt.want)
			}
		})
	}
}

func TestFunctionErrors(t *testing.T) {
	for _, expr := range []string{`file("absent.txt")`, `length(1)`, `base64decode("!!")`, `nosuchfunc(1)`} {
		t.Run(expr, func(t *testing.T) {
			dir := writeConfig(t, map[string]string{"main.hcl": "project \"p\" {}\nlocals {\n  x = " + expr + "\n}\n"})
			_, diags := Load(dir, LoadOptions{Environ: []string{}})
			if !diags.HasErrors() || diags[0].Subject == nil || diags[0].Subject.Start.Line != 3 {
				t.Errorf("diags = %v", diags)
			}
		})
	}
}

func TestSensitiveFunction(t *testing.T) {
	dir := writeConfig(t, map[string]string{"main.hcl": `
project "p" {}
locals { token = sensitive("t0ken") }
service "web" {
  image = "web:1"
  port  = 80
  env   = { TOKEN = local.token }
}
`})
	cfg, diags := Load(dir, LoadOptions{Environ: []string{}})
	if len(diags) > 0 {
		t.Fatal(render(cfg, diags))
	}
	if e := cfg.Services[0].Env[0]; !e.Sensitive || e.Value != "t0ken" {
		t.Errorf("env = %+v", e)
	}
}
