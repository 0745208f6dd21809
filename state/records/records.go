package records

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/slipwayhq/slipway/internal/atomicfile"
	"github.com/slipwayhq/slipway/internal/safedir"
)

// FormatVersion is the version of the record file format.
const FormatVersion = 1

// Operations a Record can describe.
const (
	OpApply    = "apply"
	OpRollback = "rollback"
	OpPromote  = "promote"
	OpAbort    = "abort"
)

// Results of an operation (Record.Result), matching the exit codes of apply
// and rollback.
const (
	ResultRunning           = "running"            // not finished (or interrupted)
	ResultSucceeded         = "succeeded"          // exit 0
	ResultFailed            = "failed"             // exit 1: failed before anything changed
	ResultRolledBack        = "rolled_back"        // exit 2: failed, previous release restored
	ResultNeedsIntervention = "needs_intervention" // exit 3: could not restore
	ResultPaused            = "paused"             // exit 4: at an approval gate
)

// Outcomes of a step (StepRecord.Outcome).
const (
	OutcomeOK          = "ok"
	OutcomeFailed      = "failed"
	OutcomeSkipped     = "skipped"
	OutcomeCompensated = "compensated"
	OutcomePaused      = "paused" // stopped at an approval gate
)

// ErrUnsupportedVersion reports a record written by a newer slipway.
var ErrUnsupportedVersion = errors.New("unsupported record format version")

// Record is the account of one operation.
type Record struct {
	ID           string `json:"id"`        // a UUID; Write sets one if empty
	Operation    string `json:"operation"` // one of the Op constants
	Project      string `json:"project"`
	Env          string `json:"env"`
	Release      int    `json:"release"`       // the release made (a rollback makes a new one)
	PriorRelease int    `json:"prior_release"` // the release live before
	// TargetRelease is, for a rollback, the release whose snapshot it
	// returned to; 0 otherwise (and in records written before it existed).
	TargetRelease int       `json:"target_release,omitempty"`
	Who           string    `json:"who"` // user@host
	Started       time.Time `json:"started"`
	Ended         time.Time `json:"ended,omitzero"` // zero while running
	GitCommit     string    `json:"git_commit,omitempty"`
	ConfigHash    string    `json:"config_hash,omitempty"`
	Reason        string    `json:"reason,omitempty"` // hotfix and rollback reason
	// Changes are the resources the operation changed, with their versions
	// and strategy, as the history lists them.
	Changes []Change `json:"changes,omitempty"`
	// Plan is the plan as JSON, already free of secrets.
	Plan     json.RawMessage   `json:"plan,omitempty"`
	Steps    []StepRecord      `json:"steps"`
	Checks   []CheckEvidence   `json:"checks"`
	Analysis []AnalysisReading `json:"analysis"`
	Prober   *ProberCounts     `json:"prober,omitempty"`
	// Result is one of the Result constants; "" or "running" while running.
	Result   string   `json:"result"`
	Error    string   `json:"error,omitempty"`
	Warnings []string `json:"warnings,omitempty"`
	// Incident adds to the incident report what the rest of the record
	// cannot show (threshold, restored data, archived logs); nil is fine.
	Incident *Incident `json:"incident,omitempty"`
}

// Change is one resource an operation changed.
type Change struct {
	Resource string `json:"resource"` // "service.web", "postgres.main"
	From     string `json:"from,omitempty"`
	To       string `json:"to,omitempty"`
	Strategy string `json:"strategy,omitempty"` // blue_green, ..., rollback, restore
}

// String is the change for people: "service.web v1 -> v2", with an image
// reference shortened to its tag.
func (c Change) String() string {
	from, to := tag(c.From), tag(c.To)
	switch {
	case from == "" && to == "":
		return c.Resource
	case from == "":
		return c.Resource + " " + to
	case to == "" || from == to:
		return c.Resource + " " + from
	}
	return c.Resource + " " + from + " -> " + to
}

// tag is the tag of an image reference ("repo:v2" -> "v2"), or ref itself
// when it has none.
func tag(ref string) string {
	ref, _, _ = strings.Cut(ref, "@")
	if i := strings.LastIndex(ref, ":"); i >= 0 && !strings.Contains(ref[i:], "/") {
		return ref[i+1:]
	}
	return ref
}

// StepRecord is one step as it ran (or did not).
type StepRecord struct {
	Index   int       `json:"index"`
	ID      string    `json:"id"`
	Kind    string    `json:"kind"` // check, backup, migrate, start, health, traffic, ...
	Target  string    `json:"target"`
	Detail  string    `json:"detail,omitempty"`
	Started time.Time `json:"started,omitzero"`
	Ended   time.Time `json:"ended,omitzero"`
	Outcome string    `json:"outcome"` // one of the Outcome constants
	Error   string    `json:"error,omitempty"`
	Output  []string  `json:"output,omitempty"` // lines worth keeping, e.g. from a migration
}

// CheckEvidence is the result of one check with what it saw.
type CheckEvidence struct {
	Name     string        `json:"name"`
	Phase    string        `json:"phase"`    // pre, post
	Severity string        `json:"severity"` // critical, warning
	Status   string        `json:"status"`   // passed, failed, ...
	Evidence string        `json:"evidence"`
	Duration time.Duration `json:"duration_ns"`
}

// AnalysisReading is one analysis interval of one version. ErrorRate is a
// fraction (0.05 = 5%), latencies are in seconds; a value that could not be
// computed is NaN (stored as null).
type AnalysisReading struct {
	Step      int       `json:"step"`
	Time      time.Time `json:"time"`
	Version   string    `json:"version"` // stable, candidate
	Requests  int       `json:"requests"`
	ErrorRate float64   `json:"error_rate"`
	P50       float64   `json:"p50"`
	P95       float64   `json:"p95"`
	P99       float64   `json:"p99"`
	Verdict   string    `json:"verdict"` // pass, warn, fail, no data
}

// ProberCounts counts the requests a prober sent through the route during
// the operation.
type ProberCounts struct {
	Requests        int `json:"requests"`
	Failures        int `json:"failures"`
	Non2xx          int `json:"non_2xx"`
	TransportErrors int `json:"transport_errors"`
}

// readingJSON is AnalysisReading with non-finite floats as null.
type readingJSON struct {
	Step      int       `json:"step"`
	Time      time.Time `json:"time"`
	Version   string    `json:"version"`
	Requests  int       `json:"requests"`
	ErrorRate *float64  `json:"error_rate"`
	P50       *float64  `json:"p50"`
	P95       *float64  `json:"p95"`
	P99       *float64  `json:"p99"`
	Verdict   string    `json:"verdict"`
}

// MarshalJSON writes NaN and infinities as null.
func (a AnalysisReading) MarshalJSON() ([]byte, error) {
	fin := func(f float64) *float64 {
		if math.IsNaN(f) || math.IsInf(f, 0) {
			return nil
		}
		return &f
	}
	return json.Marshal(readingJSON{a.Step, a.Time, a.Version, a.Requests,
		fin(a.ErrorRate), fin(a.P50), fin(a.P95), fin(a.P99), a.Verdict})
}

// UnmarshalJSON reads null as NaN.
func (a *AnalysisReading) UnmarshalJSON(data []byte) error {
	var r readingJSON
	if err := json.Unmarshal(data, &r); err != nil {
		return err
	}
	val := func(p *float64) float64 {
		if p == nil {
			return math.NaN()
		}
		return *p
	}
	*a = AnalysisReading{r.Step, r.Time, r.Version, r.Requests,
		val(r.ErrorRate), val(r.P50), val(r.P95), val(r.P99), r.Verdict}
	return nil
}

// file is the on-disk shape: the version first, then the record.
type file struct {
	FormatVersion int `json:"format_version"`
	*Record
}

// unsafeName matches what may not appear in a file name.
var unsafeName = regexp.MustCompile(`[^A-Za-z0-9_-]+`)

// Write stores r in dir (created 0700 if missing; refused, as safedir.Make
// refuses, when it is a symbolic link or others could write it) as
// <started:20060102T150405Z>-r<release>-<operation>.json and .md, both 0600
// and written atomically, and returns their paths. It sets r.ID if empty.
// Writing a record again (same ID) replaces its files, so the executor can
// write it from the start and again as steps finish; another record with
// the same name gets a "-2", "-3"... suffix instead.
func Write(dir string, r *Record) (jsonPath, mdPath string, err error) {
	if r == nil {
		return "", "", errors.New("write record: nil record")
	}
	if r.Started.IsZero() {
		return "", "", errors.New("write record: no start time")
	}
	if len(r.Plan) > 0 && !json.Valid(r.Plan) {
		return "", "", errors.New("write record: the plan is not valid JSON")
	}
	if r.ID == "" {
		r.ID = uuid.NewString()
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(file{FormatVersion, r}); err != nil {
		return "", "", fmt.Errorf("write record: %w", err)
	}
	md := Markdown(r)
	if err := safedir.Make(dir, "records directory"); err != nil {
		return "", "", fmt.Errorf("write record: %w", err)
	}
	op := unsafeName.ReplaceAllString(r.Operation, "_")
	base := fmt.Sprintf("%s-r%d-%s", r.Started.UTC().Format("20060102T150405Z"), r.Release, op)
	for n := 1; ; n++ {
		name := base
		if n > 1 {
			name += "-" + strconv.Itoa(n)
		}
		jsonPath, mdPath = filepath.Join(dir, name+".json"), filepath.Join(dir, name+".md")
		err := atomicfile.Create(jsonPath, buf.Bytes())
		if errors.Is(err, atomicfile.ErrExists) {
			old, lerr := Load(jsonPath)
			if lerr != nil || old.ID != r.ID {
				continue // another record's name
			}
			err = atomicfile.Replace(jsonPath, buf.Bytes())
		}
		if err != nil {
			return "", "", fmt.Errorf("write record %q: %w", jsonPath, err)
		}
		if err := atomicfile.Replace(mdPath, []byte(md)); err != nil {
			return "", "", fmt.Errorf("write record %q: %w", mdPath, err)
		}
		return jsonPath, mdPath, nil
	}
}

// Load reads the record in the JSON file at path. Fields it does not know
// are ignored; a newer format version is an error wrapping
// ErrUnsupportedVersion.
func Load(path string) (*Record, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("load record: %w", err)
	}
	f := file{Record: &Record{}}
	if err := json.Unmarshal(data, &f); err != nil {
		return nil, fmt.Errorf("load record %q: %w", path, err)
	}
	if f.FormatVersion != FormatVersion {
		return nil, fmt.Errorf("load record %q: %w %d (this slipway reads %d)", path, ErrUnsupportedVersion, f.FormatVersion, FormatVersion)
	}
	return f.Record, nil
}

// List loads every record in dir, oldest first (by Started, then by file
// name). A missing dir has no records. A file that cannot be loaded is an
// error naming it.
func List(dir string) ([]*Record, error) {
	entries, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("list records: %w", err)
	}
	type named struct {
		base string // file name without .json, so "x" sorts before "x-2"
		r    *Record
	}
	var all []named
	for _, e := range entries {
		name := e.Name()
		if !strings.HasSuffix(name, ".json") || strings.HasPrefix(name, ".") || !e.Type().IsRegular() {
			continue
		}
		r, err := Load(filepath.Join(dir, name))
		if err != nil {
			return nil, fmt.Errorf("list records: %w", err)
		}
		all = append(all, named{strings.TrimSuffix(name, ".json"), r})
	}
	sort.Slice(all, func(i, j int) bool {
		if !all[i].r.Started.Equal(all[j].r.Started) {
			return all[i].r.Started.Before(all[j].r.Started)
		}
		return all[i].base < all[j].base
	})
	out := make([]*Record, 0, len(all))
	for _, n := range all {
		out = append(out, n.r)
	}
	return out, nil
}
