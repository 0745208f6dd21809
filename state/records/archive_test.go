package records

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestChangeString(t *testing.T) {
	tests := []struct {
		c    Change
		want string
	}{
		{Change{Resource: "service.web", From: "demo:v1", To: "demo:v2"}, "service.web v1 -> v2"},
		{Change{Resource: "service.web", To: "registry.local:5000/demo:v2"}, "service.web v2"},
		{Change{Resource: "service.web", From: "registry.local:5000/demo", To: "demo@sha256:abc"}, "service.web registry.local:5000/demo -> demo"},
		{Change{Resource: "service.web", From: "demo:v1"}, "service.web v1"},
		{Change{Resource: "service.web", From: "demo:v1", To: "other:v1"}, "service.web v1"},
		{Change{Resource: "postgres.main", Strategy: "restore"}, "postgres.main"},
	}
	for _, tt := range tests {
		if got := tt.c.String(); got != tt.want {
			t.Errorf("%+v.String() = %q, want %q", tt.c, got, tt.want)
		}
	}
}

func TestWriteArchive(t *testing.T) {
	root := t.TempDir()
	dir := ArchiveDir(filepath.Join(root, "records"), "8f2c/../x")
	if want := filepath.Join(root, "records", "8f2c_x-archive"); dir != want {
		t.Fatalf("ArchiveDir = %q, want %q", dir, want)
	}
	tests := []struct {
		name, want string
	}{
		{"route-web.conf", "route-web.conf"},
		{"../../etc/passwd", ".._.._etc_passwd"},
		{"shop-web-r1-1.log", "shop-web-r1-1.log"},
	}
	for _, tt := range tests {
		p, err := WriteArchive(dir, tt.name, []byte("data of "+tt.name))
		if err != nil {
			t.Fatalf("WriteArchive(%q): %v", tt.name, err)
		}
		if p != filepath.Join(dir, tt.want) {
			t.Errorf("WriteArchive(%q) = %q, want it in %s as %s", tt.name, p, dir, tt.want)
		}
		fi, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != 0o600 {
			t.Errorf("%s has mode %v, want 0600", p, fi.Mode().Perm())
		}
		if b, _ := os.ReadFile(p); string(b) != "data of "+tt.name {
			t.Errorf("%s holds %q", p, b)
		}
	}
	if fi, err := os.Stat(dir); err != nil || fi.Mode().Perm() != 0o700 {
		t.Errorf("archive dir: %v, mode %v; want 0700", err, fi.Mode().Perm())
	}
	// Writing again replaces.
	p, err := WriteArchive(dir, "route-web.conf", []byte("new"))
	if err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(p); string(b) != "new" {
		t.Errorf("a second write left %q", b)
	}
	for _, bad := range []string{"", ".", ".."} {
		if _, err := WriteArchive(dir, bad, nil); err == nil {
			t.Errorf("WriteArchive(%q) succeeded", bad)
		}
	}
	// The archive directory beside the records is not a record.
	if _, _, err := Write(filepath.Join(root, "records"), &Record{Operation: OpRollback, Started: t0}); err != nil {
		t.Fatal(err)
	}
	if recs, err := List(filepath.Join(root, "records")); err != nil || len(recs) != 1 {
		t.Errorf("List beside an archive = %d records, %v; want 1", len(recs), err)
	}
}

func TestForRelease(t *testing.T) {
	recs := []*Record{
		{ID: "a", Release: 1, Result: ResultSucceeded},
		{ID: "b", Release: 2, Result: ResultRolledBack},
		{ID: "c", Release: 2, Result: ResultSucceeded},
		{ID: "d", Release: 3, Result: ResultRolledBack},
		{ID: "e", Release: 3, Result: ResultFailed},
		{ID: "f", Release: 2, Result: ResultFailed},
	}
	tests := []struct {
		n    int
		want string
	}{
		{1, "a"},
		{2, "c"}, // the one that made it, not a later failed attempt
		{3, "e"}, // no success: the last attempt
		{4, ""},
	}
	for _, tt := range tests {
		got := ForRelease(recs, tt.n)
		id := ""
		if got != nil {
			id = got.ID
		}
		if id != tt.want {
			t.Errorf("ForRelease(%d) = %q, want %q", tt.n, id, tt.want)
		}
	}
}

// rollbackToSnapshot is a manual rollback as slipway makes one: release #3
// live, returning to the snapshot of release #1 as the new release #4, with
// the replaced route file and the logs of the release it left archived.
func rollbackToSnapshot() *Record {
	return &Record{
		ID: "rec-5", Operation: OpRollback, Project: "shop", Release: 4, PriorRelease: 3, TargetRelease: 1,
		Who: "ops@host", Started: t0, Ended: t0.Add(1500 * time.Millisecond), Reason: "rollback to release #1",
		Changes: []Change{{Resource: "service.web", From: "demo:v3", To: "demo:v1", Strategy: "rollback"}},
		Steps: []StepRecord{
			{Index: 0, ID: "service.web.health", Kind: "health", Target: "shop-web-r1-1", Started: t0.Add(10 * time.Millisecond),
				Ended: t0.Add(time.Second), Outcome: OutcomeOK},
			{Index: 1, ID: "service.web.traffic", Kind: "traffic", Target: "service.web", Detail: "switch all requests back to v1 (blue) of release #1 in one step",
				Started: t0.Add(time.Second), Ended: t0.Add(1300 * time.Millisecond), Outcome: OutcomeOK},
			{Index: 2, ID: "service.web.stop", Kind: "stop", Target: "shop-web-r3-1", Detail: "1 container of release #3 (v3) kept stopped",
				Started: t0.Add(1300 * time.Millisecond), Ended: t0.Add(1400 * time.Millisecond), Outcome: OutcomeOK},
		},
		Result:   ResultSucceeded,
		Warnings: []string{"post-deploy checks skipped (-no-verify): api"},
		Incident: &Incident{
			Restored: []string{"service.web: v1 of release #1 (demo:v1) serves every request again, on shop-web-r1-1"},
			Logs:     []string{".slipway/records/rec-5-archive/route-web.conf", ".slipway/records/rec-5-archive/shop-web-r3-1.log"},
			Timeline: []Moment{{Time: t0.Add(1350 * time.Millisecond), Event: "archived the replaced route file and 1 container log of release #3"}},
		},
	}
}

func TestRollbackToSnapshot(t *testing.T) {
	r := rollbackToSnapshot()
	if got, want := Trigger(r), "manual rollback from release #3 to release #1 (made release #4) by ops@host (reason given: rollback to release #1)"; got != want {
		t.Errorf("Trigger = %q\n want %q", got, want)
	}
	md := Markdown(r)
	for _, w := range []string{
		"| Release | #3 -> #4 |\n| Returned to | the snapshot of release #1 |\n",
		"| Changed | service.web v3 -&gt; v1 (rollback) |",
		"- Now: release #4 serves what release #1 ran.",
		"\"[INCIDENT] Deployment issue - shop (default) release #3\"",
		"- `.slipway/records/rec-5-archive/shop-web-r3-1.log`",
		"## Warnings\n\n- post-deploy checks skipped (-no-verify): api",
	} {
		if !strings.Contains(md, w) {
			t.Errorf("markdown lacks %q", w)
		}
	}
	if t.Failed() {
		t.Logf("markdown:\n%s", md)
	}
}
