package statefile

import (
	"bytes"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/rogpeppe/go-internal/diff"
	"github.com/slipwayhq/slipway/state"
)

var update = flag.Bool("update", false, "rewrite golden files in testdata")

const hmacA = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

// full returns a state with every field set.
func full() *state.State {
	at := time.Date(2025, 3, 4, 5, 6, 7, 8, time.UTC)
	s := state.New("thebot", "staging")
	s.Lineage = "5f1c2b3a-0000-4000-8000-000000000001"
	s.Serial = 317
	s.Release = 42
	s.ConfigHash = "cfg42"
	s.UpdatedAt = at
	s.Services["backend"] = &state.Service{
		Name: "backend", Strategy: state.StrategyBlueGreen, Image: "thebot/backend:1.3.0",
		ImageID: "sha256:aaa", ImageDigest: "registry.example.com/thebot/backend@sha256:bbb", Release: 42, Version: "1.3.0", ConfigHash: "svc42", Color: state.ColorGreen,
		Containers: []state.Container{
			{ID: "c1", Name: "thebot-backend-r42-1", Color: "green", Release: 42, Index: 1, HostAddr: "127.0.0.1:40001", ImageID: "sha256:aaa"},
			{ID: "c2", Name: "thebot-backend-r42-2", Color: "green", Release: 42, Index: 2, HostAddr: "127.0.0.1:40002", ImageID: "sha256:aaa"},
		},
		Previous: &state.Previous{Release: 41, Image: "thebot/backend:1.2.3", ImageID: "sha256:bbb", Version: "1.2.3",
			Color: "blue", Kept: state.KeptStopped,
			Containers: []state.Container{{ID: "c0", Name: "thebot-backend-r41-1", Color: "blue", Release: 41, Index: 1, HostAddr: "127.0.0.1:40000", ImageID: "sha256:bbb"}}},
		RouteFile: "/etc/nginx/conf.d/slipway-thebot-backend.conf", RouteChecksum: "sum",
	}
	s.Services["frontend"] = &state.Service{
		Name: "frontend", Strategy: state.StrategyCanary, Image: "thebot/frontend:2.0.0", Release: 40, Version: "2.0.0",
		Weights: map[string]int{"stable": 75, "candidate": 25},
	}
	s.Databases["main"] = &state.Database{
		Name: "main",
		Migrations: []state.Migration{
			{Version: "0001", Name: "0001_init.sql", Checksum: "c1", AppliedAt: at, Release: 1},
			{Version: "0042", Name: "0042_add_index.sql", Checksum: "c42", AppliedAt: at, Release: 42},
		},
		LastBackup: &state.Backup{Path: "backups/thebot-main-s42.dump", SHA256: "ff", Size: 1234, Release: 42, CreatedAt: at},
		Dirty:      "0043_concurrent_index.sql",
	}
	s.Secrets["var.secret_key"] = hmacA
	return s
}

func encodeString(t *testing.T, s *state.State) string {
	t.Helper()
	var buf bytes.Buffer
	if err := Write(&buf, s); err != nil {
		t.Fatalf("Write: %v", err)
	}
	return buf.String()
}

func TestGolden(t *testing.T) {
	tests := []struct {
		name string
		s    *state.State
	}{
		{"empty", state.New("thebot", "")},
		{"full", full()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := encodeString(t, tt.s)
			path := filepath.Join("testdata", tt.name+".json")
			if *update {
				if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if got != string(want) {
				t.Fatalf("encoding differs from %s (run with -update if intended):\n%s", path,
					diff.Diff("want", want, "got", []byte(got)))
			}
			if !strings.HasPrefix(got, "{\n  \"format_version\": 1,\n  \"lineage\": ") || !strings.HasSuffix(got, "}\n") {
				t.Fatalf("format_version is not first or no trailing newline:\n%s", got)
			}
			back, err := Read(strings.NewReader(got))
			if err != nil {
				t.Fatalf("Read: %v", err)
			}
			if !reflect.DeepEqual(back, tt.s) {
				t.Fatalf("round trip differs:\n got %+v\nwant %+v", back, tt.s)
			}
		})
	}
}

func TestWriteIsDeterministic(t *testing.T) {
	a, b := encodeString(t, full()), encodeString(t, full())
	if a != b {
		t.Fatal("two encodings of the same state differ")
	}
}

func TestWriteNormalisesTimesToUTC(t *testing.T) {
	s := state.New("p", "")
	s.UpdatedAt = time.Date(2025, 1, 1, 12, 0, 0, 0, time.FixedZone("X", 3600))
	got := encodeString(t, s)
	if !strings.Contains(got, `"updated_at": "2025-01-01T11:00:00Z"`) {
		t.Fatalf("updated_at not in UTC:\n%s", got)
	}
}

func TestReadErrors(t *testing.T) {
	valid := encodeString(t, full())
	tests := []struct {
		name    string
		in      string
		version int // > 0: want *UnsupportedVersionError with this version
		want    string
	}{
		{name: "empty", in: "", want: "unexpected end of JSON input"},
		{name: "truncated", in: valid[:len(valid)/2], want: "unexpected end"},
		{name: "not an object", in: "[1]", want: "cannot unmarshal"},
		{name: "no version", in: `{"lineage": "x"}`, want: "no format_version"},
		{name: "version 7", in: `{"format_version": 7, "whatever": true}`, version: 7},
		{name: "version 0", in: `{"format_version": 0}`, version: -1},
		{name: "unknown field", in: `{"format_version": 1, "bogus": 1}`, want: `unknown field "bogus"`},
		{name: "trailing data", in: valid + "{}", want: "after top-level value"},
		{name: "negative release", in: `{"format_version": 1, "release": -1}`, want: "negative release"},
		{name: "null service", in: `{"format_version": 1, "services": {"a": null}}`, want: `service "a" is null`},
		{name: "raw secret", in: `{"format_version": 1, "secrets": {"var.k": "hunter2"}}`, want: "not a hex HMAC"},
		{name: "wrong type", in: `{"format_version": 1, "serial": "one"}`, want: "cannot unmarshal"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Read(strings.NewReader(tt.in))
			if err == nil {
				t.Fatal("Read succeeded")
			}
			if tt.version != 0 {
				var uv *UnsupportedVersionError
				if !errors.As(err, &uv) {
					t.Fatalf("error %v is not an *UnsupportedVersionError", err)
				}
				if tt.version > 0 && uv.Version != tt.version {
					t.Fatalf("version %d, want %d", uv.Version, tt.version)
				}
				return
			}
			if !errors.Is(err, ErrCorrupt) {
				t.Fatalf("error %v does not wrap ErrCorrupt", err)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %q does not contain %q", err, tt.want)
			}
		})
	}
}

func TestUnsupportedVersionMessage(t *testing.T) {
	_, err := Read(strings.NewReader(`{"format_version": 7}`))
	want := "state format version 7 is newer than this slipway supports (1); upgrade slipway"
	if err == nil || err.Error() != want {
		t.Fatalf("error = %v, want %q", err, want)
	}
}

func TestWriteRefuses(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(*state.State)
		want   string
	}{
		{"raw secret", func(s *state.State) { s.Secrets["var.k"] = "hunter2" }, "not a hex HMAC"},
		{"upper-case hmac", func(s *state.State) { s.Secrets["var.k"] = strings.ToUpper(hmacA) }, "not a hex HMAC"},
		{"nil service", func(s *state.State) { s.Services["x"] = nil }, `service "x" is nil`},
		{"misnamed service", func(s *state.State) { s.Services["x"] = &state.Service{Name: "y"} }, `service "x" is named "y"`},
		{"nil database", func(s *state.State) { s.Databases["x"] = nil }, `database "x" is nil`},
		{"year out of range", func(s *state.State) { s.UpdatedAt = time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC) }, "out of range"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := full()
			tt.mutate(s)
			var buf bytes.Buffer
			err := Write(&buf, s)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Write error = %v, want one containing %q", err, tt.want)
			}
			if buf.Len() != 0 {
				t.Fatalf("Write wrote %d bytes before failing", buf.Len())
			}
		})
	}
}

func TestJournalRoundTrip(t *testing.T) {
	at := time.Date(2025, 3, 4, 5, 6, 7, 0, time.UTC)
	j := &state.Journal{
		OperationID: "op1", Operation: "apply", Release: 43, PriorRelease: 42, Started: at,
		PlanPath: "/s/journal-plan.json",
		Entries: []state.JournalEntry{
			{Step: 0, StepID: "backup.main", Phase: state.PhaseIntent, Time: at},
			{Step: 0, StepID: "backup.main", Phase: state.PhaseDone, Time: at, Detail: "12 MB"},
		},
	}
	var buf bytes.Buffer
	if err := WriteJournal(&buf, j); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(buf.String(), "{\n  \"format_version\": 1,") {
		t.Fatalf("journal does not start with format_version:\n%s", buf.String())
	}
	back, err := ReadJournal(&buf)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(back, j) {
		t.Fatalf("round trip differs:\n got %+v\nwant %+v", back, j)
	}
	if _, err := ReadJournal(strings.NewReader(`{"format_version": 1, "entries": [{"phase": 3}]}`)); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("corrupt journal: error %v does not wrap ErrCorrupt", err)
	}
}
