package records

import (
	"encoding/json"
	"errors"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

var t0 = time.Date(2025, 3, 4, 5, 6, 7, 0, time.UTC)

// rolledBack is a canary apply whose analysis failed.
func rolledBack() *Record {
	return &Record{
		ID: "rec-1", Operation: OpApply, Project: "thebot", Env: "staging", Release: 43, PriorRelease: 42,
		Who: "deploy@host", Started: t0, Ended: t0.Add(7 * time.Minute), GitCommit: "abc123", ConfigHash: "cfg",
		Plan: json.RawMessage("{\"steps\":[{\"id\":\"start.backend\"}],\"note\":\"has ``` inside\"}"),
		Steps: []StepRecord{
			{Index: 0, ID: "check.pre", Kind: "check", Target: "pre", Started: t0, Ended: t0.Add(2 * time.Second), Outcome: OutcomeOK},
			{Index: 1, ID: "start.backend", Kind: "start", Target: "service.backend", Detail: "2 containers",
				Started: t0.Add(2 * time.Second), Ended: t0.Add(time.Minute), Outcome: OutcomeOK, Output: []string{"pulled", "started"}},
			{Index: 2, ID: "traffic.backend", Kind: "traffic", Target: "service.backend", Detail: "5% | 25%",
				Started: t0.Add(time.Minute), Ended: t0.Add(2 * time.Minute), Outcome: OutcomeOK},
			{Index: 3, ID: "analyse.backend", Kind: "analyse", Target: "service.backend",
				Started: t0.Add(2 * time.Minute), Ended: t0.Add(5 * time.Minute), Outcome: OutcomeFailed, Error: "error rate 9.00% > 5%"},
			{Index: 2, ID: "traffic.backend.undo", Kind: "traffic", Target: "service.backend", Detail: "100% stable",
				Started: t0.Add(5 * time.Minute), Ended: t0.Add(5*time.Minute + time.Second), Outcome: OutcomeCompensated},
			{Index: 1, ID: "start.backend.undo", Kind: "remove", Target: "service.backend", Detail: "2 containers (green)",
				Started: t0.Add(5*time.Minute + time.Second), Ended: t0.Add(6 * time.Minute), Outcome: OutcomeCompensated},
		},
		Checks: []CheckEvidence{{Name: "api", Phase: "pre", Severity: "critical", Status: "passed",
			Evidence: "GET /api/health -> 200 <ok>", Duration: 12 * time.Millisecond}},
		Analysis: []AnalysisReading{
			{Step: 3, Time: t0.Add(4 * time.Minute), Version: "candidate", Requests: 200, ErrorRate: 0.09, P50: 0.01, P95: 0.2, P99: 0.4, Verdict: "fail"},
			{Step: 3, Time: t0.Add(4 * time.Minute), Version: "stable", Requests: 0, ErrorRate: math.NaN(), P50: math.NaN(), P95: math.NaN(), P99: math.NaN(), Verdict: "no data"},
		},
		Prober:   &ProberCounts{Requests: 1000, Failures: 3, Non2xx: 2, TransportErrors: 1},
		Result:   ResultRolledBack,
		Error:    "analysis of service.backend failed",
		Warnings: []string{"migration 0042 is not additive"},
	}
}

// equalRecords compares records, treating NaN as equal to NaN.
func equalRecords(a, b *Record) bool {
	ja, _ := json.Marshal(a)
	jb, _ := json.Marshal(b)
	return string(ja) == string(jb)
}

func TestWriteLoadList(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "records")
	first := rolledBack()
	jsonPath, mdPath, err := Write(dir, first)
	if err != nil {
		t.Fatal(err)
	}
	if want := filepath.Join(dir, "20250304T050607Z-r43-apply.json"); jsonPath != want {
		t.Fatalf("json path %q, want %q", jsonPath, want)
	}
	if mdPath != strings.TrimSuffix(jsonPath, ".json")+".md" {
		t.Fatalf("markdown path %q", mdPath)
	}
	for _, p := range []string{jsonPath, mdPath} {
		fi, err := os.Stat(p)
		if err != nil || fi.Mode().Perm() != 0o600 {
			t.Fatalf("%s: %v mode %v, want 0600", p, err, fi.Mode())
		}
	}
	if fi, _ := os.Stat(dir); fi.Mode().Perm() != 0o700 {
		t.Fatalf("records directory mode %04o, want 0700", fi.Mode().Perm())
	}
	data, _ := os.ReadFile(jsonPath)
	if !strings.HasPrefix(string(data), "{\n  \"format_version\": 1,\n  \"id\": \"rec-1\",") {
		t.Fatalf("record JSON does not open with format_version and id:\n%.200s", data)
	}
	if !strings.Contains(string(data), `"p95": null`) {
		t.Fatal("NaN latency not stored as null")
	}
	got, err := Load(jsonPath)
	if err != nil {
		t.Fatal(err)
	}
	if !equalRecords(got, first) {
		t.Fatalf("Load:\n got %+v\nwant %+v", got, first)
	}
	if !math.IsNaN(got.Analysis[1].P95) {
		t.Fatal("null latency not loaded as NaN")
	}

	// An earlier record, then another with the same name.
	earlier := &Record{Operation: OpApply, Project: "thebot", Release: 42, Started: t0.Add(-time.Hour), Result: ResultSucceeded}
	if _, _, err := Write(dir, earlier); err != nil {
		t.Fatal(err)
	}
	if earlier.ID == "" {
		t.Fatal("Write did not set an id")
	}
	twin := rolledBack()
	twin.ID = "rec-2"
	twinPath, _, err := Write(dir, twin)
	if err != nil {
		t.Fatal(err)
	}
	if want := filepath.Join(dir, "20250304T050607Z-r43-apply-2.json"); twinPath != want {
		t.Fatalf("same-name record written to %q, want %q", twinPath, want)
	}

	// Writing a record again replaces its own files.
	first.Result = ResultNeedsIntervention
	again, _, err := Write(dir, first)
	if err != nil || again != jsonPath {
		t.Fatalf("rewrite went to %q, %v, want %q", again, err, jsonPath)
	}
	if got, _ := Load(jsonPath); got.Result != ResultNeedsIntervention {
		t.Fatalf("rewrite did not replace the record: %q", got.Result)
	}

	os.WriteFile(filepath.Join(dir, "README.txt"), []byte("not a record"), 0o600)
	list, err := List(dir)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, r := range list {
		ids = append(ids, r.ID)
	}
	if want := []string{earlier.ID, "rec-1", "rec-2"}; !reflect.DeepEqual(ids, want) {
		t.Fatalf("List ids %v, want %v", ids, want)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 7 {
		t.Fatalf("directory holds %d entries, want 3 records x 2 + README (temporary files left?)", len(entries))
	}
}

func TestListMissingDir(t *testing.T) {
	list, err := List(filepath.Join(t.TempDir(), "none"))
	if err != nil || list != nil {
		t.Fatalf("List of a missing dir = %v, %v", list, err)
	}
}

func TestLoadErrors(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name, content string
		check         func(error) bool
	}{
		{"newer", `{"format_version": 2, "id": "x"}`, func(err error) bool { return errors.Is(err, ErrUnsupportedVersion) }},
		{"torn", `{"format_version": 1, "id`, func(err error) bool { return err != nil }},
	}
	for _, tt := range tests {
		path := filepath.Join(dir, tt.name+".json")
		os.WriteFile(path, []byte(tt.content), 0o600)
		if _, err := Load(path); !tt.check(err) || !strings.Contains(err.Error(), path) {
			t.Errorf("%s: Load error %v", tt.name, err)
		}
	}
	if _, err := List(dir); err == nil {
		t.Error("List of a directory with a torn record succeeded")
	}
}

func TestWriteRefuses(t *testing.T) {
	tests := []struct {
		name string
		r    *Record
	}{
		{"nil", nil},
		{"no start", &Record{Operation: OpApply}},
		{"bad plan", &Record{Operation: OpApply, Started: t0, Plan: json.RawMessage(`{`)}},
	}
	for _, tt := range tests {
		dir := filepath.Join(t.TempDir(), "records")
		if _, _, err := Write(dir, tt.r); err == nil {
			t.Errorf("%s: Write succeeded", tt.name)
		}
		if _, err := os.Stat(dir); err == nil {
			t.Errorf("%s: a refused Write created the directory", tt.name)
		}
	}
}

func TestWriteSanitisesOperationInName(t *testing.T) {
	dir := t.TempDir()
	p, _, err := Write(dir, &Record{Operation: "../../etc/x", Started: t0})
	if err != nil {
		t.Fatal(err)
	}
	if filepath.Dir(p) != dir || strings.Contains(filepath.Base(p), "/") {
		t.Fatalf("record escaped its directory: %s", p)
	}
}
