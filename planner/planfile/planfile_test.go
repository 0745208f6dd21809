package planfile

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/slipwayhq/slipway/config"
	"github.com/slipwayhq/slipway/planner/plan"
	"github.com/slipwayhq/slipway/providers"
	"github.com/zclconf/go-cty/cty"
)

func testPlan() *plan.Plan {
	return &plan.Plan{Project: "p", Release: 2, Steps: []*plan.Step{{
		ID: "service.web.start.1", Kind: plan.KindStart, Action: plan.Create,
		Containers: []providers.ContainerSpec{{Name: "p-web-r2-1", Service: "web", Vars: []providers.EnvVar{
			{Name: "PLAIN", Value: "visible"}, {Name: "SECRET", Value: "s3cr3t-value", Sensitive: true}}}},
		Compensation: &plan.Step{Kind: plan.KindRemove, Names: []string{"p-web-r2-1"}},
	}}}
}

func TestSaveLeavesOutSecretsAndFillRestoresThem(t *testing.T) {
	p := testPlan()
	path := filepath.Join(t.TempDir(), "plan.json")
	if err := Save(path, p); err != nil {
		t.Fatal(err)
	}
	raw, _ := os.ReadFile(path)
	if bytes.Contains(raw, []byte("s3cr3t-value")) {
		t.Fatalf("plan file holds the secret:\n%s", raw)
	}
	if fi, _ := os.Stat(path); fi.Mode().Perm() != 0o600 {
		t.Fatalf("mode %v, want 0600", fi.Mode().Perm())
	}
	if p.Steps[0].Containers[0].Vars[1].Value != "s3cr3t-value" {
		t.Fatal("Save changed the plan in memory")
	}
	got, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if v := got.Steps[0].Containers[0].Vars; v[0].Value != "visible" || v[1].Value != "" {
		t.Fatalf("loaded vars %+v", v)
	}
	Fill(got, &config.Config{Services: []*config.Service{{Name: "web", Env: []config.EnvVar{{Name: "SECRET", Value: "web/SECRET", Sensitive: true}}}}})
	if v := got.Steps[0].Containers[0].Vars[1].Value; v != "web/SECRET" {
		t.Fatalf("filled %q", v)
	}
	if got.Steps[0].Kind != plan.KindStart || got.Steps[0].Compensation.Kind != plan.KindRemove {
		t.Fatalf("kinds lost: %+v", got.Steps[0])
	}
}

// TestVariablesRoundTrip checks that a saved plan keeps its variables'
// HMACs, which apply compares to name the variables that changed.
func TestVariablesRoundTrip(t *testing.T) {
	p := testPlan()
	p.Variables = map[string]string{"version": "hmac-of-v2", "token": "hmac-of-token"}
	path := filepath.Join(t.TempDir(), "plan.json")
	if err := Save(path, p); err != nil {
		t.Fatal(err)
	}
	got, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Variables) != 2 || got.Variables["version"] != "hmac-of-v2" || got.Variables["token"] != "hmac-of-token" {
		t.Fatalf("loaded variables %v", got.Variables)
	}
}

func TestReadRejectsOtherFiles(t *testing.T) {
	for _, in := range []string{"", "{}", `{"format_version":2,"kind":"x","plan":{}}`, `{"format_version":9,"kind":"slipway-plan","plan":{}}`, "not json"} {
		if _, err := Read(strings.NewReader(in)); err == nil {
			t.Errorf("Read(%q) succeeded", in)
		}
	}
}

// TestReadRefusesVersion1: a plan file of the first format lacks the
// checks and analyses it runs; it is refused with what to do.
func TestReadRefusesVersion1(t *testing.T) {
	_, err := Read(strings.NewReader(`{"format_version":1,"kind":"slipway-plan","plan":{"Project":"p"}}`))
	if err == nil || !strings.Contains(err.Error(), "plan format version 1 is older than this slipway reads (2)") ||
		!strings.Contains(err.Error(), "make the plan again") {
		t.Fatalf("Read = %v", err)
	}
}

// TestChecksRoundTrip: a check step's resolved checks read back with
// their types; a sensitive attribute is never written, and Fill takes it
// from the configuration again.
func TestChecksRoundTrip(t *testing.T) {
	secret := cty.StringVal("Bearer s3cr3t-token").Mark(config.SensitiveMark)
	ck := &config.Check{Name: "api", Phase: "post", Severity: "critical", Kind: "http", Attrs: map[string]cty.Value{
		"url": cty.StringVal("http://127.0.0.1/health"), "status": cty.NumberIntVal(200),
		"headers": cty.MapVal(map[string]cty.Value{"Authorization": secret}),
	}}
	p := &plan.Plan{Project: "p", Steps: []*plan.Step{{ID: "checks.post", Kind: plan.KindCheck, Checks: []string{"api"}, CheckSpecs: []plan.Check{plan.NewCheck(ck)}}}}
	var buf bytes.Buffer
	if err := Write(&buf, p); err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(buf.Bytes(), []byte("s3cr3t")) {
		t.Fatalf("plan file holds the secret:\n%s", buf.Bytes())
	}
	got, err := Read(&buf)
	if err != nil {
		t.Fatal(err)
	}
	attrs := got.Steps[0].CheckSpecs[0].Attrs
	if !attrs["status"].Value.RawEquals(cty.NumberIntVal(200)) || !attrs["url"].Value.RawEquals(cty.StringVal("http://127.0.0.1/health")) {
		t.Errorf("plain attributes read back as %#v", attrs)
	}
	if !attrs["headers"].Sensitive {
		t.Fatalf("sensitive attribute read back as %#v", attrs["headers"])
	}
	Fill(got, &config.Config{Checks: []*config.Check{ck}})
	if b := got.Steps[0].CheckSpecs[0].Block(); !b.Attrs["headers"].RawEquals(ck.Attrs["headers"]) {
		t.Errorf("filled %#v", b.Attrs["headers"])
	}
}

// TestSaveLeavesOutTaskSecrets: an app's migration task runs with its
// service's env; its sensitive values are left out as well.
func TestSaveLeavesOutTaskSecrets(t *testing.T) {
	task := &providers.ContainerSpec{Name: "p-web-migrate-r2", Service: "web", Vars: []providers.EnvVar{{Name: "SECRET", Value: "s3cr3t-value", Sensitive: true}}}
	p := &plan.Plan{Project: "p", Steps: []*plan.Step{{ID: "postgres.main.migrate.1", Kind: plan.KindMigrate, Task: task}}}
	var buf bytes.Buffer
	if err := Write(&buf, p); err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(buf.Bytes(), []byte("s3cr3t-value")) || task.Vars[0].Value != "s3cr3t-value" {
		t.Fatalf("plan file holds the secret, or the plan lost it:\n%s", buf.Bytes())
	}
	got, err := Read(&buf)
	if err != nil {
		t.Fatal(err)
	}
	Fill(got, &config.Config{Services: []*config.Service{{Name: "web", Env: []config.EnvVar{{Name: "SECRET", Value: "s3cr3t-value", Sensitive: true}}}}})
	if v := got.Steps[0].Task.Vars[0].Value; v != "s3cr3t-value" {
		t.Errorf("filled %q", v)
	}
}

func FuzzRead(f *testing.F) {
	var buf bytes.Buffer
	_ = Write(&buf, testPlan())
	f.Add(buf.Bytes())
	f.Add([]byte(`{"format_version":2,"kind":"slipway-plan","plan":{"Steps":[null]}}`))
	f.Add([]byte(`{"format_version":2,"kind":"slipway-plan","plan":{"Steps":[{"CheckSpecs":[{"Attrs":{"a":{"type":"string","value":"x"},"b":{"sensitive":true}}}]}]}}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := Read(bytes.NewReader(b))
		if err != nil {
			return
		}
		var out bytes.Buffer
		if err := Write(&out, p); err != nil {
			t.Fatalf("re-encode: %v", err)
		}
	})
}

// TestSaveNeverWritesThroughLinks plants links at the plan file and at
// the temporary name older versions used: both victims stay as they were,
// the plan replaces the link at its own name, and nothing is left beside
// it.
func TestSaveNeverWritesThroughLinks(t *testing.T) {
	dir := t.TempDir()
	victims := t.TempDir()
	path := filepath.Join(dir, "release.plan")
	want := []byte("precious, not slipway's\n")
	for _, link := range []string{path, path + ".tmp"} {
		victim := filepath.Join(victims, filepath.Base(link))
		if err := os.WriteFile(victim, want, 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.Symlink(victim, link); err != nil {
			t.Fatal(err)
		}
	}
	if err := Save(path, testPlan()); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"release.plan", "release.plan.tmp"} {
		got, err := os.ReadFile(filepath.Join(victims, name))
		if err != nil || !bytes.Equal(got, want) {
			t.Fatalf("victim %s now %q, %v", name, got, err)
		}
	}
	if fi, err := os.Lstat(path); err != nil || !fi.Mode().IsRegular() || fi.Mode().Perm() != 0o600 {
		t.Fatalf("plan file: %v, %v; want a regular 0600 file", fi, err)
	}
	if _, err := Load(path); err != nil {
		t.Fatal(err)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 2 { // the plan and the old temporary name's link
		t.Fatalf("directory holds %v", entries)
	}
}
