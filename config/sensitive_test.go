package config

import (
	"strings"
	"testing"
)

// secretText is the value of the sensitive variable in these tests.
const secretText = "Hunter-Secret-77"

// TestFunctionErrorsHideSensitiveValues: a function that fails on a
// sensitive value names the reference and what the function accepts, never
// the value (tonumber said: cannot convert "<the secret>" to number), in
// locals, in attributes and in validation conditions.
func TestFunctionErrorsHideSensitiveValues(t *testing.T) {
	dir := writeConfig(t, map[string]string{"main.hcl": `
project "p" {}
variable "s" {
  type      = string
  sensitive = true
  validation {
    condition     = tonumber(var.s) > 0
    error_message = "Must be a positive number."
  }
}
variable "plain" {
  default = "not-a-number"
}
locals {
  a     = tonumber(var.s)
  b     = parseint(var.s, 10)
  c     = tobool(var.s)
  d     = file(var.s)
  e     = base64decode(var.s)
  f     = jsondecode(var.s)
  g     = tonumber(upper(var.s))
  dsn   = "x-${var.s}"
  h     = tonumber(local.dsn)
  i     = { for k in [var.s, var.s] : k => 1 }
  plain = tonumber(var.plain)
}
service "web" {
  image = "web:1"
  port  = 8000
  env   = { N = tostring(tonumber(var.s)) }
}
`})
	cfg, diags := Load(dir, LoadOptions{Environ: []string{"SLIPWAY_VAR_s=" + secretText}})
	out := render(cfg, diags)
	all := out
	for _, d := range diags {
		all += "\n" + d.Summary + "\n" + d.Detail
	}
	if strings.Contains(strings.ToLower(all), strings.ToLower(secretText)) {
		t.Errorf("diagnostics show the sensitive value:\n%s", out)
	}
	for _, want := range []string{
		`Call to function "tonumber" failed on var.s, which is sensitive; the error is not shown because it would reveal the value. tonumber accepts a string holding a decimal number, such as "42".`,
		`Call to function "parseint" failed on var.s, which is sensitive`,
		`Call to function "tobool" failed on var.s, which is sensitive`,
		`Call to function "file" failed on var.s, which is sensitive`,
		`Call to function "base64decode" failed on var.s`,
		`Call to function "jsondecode" failed on var.s`,
		`Call to function "tonumber" failed on local.dsn, which is sensitive`,
		// A for expression's duplicate key quoted the key.
		`This expression uses k, which is sensitive; the details are not shown`,
		// A value that is not sensitive is still quoted.
		`cannot convert "not-a-number" to number`,
	} {
		if !strings.Contains(strings.Join(strings.Fields(out), " "), want) {
			t.Errorf("diagnostics lack %q:\n%s", want, out)
		}
	}
	// tonumber(upper(var.s)) is tonumber's failure, as are the condition's
	// and the env value's.
	if n := strings.Count(strings.Join(strings.Fields(out), " "), `Call to function "tonumber" failed on var.s`); n != 4 {
		t.Errorf("tonumber failed on var.s %d times, want 4:\n%s", n, out)
	}
	// Each failing call is still reported where it is.
	if n := strings.Count(out, "Error: "); n < 12 {
		t.Errorf("%d errors, want at least 12:\n%s", n, out)
	}
}

// TestSensitiveEnvNameRefused: an env name derived from a sensitive value
// would be shown in plan -json and kept in the plan file; validate refuses
// it, and a whole sensitive map, while sensitive values stay allowed.
func TestSensitiveEnvNameRefused(t *testing.T) {
	for name, env := range map[string]string{
		"key is the secret":     `{ (var.s) = "x" }`,
		"key holds the secret":  `{ "${var.s}_NAME" = "x", PLAIN = "y" }`,
		"whole map is a secret": `var.m`,
		"sensitive() map":       `sensitive({ A = "x" })`,
	} {
		t.Run(name, func(t *testing.T) {
			dir := writeConfig(t, map[string]string{"main.hcl": `
project "p" {}
variable "s" {
  sensitive = true
}
variable "m" {
  type      = map(string)
  default   = { A = "x" }
  sensitive = true
}
service "web" {
  image = "web:1"
  port  = 8000
  env   = ` + env + `
}
`})
			cfg, diags := Load(dir, LoadOptions{Environ: []string{"SLIPWAY_VAR_s=" + secretText}})
			if len(diags) != 1 || diags[0].Summary != "Sensitive Environment Name" || diags[0].Subject == nil || diags[0].Subject.Start.Line != 14 {
				t.Fatalf("diags = %s", render(cfg, diags))
			}
			if strings.Contains(render(cfg, diags), secretText) {
				t.Errorf("the diagnostic shows the secret: %s", render(cfg, diags))
			}
		})
	}
	for name, env := range map[string]string{
		"sensitive value":     `{ TOKEN = var.s, PLAIN = "x" }`,
		"merge keeps per key": `merge({ TOKEN = var.s }, { PLAIN = "x" })`,
		"element of the map":  `{ A = var.m["A"] }`,
	} {
		t.Run(name, func(t *testing.T) {
			dir := writeConfig(t, map[string]string{"main.hcl": `
project "p" {}
variable "s" {
  sensitive = true
}
variable "m" {
  type      = map(string)
  default   = { A = "x" }
  sensitive = true
}
service "web" {
  image = "web:1"
  port  = 8000
  env   = ` + env + `
}
`})
			cfg, diags := Load(dir, LoadOptions{Environ: []string{"SLIPWAY_VAR_s=" + secretText}})
			if len(diags) > 0 {
				t.Fatal(render(cfg, diags))
			}
			for _, e := range cfg.Service("web").Env {
				if e.Sensitive != (e.Name != "PLAIN") {
					t.Errorf("%s sensitive = %v", e.Name, e.Sensitive)
				}
			}
		})
	}
}

// TestDecodeErrorsHideSensitiveValues: the decoder's own errors quote the
// value they refuse ("\"<the secret>\" is not" a duration); about a
// sensitive value they name its references instead. An error that does
// not quote the value keeps its text.
func TestDecodeErrorsHideSensitiveValues(t *testing.T) {
	dir := writeConfig(t, map[string]string{"main.hcl": `
project "p" {}
variable "s" {
  sensitive = true
}
locals {
  wrapped = "x${var.s}"
}
service "web" {
  image = "web:1"
  port  = var.s
  health {
    interval = local.wrapped
  }
}
`})
	cfg, diags := Load(dir, LoadOptions{Environ: []string{"SLIPWAY_VAR_s=" + secretText}})
	out := render(cfg, diags)
	if strings.Contains(out, secretText) {
		t.Errorf("diagnostics show the sensitive value:\n%s", out)
	}
	flat := strings.Join(strings.Fields(out), " ")
	for _, want := range []string{
		"Error: Invalid Duration",
		"The value here comes from local.wrapped, which is sensitive, and is not valid; the details are not shown because they would reveal it.",
		"Error: Incorrect Attribute Value Type",
		`Inappropriate value for argument "port": a number is required`,
	} {
		if !strings.Contains(flat, want) {
			t.Errorf("diagnostics lack %q:\n%s", want, out)
		}
	}
}
