package analysis

import (
	"bytes"
	"math"
	"testing"
)

// FuzzParseLine feeds ParseLine arbitrary access-log lines: it must never
// panic, must read a line the same with or without its newline, and what
// it accepts must be sane (a three-digit status, finite non-negative
// times, a known group or none, fields without tabs).
func FuzzParseLine(f *testing.F) {
	for _, s := range []string{
		"2025-01-02T03:04:05+00:00\tstable\t200\t0.004\t0.003\tGET\t/\t127.0.0.1:8080\tshop/-/web\tv1\n",
		"2025-01-02T03:04:05+02:00\tcandidate\t502\t1.250\t0.5, 0.7\tPOST\t/api?x=1\t127.0.0.1:1, 127.0.0.1:2\tshop/prod/web\tv2",
		"2025-01-02T03:04:05Z\t-\t499\t0.000\t-\tGET\t/\t-\tshop/-/web\t-\n",
		"2025-01-02T03:04:05+00:00\tstable\t200\n",
		"\t\t\t\t\t\t\t\t\t",
		"9999-12-31T23:59:59-23:59\tstable\t999\t99999999.999\t1 : 2\tGET\t/\t-\tr\tv",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, line []byte) {
		if bytes.IndexByte(bytes.TrimSuffix(line, []byte("\n")), '\n') >= 0 {
			return // not one line: the log reader splits at newlines
		}
		l, err := ParseLine(line)
		if !bytes.HasSuffix(line, []byte("\n")) {
			l2, err2 := ParseLine(append(append([]byte(nil), line...), '\n'))
			if (err == nil) != (err2 == nil) || (err == nil && !sameLine(l, l2)) {
				t.Fatalf("a trailing newline changes the result: %+v %v / %+v %v", l, err, l2, err2)
			}
		}
		if err != nil {
			return
		}
		if l.Status < 0 || l.Status > 999 {
			t.Fatalf("status %d accepted", l.Status)
		}
		if l.Status < 100 && !l.Failed() {
			t.Fatalf("status %03d, which no response carries, does not count as failed", l.Status)
		}
		if math.IsNaN(l.RequestTime) || math.IsInf(l.RequestTime, 0) || l.RequestTime < 0 {
			t.Fatalf("request time %v accepted", l.RequestTime)
		}
		if math.IsInf(l.UpstreamTime, 0) || l.UpstreamTime < 0 {
			t.Fatalf("upstream time %v accepted", l.UpstreamTime)
		}
		if l.Group != "" && l.Group != GroupStable && l.Group != GroupCandidate {
			t.Fatalf("group %q accepted", l.Group)
		}
		if bytes.ContainsAny(l.Route, "\t") || bytes.ContainsAny(l.Version, "\t") {
			t.Fatalf("route %q or version %q holds a separator", l.Route, l.Version)
		}
	})
}

func sameLine(a, b Line) bool {
	same := func(x, y float64) bool { return x == y || (math.IsNaN(x) && math.IsNaN(y)) }
	return a.Time == b.Time && a.Group == b.Group && a.Status == b.Status && same(a.RequestTime, b.RequestTime) &&
		same(a.UpstreamTime, b.UpstreamTime) && bytes.Equal(a.Route, b.Route) && bytes.Equal(a.Version, b.Version)
}
