package analysis

import (
	"bytes"
	"errors"
	"math"
	"strings"
	"testing"
	"time"

	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"strconv"
	"sync"
)

// nginxConsts reads the string constants of providers/nginx from its
// source, so the tests follow the format the routes really write without
// linking that package (whose build is not this package's concern).
var nginxConsts = sync.OnceValues(func() (map[string]string, error) {
	dir := filepath.Join("..", "..", "providers", "nginx")
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	consts := map[string]string{}
	fset := token.NewFileSet()
	for _, e := range entries {
		if filepath.Ext(e.Name()) != ".go" || strings.HasSuffix(e.Name(), "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, filepath.Join(dir, e.Name()), nil, 0)
		if err != nil {
			return nil, err
		}
		for _, d := range f.Decls {
			g, ok := d.(*ast.GenDecl)
			if !ok || g.Tok != token.CONST {
				continue
			}
			for _, spec := range g.Specs {
				vs := spec.(*ast.ValueSpec)
				for i, name := range vs.Names {
					if i >= len(vs.Values) {
						continue
					}
					if lit, ok := vs.Values[i].(*ast.BasicLit); ok && lit.Kind == token.STRING {
						if v, err := strconv.Unquote(lit.Value); err == nil {
							consts[name.Name] = v
						}
					}
				}
			}
		}
	}
	return consts, nil
})

// nginxConst returns the value of the string constant name of
// providers/nginx.
func nginxConst(tb testing.TB, name string) string {
	tb.Helper()
	consts, err := nginxConsts()
	if err != nil {
		tb.Fatalf("read providers/nginx: %v", err)
	}
	v, ok := consts[name]
	if !ok {
		tb.Fatalf("providers/nginx has no string constant %s", name)
	}
	return v
}

// defaultFields are the values logLine writes for fields a test leaves out.
var defaultFields = map[string]string{
	"time_iso8601":           "2025-01-02T03:04:05+00:00",
	"group":                  "stable",
	"status":                 "200",
	"request_time":           "0.010",
	"upstream_response_time": "0.009",
	"request_method":         "GET",
	"request_uri":            "/api/items?id=1",
	"upstream_addr":          "127.0.0.1:32768",
	"route":                  "shop//web",
	"version":                "1.2.3",
}

// logLine builds an access-log line in the order nginx.LogFormatFields
// documents, from the given field values and defaults; a field the format
// names that the test does not know fails the test, so a format change is
// noticed here.
func logLine(tb testing.TB, fields map[string]string) string {
	tb.Helper()
	var parts []string
	for _, name := range strings.Split(nginxConst(tb, "LogFormatFields"), "\t") {
		v, ok := fields[name]
		if !ok {
			if v, ok = defaultFields[name]; !ok {
				tb.Fatalf("LogFormatFields names %q, which the analysis tests do not know", name)
			}
		}
		parts = append(parts, v)
	}
	return strings.Join(parts, "\t") + "\n"
}

func TestLogFormatLayout(t *testing.T) {
	// ParseLine reads fields by position: this is the order it expects.
	want := []string{"time_iso8601", "group", "status", "request_time", "upstream_response_time",
		"request_method", "request_uri", "upstream_addr", "route", "version"}
	got := strings.Split(nginxConst(t, "LogFormatFields"), "\t")
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Fatalf("nginx.LogFormatFields = %q; ParseLine expects %q", got, want)
	}
	if len(want) != logFields {
		t.Fatalf("logFields = %d, want %d", logFields, len(want))
	}
	if h := nginxConst(t, "HeaderGroup"); GroupHeader != h {
		t.Fatalf("GroupHeader = %q, nginx.HeaderGroup = %q", GroupHeader, h)
	}
	if got := Route("shop", "", "web"); got != defaultFields["route"] {
		t.Fatalf("Route = %q, want %q", got, defaultFields["route"])
	}
}

func TestParseLine(t *testing.T) {
	nan := math.NaN()
	ts := func(s string) int64 {
		tt, err := time.Parse(time.RFC3339, s)
		if err != nil {
			t.Fatal(err)
		}
		return tt.Unix()
	}
	tests := []struct {
		name   string
		fields map[string]string
		raw    string // used instead of fields when set
		want   Line
		err    bool
	}{
		{name: "stable ok", fields: map[string]string{},
			want: Line{Time: ts("2025-01-02T03:04:05Z"), Group: GroupStable, Status: 200, RequestTime: 0.010, UpstreamTime: 0.009}},
		{name: "candidate 503", fields: map[string]string{"group": "candidate", "status": "503", "upstream_response_time": "1.250"},
			want: Line{Time: ts("2025-01-02T03:04:05Z"), Group: GroupCandidate, Status: 503, RequestTime: 0.010, UpstreamTime: 1.25}},
		{name: "positive offset", fields: map[string]string{"time_iso8601": "2024-02-29T23:59:59+05:30"},
			want: Line{Time: ts("2024-02-29T23:59:59+05:30"), Group: GroupStable, Status: 200, RequestTime: 0.010, UpstreamTime: 0.009}},
		{name: "negative offset", fields: map[string]string{"time_iso8601": "1999-12-31T20:00:00-04:00"},
			want: Line{Time: ts("2000-01-01T00:00:00Z"), Group: GroupStable, Status: 200, RequestTime: 0.010, UpstreamTime: 0.009}},
		{name: "utc Z", fields: map[string]string{"time_iso8601": "2025-03-01T00:00:00Z"},
			want: Line{Time: ts("2025-03-01T00:00:00Z"), Group: GroupStable, Status: 200, RequestTime: 0.010, UpstreamTime: 0.009}},
		{name: "no upstream", fields: map[string]string{"upstream_response_time": "-", "status": "499"},
			want: Line{Time: ts("2025-01-02T03:04:05Z"), Group: GroupStable, Status: 499, RequestTime: 0.010, UpstreamTime: nan}},
		{name: "two upstreams summed", fields: map[string]string{"upstream_response_time": "0.100, 0.250"},
			want: Line{Time: ts("2025-01-02T03:04:05Z"), Group: GroupStable, Status: 200, RequestTime: 0.010, UpstreamTime: 0.35}},
		{name: "internal redirect summed", fields: map[string]string{"upstream_response_time": "0.100 : 2"},
			want: Line{Time: ts("2025-01-02T03:04:05Z"), Group: GroupStable, Status: 200, RequestTime: 0.010, UpstreamTime: 2.1}},
		{name: "dash in a list", fields: map[string]string{"upstream_response_time": "-, 0.004"},
			want: Line{Time: ts("2025-01-02T03:04:05Z"), Group: GroupStable, Status: 200, RequestTime: 0.010, UpstreamTime: 0.004}},
		{name: "unknown group", fields: map[string]string{"group": "blue"},
			want: Line{Time: ts("2025-01-02T03:04:05Z"), Group: "", Status: 200, RequestTime: 0.010, UpstreamTime: 0.009}},
		{name: "bad status", fields: map[string]string{"status": "2x0"}, err: true},
		{name: "short status", fields: map[string]string{"status": "20"}, err: true},
		{name: "bad request time", fields: map[string]string{"request_time": "1.2.3"}, err: true},
		{name: "empty request time", fields: map[string]string{"request_time": ""}, err: true},
		{name: "bad upstream time", fields: map[string]string{"upstream_response_time": "abc"}, err: true},
		{name: "bad time", fields: map[string]string{"time_iso8601": "02/Jan/2025:03:04:05 +0000"}, err: true},
		{name: "bad month", fields: map[string]string{"time_iso8601": "2025-13-02T03:04:05+00:00"}, err: true},
		{name: "too few fields", raw: "2025-01-02T03:04:05+00:00\tstable\t200\n", err: true},
		{name: "too many fields", raw: strings.TrimSuffix(logLine(t, map[string]string{}), "\n") + "\textra\n", err: true},
		{name: "empty", raw: "", err: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			raw := tt.raw
			if raw == "" && tt.fields != nil {
				raw = logLine(t, tt.fields)
			}
			got, err := ParseLine([]byte(raw))
			if tt.err {
				if !errors.Is(err, ErrBadLine) {
					t.Fatalf("ParseLine(%q) error = %v, want ErrBadLine", raw, err)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseLine(%q): %v", raw, err)
			}
			if string(got.Route) != "shop//web" || string(got.Version) != "1.2.3" {
				t.Errorf("route %q version %q", got.Route, got.Version)
			}
			got.Route, got.Version = nil, nil
			if got.Time != tt.want.Time || got.Group != tt.want.Group || got.Status != tt.want.Status ||
				!near(got.RequestTime, tt.want.RequestTime) || !near(got.UpstreamTime, tt.want.UpstreamTime) {
				t.Errorf("ParseLine(%q) = %+v, want %+v", raw, got, tt.want)
			}
		})
	}
}

// near compares floats to a nanosecond, NaN equal to NaN.
func near(a, b float64) bool {
	if math.IsNaN(a) || math.IsNaN(b) {
		return math.IsNaN(a) && math.IsNaN(b)
	}
	return math.Abs(a-b) < 1e-9
}

func TestParseISO8601MatchesTime(t *testing.T) {
	// Days across sixty years of leap years, in zones east and west of UTC,
	// against the standard library.
	start := time.Date(1970, 1, 1, 0, 0, 0, 0, time.UTC)
	for d := 0; d < 366*60; d += 7 {
		zone := time.FixedZone("", (d%27-13)*3600+(d%2)*1800)
		tt := start.AddDate(0, 0, d).Add(time.Duration(d%86400) * time.Second).In(zone)
		s := tt.Format("2006-01-02T15:04:05-07:00")
		got, ok := parseISO8601([]byte(s))
		if !ok || got != tt.Unix() {
			t.Fatalf("parseISO8601(%q) = %d, %v; want %d", s, got, ok, tt.Unix())
		}
	}
}

func TestParseLineDoesNotAllocate(t *testing.T) {
	line := []byte(logLine(t, map[string]string{"group": "candidate", "upstream_response_time": "0.100, 0.250"}))
	allocs := testing.AllocsPerRun(100, func() {
		if _, err := ParseLine(line); err != nil {
			t.Fatal(err)
		}
	})
	if allocs != 0 {
		t.Fatalf("ParseLine allocates %.1f times per line, want 0", allocs)
	}
}

// BenchmarkNginxLogParse measures the parsing and counting of access-log
// lines as Nginx.Read does it, over a buffer of realistic lines; the lines/s
// metric must stay above 1,000,000 on one core, with 0 allocs/op.
func BenchmarkNginxLogParse(b *testing.B) {
	var buf bytes.Buffer
	const lines = 4096
	for i := range lines {
		f := map[string]string{"request_uri": "/api/orders/12345?page=3&sort=created_at"}
		if i%4 == 0 {
			f["group"] = "candidate"
		}
		if i%50 == 0 {
			f["status"] = "502"
		}
		if i%10 == 0 {
			f["route"] = "shop//other"
		}
		buf.WriteString(logLine(b, f))
	}
	data := buf.Bytes()
	n := NewNginx("", "shop//web")
	lo, hi := int64(0), int64(math.MaxInt64)
	n.lines(data, lo, hi) // size the latency slices once
	b.SetBytes(int64(len(data)) / lines)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i += lines {
		n.stable.reset()
		n.candidate.reset()
		if done, _ := n.lines(data, lo, hi); done != len(data) {
			b.Fatalf("consumed %d of %d bytes", done, len(data))
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "lines/s")
}
