package views

import (
	"bytes"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/slipwayhq/slipway/state/records"
)

func TestVersionsAndStrategies(t *testing.T) {
	tests := []struct {
		changes          []records.Change
		versions, strats string
	}{
		{nil, "", ""},
		{[]records.Change{{Resource: "service.web", From: "demo:v1", To: "demo:v2", Strategy: "blue_green"}},
			"service.web v1 -> v2", "blue_green"},
		{[]records.Change{{Resource: "service.web", To: "demo:v1", Strategy: "canary"}, {Resource: "service.api", From: "api:3", To: "api:4", Strategy: "canary"},
			{Resource: "postgres.main", Strategy: "restore"}},
			"service.web v1, service.api 3 -> 4, postgres.main", "canary, restore"},
	}
	for _, tt := range tests {
		r := &records.Record{Changes: tt.changes}
		if got := Versions(r); got != tt.versions {
			t.Errorf("versions(%+v) = %q, want %q", tt.changes, got, tt.versions)
		}
		if got := Strategies(r); got != tt.strats {
			t.Errorf("strategies(%+v) = %q, want %q", tt.changes, got, tt.strats)
		}
	}
}

func TestRecord(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "records")
	t0 := time.Date(2025, 3, 4, 5, 6, 7, 0, time.UTC)
	for _, r := range []*records.Record{
		{ID: "a", Operation: records.OpApply, Project: "shop", Release: 1, Started: t0, Result: records.ResultSucceeded},
		{ID: "b", Operation: records.OpApply, Project: "shop", Release: 2, Started: t0.Add(time.Minute), Result: records.ResultSucceeded},
		{ID: "c", Operation: records.OpRollback, Project: "shop", Release: 3, PriorRelease: 2, TargetRelease: 1, Started: t0.Add(2 * time.Minute), Result: records.ResultSucceeded},
	} {
		if _, _, err := records.Write(dir, r); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		name           string
		n              int
		json, incident bool
		want           string
		wantErr        string
	}{
		{"markdown", 2, false, false, "# slipway apply: shop (default) release #2\n", ""},
		{"json", 3, true, false, `"target_release": 1,`, ""},
		{"incident", 3, false, true, "**Trigger:** manual rollback from release #2 to release #1 (made release #3)", ""},
		{"no incident", 2, false, true, "", "release #2 has no incident report: its apply succeeded"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			recs, err := records.List(dir)
			if err != nil {
				t.Fatal(err)
			}
			var out bytes.Buffer
			err = Record(&out, records.ForRelease(recs, tt.n), tt.json, tt.incident)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(out.String(), tt.want) {
				t.Errorf("output lacks %q:\n%s", tt.want, out.String())
			}
			if tt.incident && strings.Contains(out.String(), "## Steps") {
				t.Errorf("-incident printed the whole record")
			}
		})
	}
}
