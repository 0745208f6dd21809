package config

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
)

func TestVariablePrecedence(t *testing.T) {
	const decl = "project \"p\" {}\nvariable \"v\" {\n  default = \"default\"\n}\n"
	tests := []struct {
		name    string
		files   map[string]string // besides main.hcl
		environ []string
		opts    LoadOptions // Environ comes from environ
		want    string
	}{
		{name: "default", want: "default"},
		{name: "environment", environ: []string{"SLIPWAY_VAR_v=env"}, want: "env"},
		{name: "last environment entry", environ: []string{"SLIPWAY_VAR_v=env1", "SLIPWAY_VAR_v=env2"}, want: "env2"},
		{name: "auto file over environment", environ: []string{"SLIPWAY_VAR_v=env"},
			files: map[string]string{"a.auto.vars.hcl": `v = "auto-a"`}, want: "auto-a"},
		{name: "auto files sorted", files: map[string]string{"b.auto.vars.hcl": `v = "auto-b"`, "a.auto.vars.hcl": `v = "auto-a"`}, want: "auto-b"},
		{name: "env file over auto", files: map[string]string{"a.auto.vars.hcl": `v = "auto"`, "prod.vars.hcl": `v = "prod"`},
			opts: LoadOptions{Env: "prod"}, want: "prod"},
		{name: "env file only with -env", files: map[string]string{"prod.vars.hcl": `v = "prod"`}, want: "default"},
		{name: "missing env file is fine", opts: LoadOptions{Env: "staging"}, want: "default"},
		{name: "var-file over env file", files: map[string]string{"prod.vars.hcl": `v = "prod"`, "x.vars": `v = "file"`},
			opts: LoadOptions{Env: "prod", VarFiles: []string{"x.vars"}}, want: "file"},
		{name: "var-files in order", files: map[string]string{"x.vars": `v = "x"`, "y.vars": `v = "y"`},
			opts: LoadOptions{VarFiles: []string{"y.vars", "x.vars"}}, want: "x"},
		{name: "-var over var-file", files: map[string]string{"x.vars": `v = "file"`},
			opts: LoadOptions{VarFiles: []string{"x.vars"}, Vars: []string{"v=cli"}}, want: "cli"},
		{name: "last -var wins", opts: LoadOptions{Vars: []string{"v=one", "v=two"}}, want: "two"},
		{name: "-var value with =", opts: LoadOptions{Vars: []string{"v=a=b"}}, want: "a=b"},
		{name: "var-file using env()", environ: []string{"FROM_ENV=e"}, files: map[string]string{"x.vars": `v = "${env("FROM_ENV")}!"`},
			opts: LoadOptions{VarFiles: []string{"x.vars"}}, want: "e!"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			files := map[string]string{"main.hcl": decl}
			for k, v := range tt.files {
				files[k] = v
			}
			dir := writeConfig(t, files)
			opts := tt.opts
			opts.Environ = append([]string{}, tt.environ...)
			for i, f := range opts.VarFiles {
				opts.VarFiles[i] = filepath.Join(dir, f)
			}
			cfg, diags := Load(dir, opts)
			if len(diags) > 0 {
				t.Fatal(render(cfg, diags))
			}
			if got := cfg.Values["v"]; got != cty.StringVal(tt.want) {
				t.Errorf("v = %#v, want %q", got, tt.want)
			}
		})
	}
}

func TestVariableTypes(t *testing.T) {
	dir := writeConfig(t, map[string]string{"main.hcl": `
project "p" {}
variable "n" { type = number }
variable "b" { type = bool }
variable "l" { type = list(string) }
variable "m" { type = map(number) }
variable "s" { type = string }
variable "a" {}
`})
	cfg, diags := Load(dir, LoadOptions{
		Vars:    []string{"n=3", "b=true", `l=["x", "y"]`, `m={ a = 1 }`, `s=[not parsed]`},
		Environ: []string{"SLIPWAY_VAR_a=from env"},
	})
	if len(diags) > 0 {
		t.Fatal(render(cfg, diags))
	}
	want := map[string]cty.Value{
		"n": cty.NumberIntVal(3),
		"b": cty.True,
		"l": cty.ListVal([]cty.Value{cty.StringVal("x"), cty.StringVal("y")}),
		"m": cty.MapVal(map[string]cty.Value{"a": cty.NumberIntVal(1)}),
		"s": cty.StringVal("[not parsed]"),
		"a": cty.StringVal("from env"),
	}
	for name, w := range want {
		if got := cfg.Values[name]; !got.RawEquals(w) {
			t.Errorf("%s = %#v, want %#v", name, got, w)
		}
	}
}

func TestVariableErrors(t *testing.T) {
	const decl = "project \"p\" {}\nvariable \"n\" {\n  type = number\n  default = 1\n}\n"
	tests := []struct {
		name     string
		files    map[string]string
		opts     LoadOptions
		severity hcl.DiagnosticSeverity
		summary  string
		detail   string // substring
	}{
		{name: "undeclared -var", opts: LoadOptions{Vars: []string{"nope=1"}},
			severity: hcl.DiagError, summary: "Undeclared Variable", detail: `"nope"`},
		{name: "malformed -var", opts: LoadOptions{Vars: []string{"n"}},
			severity: hcl.DiagError, summary: "Invalid -var Option", detail: `"n"`},
		{name: "wrong -var type", opts: LoadOptions{Vars: []string{"n=lots"}},
			severity: hcl.DiagError, summary: "Invalid Value For Variable", detail: "-var n"},
		{name: "undeclared in var-file", files: map[string]string{"x.vars": "nope = 1\n"}, opts: LoadOptions{VarFiles: []string{"x.vars"}},
			severity: hcl.DiagWarning, summary: "Value For Undeclared Variable", detail: `"nope"`},
		{name: "undeclared in environment", opts: LoadOptions{Environ: []string{"SLIPWAY_VAR_nope=1"}},
			severity: hcl.DiagWarning, summary: "Value For Undeclared Variable", detail: "SLIPWAY_VAR_nope"},
		{name: "wrong type in var-file", files: map[string]string{"x.vars": "n = \"lots\"\n"}, opts: LoadOptions{VarFiles: []string{"x.vars"}},
			severity: hcl.DiagError, summary: "Invalid Value For Variable", detail: "number"},
		{name: "missing var-file", opts: LoadOptions{VarFiles: []string{"absent.vars"}},
			severity: hcl.DiagError, summary: "Failed to read file", detail: "absent.vars"},
		{name: "bad env name", opts: LoadOptions{Env: "../prod"},
			severity: hcl.DiagError, summary: "Invalid Environment Name", detail: "../prod"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			files := map[string]string{"main.hcl": decl}
			for k, v := range tt.files {
				files[k] = v
			}
			dir := writeConfig(t, files)
			opts := tt.opts
			if opts.Environ == nil {
				opts.Environ = []string{}
			}
			for i, f := range opts.VarFiles {
				opts.VarFiles[i] = filepath.Join(dir, f)
			}
			_, diags := Load(dir, opts)
			if len(diags) != 1 {
				t.Fatalf("got %d diagnostics, want 1: %v", len(diags), diags)
			}
			d := diags[0]
			if d.Severity != tt.severity || d.Summary != tt.summary || !strings.Contains(d.Detail, tt.detail) {
				t.Errorf("got %v %q %q; want %v %q containing %q", d.Severity, d.Summary, d.Detail, tt.severity, tt.summary, tt.detail)
			}
		})
	}
}

func TestVarFileSubjectAndFiles(t *testing.T) {
	dir := writeConfig(t, map[string]string{
		"main.hcl":        "project \"p\" {}\nvariable \"n\" { type = number }\n",
		"a.auto.vars.hcl": "\n\nn = \"x\"\n",
	})
	cfg, diags := Load(dir, LoadOptions{Environ: []string{}})
	if len(diags) != 1 || diags[0].Subject == nil || diags[0].Subject.Start.Line != 3 || filepath.Base(diags[0].Subject.Filename) != "a.auto.vars.hcl" {
		t.Fatalf("diags = %v", diags)
	}
	if _, ok := cfg.Files[filepath.Join(dir, "a.auto.vars.hcl")]; !ok {
		t.Errorf("Files lacks the vars file: %v", cfg.Files)
	}
}

func TestSensitiveFlow(t *testing.T) {
	dir := writeConfig(t, map[string]string{"main.hcl": `
project "p" {}
variable "password" {
  sensitive = true
}
variable "user" {
  default = "app"
}
locals {
  dsn      = format("postgres://%s:%s@db/app", var.user, var.password)
  upper    = upper(local.dsn)
  user_env = "USER=${var.user}"
  joined   = join(",", [var.user, var.password])
}
service "web" {
  image = "web:1"
  port  = 8000
  env = merge({ DSN = local.dsn, USER = var.user }, { LOUD = local.upper })
}
service "api" {
  image = "api:1"
  port  = 8001
  env = {
    DSN    = local.dsn
    USER   = local.user_env
    JOINED = local.joined
  }
}
check "db" {
  postgres {
    url     = local.dsn
    timeout = "5s"
  }
}
`})
	cfg, diags := Load(dir, LoadOptions{Environ: []string{"SLIPWAY_VAR_password=hunter2"}})
	if len(diags) > 0 {
		t.Fatal(render(cfg, diags))
	}
	if !cfg.Locals["dsn"].HasMark(SensitiveMark) || !cfg.Locals["upper"].HasMark(SensitiveMark) || cfg.Locals["user_env"].IsMarked() {
		t.Errorf("locals marks: dsn %v upper %v user_env %v", cfg.Locals["dsn"].IsMarked(), cfg.Locals["upper"].IsMarked(), cfg.Locals["user_env"].IsMarked())
	}
	sens := func(env []EnvVar) map[string]bool {
		m := map[string]bool{}
		for _, e := range env {
			m[e.Name] = e.Sensitive
		}
		return m
	}
	// merge() keeps marks per key.
	if got := sens(cfg.Service("web").Env); !got["DSN"] || got["USER"] || !got["LOUD"] {
		t.Errorf("web env sensitivity = %v", got)
	}
	// An object constructor keeps marks per key.
	if got := sens(cfg.Service("api").Env); !got["DSN"] || got["USER"] || !got["JOINED"] {
		t.Errorf("api env sensitivity = %v", got)
	}
	if v := cfg.Service("api").Env[0]; v.Name != "DSN" || v.Value != "postgres://app:hunter2@db/app" {
		t.Errorf("api env[0] = %+v", v)
	}
	if !cfg.Check("db").Attrs["url"].HasMark(SensitiveMark) || cfg.Check("db").Attrs["timeout"].IsMarked() {
		t.Errorf("check attrs marks lost")
	}
	got := strings.Join(cfg.SensitiveValues(), "|")
	for _, want := range []string{"hunter2", "postgres://app:hunter2@db/app", "POSTGRES://APP:HUNTER2@DB/APP", "app,hunter2"} {
		if !strings.Contains("|"+got+"|", "|"+want+"|") {
			t.Errorf("SensitiveValues() = %q, lacks %q", got, want)
		}
	}
	if strings.Contains("|"+got+"|", "|app|") || strings.Contains(got, "USER=app") {
		t.Errorf("SensitiveValues() = %q holds a non-sensitive value", got)
	}
	if vals := cfg.SensitiveValues(); len(vals[0]) < len(vals[len(vals)-1]) {
		t.Errorf("SensitiveValues() not longest first: %q", vals)
	}
}

func TestSensitiveRefused(t *testing.T) {
	dir := writeConfig(t, map[string]string{"main.hcl": `
project "p" {}
variable "s" {
  default   = "secret-x"
  sensitive = true
}
service "web" {
  image   = "web:1"
  port    = 8000
  command = ["run", var.s]
  route { server_name = "${var.s}.example.com" }
}
nginx {}
`})
	_, diags := Load(dir, LoadOptions{Environ: []string{}})
	var got []string
	for _, d := range diags {
		got = append(got, d.Summary)
	}
	if strings.Join(got, ",") != "Sensitive Value Not Allowed,Sensitive Value Not Allowed" {
		t.Errorf("diags = %v", diags)
	}
}

func TestPostgresAndWebhookAlwaysSensitive(t *testing.T) {
	dir := writeConfig(t, map[string]string{"main.hcl": `
project "p" {}
postgres "db" { url = "postgres://plain" }
notify "n" { webhook = "https://plain" }
`})
	cfg, diags := Load(dir, LoadOptions{Environ: []string{}})
	if len(diags) > 0 {
		t.Fatal(render(cfg, diags))
	}
	if !cfg.Postgres[0].URL.Sensitive || !cfg.Notifies[0].Webhook.Sensitive {
		t.Errorf("url %+v webhook %+v", cfg.Postgres[0].URL, cfg.Notifies[0].Webhook)
	}
	if got := strings.Join(cfg.SensitiveValues(), ","); got != "postgres://plain,https://plain" {
		t.Errorf("SensitiveValues() = %q", got)
	}
}

func TestEnvironDefaultsToProcess(t *testing.T) {
	t.Setenv("SLIPWAY_VAR_v", "from process")
	dir := writeConfig(t, map[string]string{"main.hcl": "project \"p\" {}\nvariable \"v\" {}\n"})
	cfg, diags := Load(dir, LoadOptions{})
	if len(diags) > 0 {
		t.Fatal(render(cfg, diags))
	}
	if cfg.Values["v"] != cty.StringVal("from process") {
		t.Errorf("v = %#v", cfg.Values["v"])
	}
}

// TestRawValueErrors: a value given as text says what type was expected
// and what it got (never "Variables not allowed"), and never quotes a
// sensitive variable's value.
func TestRawValueErrors(t *testing.T) {
	dir := writeConfig(t, map[string]string{"main.hcl": `
project "p" {}
variable "n" { type = number }
variable "b" { type = bool }
variable "l" { type = list(string) }
variable "secret_n" {
  type      = number
  sensitive = true
}
`})
	tests := []struct {
		name   string
		opts   LoadOptions
		detail string
	}{
		{"number", LoadOptions{Vars: []string{"n=abc", "b=true", `l=["x"]`, "secret_n=1"}},
			`The -var n does not hold a valid value for variable "n": a number is required, got "abc".`},
		{"bool", LoadOptions{Vars: []string{"n=1", "b=yes", `l=["x"]`, "secret_n=1"}},
			`The -var b does not hold a valid value for variable "b": a bool is required, got "yes".`},
		{"list", LoadOptions{Vars: []string{"n=1", "b=true", "l=abc", "secret_n=1"}},
			`The -var l does not hold a valid value for variable "l": a list(string) value is required, written in HCL syntax such as ["a", "b"], got "abc".`},
		{"environment", LoadOptions{Vars: []string{"b=true", `l=["x"]`, "secret_n=1"}, Environ: []string{"SLIPWAY_VAR_n=1O"}},
			`The environment variable SLIPWAY_VAR_n does not hold a valid value for variable "n": a number is required, got "1O".`},
		{"sensitive", LoadOptions{Vars: []string{"n=1", "b=true", `l=["x"]`, "secret_n=Top-Secret-7"}},
			`The -var secret_n does not hold a valid value for variable "secret_n": a number is required.`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opts := tt.opts
			if opts.Environ == nil {
				opts.Environ = []string{}
			}
			_, diags := Load(dir, opts)
			if len(diags) != 1 || diags[0].Summary != "Invalid Value For Variable" || diags[0].Detail != tt.detail {
				t.Fatalf("diags = %v\nwant detail %s", diags, tt.detail)
			}
		})
	}
}

// TestEmptyValue: an empty string is a value only for a variable whose
// default is "" or null; for any other (required, or with a real default)
// an empty -var, SLIPWAY_VAR_ or value-file entry is refused with the
// variable's name, where it would reach Docker as "invalid reference
// format".
func TestEmptyValue(t *testing.T) {
	dir := writeConfig(t, map[string]string{
		"main.hcl": `
project "p" {}
variable "version" { type = string }
variable "tag" { default = "1" }
variable "suffix" { default = "" }
variable "note" {
  type    = string
  default = null
}
`,
		"x.vars": "version = \"\"\n",
	})
	refused := []struct {
		name  string
		opts  LoadOptions
		where string
	}{
		{"-var required", LoadOptions{Vars: []string{"version="}}, `The -var version gives variable "version" an empty value.`},
		{"-var with a default", LoadOptions{Vars: []string{"version=1", "tag="}}, `The -var tag gives variable "tag" an empty value.`},
		{"environment", LoadOptions{Environ: []string{"SLIPWAY_VAR_version="}}, `The environment variable SLIPWAY_VAR_version gives variable "version" an empty value.`},
		{"value file", LoadOptions{VarFiles: []string{filepath.Join(dir, "x.vars")}}, `gives variable "version" an empty value.`},
	}
	for _, tt := range refused {
		t.Run(tt.name, func(t *testing.T) {
			opts := tt.opts
			if opts.Environ == nil {
				opts.Environ = []string{}
			}
			_, diags := Load(dir, opts)
			if len(diags) != 1 || diags[0].Summary != "Empty Value For Variable" || !strings.Contains(diags[0].Detail, tt.where) ||
				!strings.Contains(diags[0].Detail, `declare default = ""`) {
				t.Fatalf("diags = %v", diags)
			}
		})
	}
	cfg, diags := Load(dir, LoadOptions{Vars: []string{"version=1", "suffix=", "note="}, Environ: []string{}})
	if len(diags) > 0 {
		t.Fatal(render(cfg, diags))
	}
	if cfg.Values["suffix"] != cty.StringVal("") || cfg.Values["note"] != cty.StringVal("") {
		t.Errorf("suffix %#v note %#v", cfg.Values["suffix"], cfg.Values["note"])
	}
}

// TestReferenceSuggestions: a misspelt var.<name> or local.<name> says
// which name is undeclared and suggests the declared one, as a misspelt
// argument does.
func TestReferenceSuggestions(t *testing.T) {
	dir := writeConfig(t, map[string]string{"main.hcl": `
project "p" {}
variable "version" { default = "1" }
locals {
  tag = "x"
}
service "web" {
  image = "web:${var.verison}"
  port  = 8000
  env = {
    A = local.tg
    B = var.nothing_like_it
  }
}
`})
	_, diags := Load(dir, LoadOptions{Environ: []string{}})
	var got []string
	for _, d := range diags {
		got = append(got, fmt.Sprintf("%s @ %d: %s", d.Summary, d.Subject.Start.Line, d.Detail))
	}
	want := []string{
		`Reference To Undeclared Variable @ 8: No variable named "verison" is declared. Did you mean "version"?`,
		`Reference To Undeclared Local @ 11: No local named "tg" is declared. Did you mean "tag"?`,
		`Reference To Undeclared Variable @ 12: No variable named "nothing_like_it" is declared. Declare it in a variable "nothing_like_it" {} block.`,
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("got\n  %s\nwant\n  %s", strings.Join(got, "\n  "), strings.Join(want, "\n  "))
	}
}

// TestValueFileSecretHidden: a diagnostic about a value file that sets a
// sensitive variable keeps its file and line but hides its source lines,
// and an error evaluating the sensitive value does not quote it.
func TestValueFileSecretHidden(t *testing.T) {
	dir := writeConfig(t, map[string]string{
		"main.hcl": `
project "p" {}
variable "n" { type = number }
variable "s" {
  type      = number
  sensitive = true
}
`,
		"secret.vars": "n = 1\ns = \"Top-Secret-7\"\n",
		"eval.vars":   "n = 1\ns = tonumber(\"Top-Secret-7\")\n",
		"broken.vars": "s = \"Top-Secret-7\n",
		"plain.vars":  "n = \"abc\"\ns = 1\n",
		"other.vars":  "n = \"abc\"\n",
	})
	load := func(file string) hcl.Diagnostics {
		_, diags := Load(dir, LoadOptions{VarFiles: []string{filepath.Join(dir, file)}, Environ: []string{"SLIPWAY_VAR_s=1", "SLIPWAY_VAR_n=1"}})
		if len(diags) == 0 {
			t.Fatalf("%s: no diagnostics", file)
		}
		return diags
	}
	for _, file := range []string{"secret.vars", "eval.vars", "broken.vars", "plain.vars"} {
		for _, d := range load(file) {
			if !HidesSource(d) || d.Subject == nil || filepath.Base(d.Subject.Filename) != file {
				t.Errorf("%s: %s at %v does not hide its source", file, d.Summary, d.Subject)
			}
			if strings.Contains(d.Detail, "Top-Secret") {
				t.Errorf("%s: detail shows the secret: %s", file, d.Detail)
			}
		}
	}
	// A file that sets no sensitive variable shows its lines.
	for _, d := range load("other.vars") {
		if HidesSource(d) {
			t.Errorf("other.vars: %s hides its source", d.Summary)
		}
	}
}

// TestShortSensitiveValueWarns: a sensitive value too short to be masked
// in free text is accepted with a warning saying so.
func TestShortSensitiveValueWarns(t *testing.T) {
	dir := writeConfig(t, map[string]string{"main.hcl": "project \"p\" {}\nvariable \"s\" {\n  sensitive = true\n}\n"})
	_, diags := Load(dir, LoadOptions{Environ: []string{"SLIPWAY_VAR_s=e"}})
	if len(diags) != 1 || diags[0].Severity != hcl.DiagWarning || diags[0].Summary != "Short Sensitive Value" || diags[0].Subject.Start.Line != 2 {
		t.Fatalf("diags = %v", diags)
	}
	if _, diags := Load(dir, LoadOptions{Environ: []string{"SLIPWAY_VAR_s=long-enough"}}); len(diags) > 0 {
		t.Errorf("a long value warns: %v", diags)
	}
}
