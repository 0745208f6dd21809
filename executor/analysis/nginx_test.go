package analysis

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

const testRoute = "shop//web"

// stamp formats t as nginx's $time_iso8601 in the +01:00 zone (a
// non-UTC offset, as on most servers).
func stamp(t time.Time) string {
	return t.In(time.FixedZone("", 3600)).Format("2006-01-02T15:04:05-07:00")
}

// lines returns n access-log lines of group at time at; every errEvery-th
// one (if errEvery > 0) is a 503, and the i-th upstream time is (i+1) ms.
func lines(tb testing.TB, n int, group string, at time.Time, errEvery int, extra map[string]string) string {
	var b strings.Builder
	for i := range n {
		f := map[string]string{"time_iso8601": stamp(at), "group": group,
			"upstream_response_time": strconv.FormatFloat(float64(i+1)/1000, 'f', 3, 64)}
		if errEvery > 0 && i%errEvery == 0 {
			f["status"] = "503"
		}
		for k, v := range extra {
			f[k] = v
		}
		b.WriteString(logLine(tb, f))
	}
	return b.String()
}

// appendLog appends s to the file at path, creating it.
func appendLog(t *testing.T, path, s string) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteString(s); err != nil {
		t.Fatal(err)
	}
}

// read reads window i (30s from t0) and checks there was no error.
func read(t *testing.T, src Source, i int) Window {
	t.Helper()
	from := t0.Add(time.Duration(i) * 30 * time.Second)
	w, err := src.Read(context.Background(), from, from.Add(30*time.Second))
	if err != nil {
		t.Fatalf("Read window %d: %v", i, err)
	}
	return w
}

// wantCounts checks the request and error counts of a window.
func wantCounts(t *testing.T, w Window, stable, stableErrs, cand, candErrs int) {
	t.Helper()
	if w.Stable.Requests != stable || w.Stable.Errors != stableErrs || w.Candidate.Requests != cand || w.Candidate.Errors != candErrs {
		t.Fatalf("stable %d/%d errors, candidate %d/%d errors; want stable %d/%d, candidate %d/%d (query errors %d: %s)",
			w.Stable.Requests, w.Stable.Errors, w.Candidate.Requests, w.Candidate.Errors,
			stable, stableErrs, cand, candErrs, w.QueryErrors, w.QueryError)
	}
}

func TestNginxWindows(t *testing.T) {
	path := filepath.Join(t.TempDir(), "access.log")
	sec := func(s int) time.Time { return t0.Add(time.Duration(s) * time.Second) }
	appendLog(t, path, lines(t, 7, GroupStable, sec(-3600), 0, nil)+ // history before the first window
		lines(t, 100, GroupStable, sec(0), 0, nil)+
		lines(t, 60, GroupCandidate, sec(29), 10, nil)+
		lines(t, 5, GroupCandidate, sec(10), 0, map[string]string{"route": "shop//other"})+
		lines(t, 3, "blue", sec(10), 0, nil))
	n := NewNginx(path, testRoute)
	defer n.Close()

	w := read(t, n, 0)
	wantCounts(t, w, 100, 0, 60, 6)
	if !w.Start.Equal(t0) || !w.End.Equal(t0.Add(30*time.Second)) {
		t.Errorf("window %v-%v, want %v-%v", w.Start, w.End, t0, t0.Add(30*time.Second))
	}
	if !near(w.Candidate.ErrorRate, 0.1) || !near(w.Stable.P50, 0.050) || !near(w.Stable.P95, 0.095) || !near(w.Stable.P99, 0.099) {
		t.Errorf("candidate error rate %v, stable p50/p95/p99 %v/%v/%v", w.Candidate.ErrorRate, w.Stable.P50, w.Stable.P95, w.Stable.P99)
	}

	// Lines of the next window, lines beyond it (they wait), and one of
	// its last second written after them (it counts late, once).
	appendLog(t, path, lines(t, 10, GroupStable, sec(30), 0, nil)+lines(t, 4, GroupCandidate, sec(60), 2, nil)+
		lines(t, 1, GroupStable, sec(59), 0, nil))
	wantCounts(t, read(t, n, 1), 10, 0, 0, 0)
	wantCounts(t, read(t, n, 2), 1, 0, 4, 2)
	wantCounts(t, read(t, n, 3), 0, 0, 0, 0)

	// A line too late (more than two seconds) for back-to-back windows is
	// dropped, and so is one of before a gap between windows.
	appendLog(t, path, lines(t, 1, GroupStable, sec(86), 0, nil)+lines(t, 1, GroupCandidate, sec(117), 0, nil))
	wantCounts(t, read(t, n, 4), 0, 0, 0, 0)
	appendLog(t, path, lines(t, 1, GroupStable, sec(149), 0, nil)+lines(t, 2, GroupCandidate, sec(180), 0, nil))
	wantCounts(t, read(t, n, 6), 0, 0, 2, 0)
	if got := n.Malformed(); got != 0 {
		t.Errorf("Malformed = %d, want 0", got)
	}
}

func TestNginxEveryRouteWhenRouteEmpty(t *testing.T) {
	path := filepath.Join(t.TempDir(), "access.log")
	appendLog(t, path, lines(t, 3, GroupStable, t0, 0, nil)+lines(t, 4, GroupStable, t0, 0, map[string]string{"route": "a/b/c"}))
	wantCounts(t, read(t, NewNginx(path, ""), 0), 7, 0, 0, 0)
}

func TestNginxPartialAndMalformedLines(t *testing.T) {
	path := filepath.Join(t.TempDir(), "access.log")
	full := lines(t, 1, GroupCandidate, t0.Add(time.Second), 1, nil)
	appendLog(t, path, "garbage\n"+lines(t, 2, GroupStable, t0, 0, nil)+full[:40])
	n := NewNginx(path, testRoute)
	defer n.Close()
	wantCounts(t, read(t, n, 0), 2, 0, 0, 0) // the half-written line waits
	if got := n.Malformed(); got != 1 {
		t.Errorf("Malformed = %d, want 1", got)
	}
	appendLog(t, path, full[40:])
	// Completed now, after its window was read and long before the next
	// one starts: too late to count.
	wantCounts(t, read(t, n, 1), 0, 0, 0, 0)

	late := lines(t, 1, GroupCandidate, t0.Add(59*time.Second), 1, nil)
	appendLog(t, path, late[:40])
	wantCounts(t, read(t, n, 1), 0, 0, 0, 0)
	appendLog(t, path, late[40:])
	wantCounts(t, read(t, n, 2), 0, 0, 1, 1) // completed just after: counts late
}

func TestNginxLongLine(t *testing.T) {
	path := filepath.Join(t.TempDir(), "access.log")
	long := "/" + strings.Repeat("x", 3*initialBuf)
	appendLog(t, path, lines(t, 1, GroupStable, t0, 0, nil)+lines(t, 2, GroupCandidate, t0, 0, map[string]string{"request_uri": long})+
		lines(t, 1, GroupStable, t0, 0, nil))
	wantCounts(t, read(t, NewNginx(path, testRoute), 0), 2, 0, 2, 0)
}

func TestNginxRotation(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "access.log")
	appendLog(t, path, lines(t, 10, GroupStable, t0, 0, nil))
	n := NewNginx(path, testRoute)
	defer n.Close()
	wantCounts(t, read(t, n, 0), 10, 0, 0, 0)

	// logrotate renames the file; nginx keeps writing to it until it
	// reopens its logs, then writes to a new file.
	w1 := t0.Add(30 * time.Second)
	appendLog(t, path, lines(t, 3, GroupStable, w1, 0, nil))
	if err := os.Rename(path, path+".1"); err != nil {
		t.Fatal(err)
	}
	appendLog(t, path+".1", lines(t, 2, GroupCandidate, w1, 0, nil))
	wantCounts(t, read(t, n, 1), 3, 0, 2, 0) // renamed, no new file yet
	appendLog(t, path, lines(t, 4, GroupCandidate, w1.Add(time.Second), 4, nil))
	appendLog(t, path+".1", lines(t, 1, GroupStable, w1.Add(time.Second), 0, nil))
	// Both the late line in the old file and the new file count.
	w, err := n.Read(context.Background(), w1, w1.Add(30*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	wantCounts(t, w, 1, 0, 4, 1)

	// Nginx writes one more line to the old file after the switch.
	w2 := t0.Add(60 * time.Second)
	appendLog(t, path+".1", lines(t, 1, GroupStable, w2, 0, nil))
	appendLog(t, path, lines(t, 2, GroupStable, w2, 0, nil))
	wantCounts(t, read(t, n, 2), 3, 0, 0, 0)
	// Nothing new in the old file: it is closed.
	wantCounts(t, read(t, n, 3), 0, 0, 0, 0)
	if n.prev != nil {
		t.Errorf("the rotated file is still open after a read found nothing new in it")
	}

	// A second rotation, with the new file created at once.
	w4 := t0.Add(120 * time.Second)
	if err := os.Rename(path, path+".2"); err != nil {
		t.Fatal(err)
	}
	appendLog(t, path, lines(t, 6, GroupCandidate, w4, 3, nil))
	wantCounts(t, read(t, n, 4), 0, 0, 6, 2)
}

func TestNginxTruncation(t *testing.T) {
	path := filepath.Join(t.TempDir(), "access.log")
	appendLog(t, path, lines(t, 20, GroupStable, t0, 0, nil))
	n := NewNginx(path, testRoute)
	defer n.Close()
	wantCounts(t, read(t, n, 0), 20, 0, 0, 0)

	// copytruncate: the file is copied away and truncated in place; nginx
	// goes on appending to the same file, now shorter than the offset.
	if err := os.Truncate(path, 0); err != nil {
		t.Fatal(err)
	}
	appendLog(t, path, lines(t, 3, GroupCandidate, t0.Add(30*time.Second), 3, nil))
	wantCounts(t, read(t, n, 1), 0, 0, 3, 1)
	appendLog(t, path, lines(t, 2, GroupStable, t0.Add(60*time.Second), 0, nil))
	wantCounts(t, read(t, n, 2), 2, 0, 0, 0)

	// Truncated and written past the old offset before the next read: the
	// bytes before the offset changed, so the file is read from its start.
	if err := os.Truncate(path, 0); err != nil {
		t.Fatal(err)
	}
	appendLog(t, path, lines(t, 40, GroupCandidate, t0.Add(90*time.Second), 4, nil))
	wantCounts(t, read(t, n, 3), 0, 0, 40, 10)

	// The same, across a Close and a reopen.
	if err := n.Close(); err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(path, 0); err != nil {
		t.Fatal(err)
	}
	appendLog(t, path, lines(t, 50, GroupStable, t0.Add(120*time.Second), 0, nil))
	wantCounts(t, read(t, n, 4), 50, 0, 0, 0)
}

func TestNginxMissingThenCreated(t *testing.T) {
	path := filepath.Join(t.TempDir(), "access.log")
	n := NewNginx(path, testRoute)
	defer n.Close()
	w := read(t, n, 0)
	wantCounts(t, w, 0, 0, 0, 0)
	if w.QueryErrors != 0 {
		t.Fatalf("a missing log is no requests yet, not a query error: %s", w.QueryError)
	}
	appendLog(t, path, lines(t, 2, GroupStable, t0.Add(-time.Minute), 0, nil)+lines(t, 4, GroupStable, t0.Add(30*time.Second), 0, nil))
	wantCounts(t, read(t, n, 1), 4, 0, 0, 0)
}

func TestNginxUnreadableIsQueryError(t *testing.T) {
	dir := t.TempDir() // a directory where the log should be: open works, read fails
	n := NewNginx(dir, testRoute)
	defer n.Close()
	w := read(t, n, 0)
	if w.QueryErrors == 0 || !strings.Contains(w.QueryError, "read access log") {
		t.Fatalf("QueryErrors %d %q, want a read error", w.QueryErrors, w.QueryError)
	}
}

func TestNginxSeeksLargeLogToWindowStart(t *testing.T) {
	path := filepath.Join(t.TempDir(), "access.log")
	var b strings.Builder
	for i := range 2000 { // a day of history, a line every 40s
		b.WriteString(lines(t, 1, GroupStable, t0.Add(-24*time.Hour+time.Duration(i)*40*time.Second), 0, nil))
	}
	history := b.Len()
	b.WriteString(lines(t, 50, GroupCandidate, t0, 5, nil))
	appendLog(t, path, b.String())
	if history < 2*seekMin {
		t.Fatalf("history of %d bytes is too small to exercise seeking", history)
	}

	n := NewNginx(path, testRoute)
	defer n.Close()
	if err := n.open(t0); err != nil {
		t.Fatal(err)
	}
	if off := n.cur.off; off < int64(history)/2 || off > int64(history) {
		t.Fatalf("first read starts at offset %d, want near the window start (history ends at %d)", off, history)
	}
	wantCounts(t, read(t, n, 0), 0, 0, 50, 10)
}

func TestNginxCloseAndContinue(t *testing.T) {
	path := filepath.Join(t.TempDir(), "access.log")
	appendLog(t, path, lines(t, 2, GroupStable, t0, 0, nil))
	n := NewNginx(path, testRoute)
	wantCounts(t, read(t, n, 0), 2, 0, 0, 0)
	if err := n.Close(); err != nil {
		t.Fatal(err)
	}
	appendLog(t, path, lines(t, 3, GroupStable, t0.Add(30*time.Second), 0, nil))
	wantCounts(t, read(t, n, 1), 3, 0, 0, 0)
	if err := n.Close(); err != nil {
		t.Fatal(err)
	}
}

func TestNginxHonoursContext(t *testing.T) {
	path := filepath.Join(t.TempDir(), "access.log")
	appendLog(t, path, lines(t, 2, GroupStable, t0, 0, nil))
	n := NewNginx(path, testRoute)
	defer n.Close()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := n.Read(ctx, t0, t0.Add(30*time.Second)); !errors.Is(err, context.Canceled) {
		t.Fatalf("Read with a cancelled context: %v, want context.Canceled", err)
	}
	// Nothing was consumed: the lines are still there for the next read.
	wantCounts(t, read(t, n, 0), 2, 0, 0, 0)
}

// BenchmarkNginxRead measures Nginx.Read over a log file of 100,000 lines
// (from the page cache): file reads, parsing, counting and percentiles.
func BenchmarkNginxRead(b *testing.B) {
	path := filepath.Join(b.TempDir(), "access.log")
	var sb strings.Builder
	for i := range 1000 {
		group := GroupStable
		if i%4 == 0 {
			group = GroupCandidate
		}
		sb.WriteString(lines(b, 100, group, t0.Add(time.Duration(i%30)*time.Second), 50, nil))
	}
	if err := os.WriteFile(path, []byte(sb.String()), 0o644); err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(sb.Len()))
	b.ReportAllocs()
	for b.Loop() {
		n := NewNginx(path, testRoute)
		w, err := n.Read(context.Background(), t0, t0.Add(30*time.Second))
		n.Close()
		if err != nil || w.Stable.Requests+w.Candidate.Requests != 100000 {
			b.Fatalf("read %d requests: %v", w.Stable.Requests+w.Candidate.Requests, err)
		}
	}
	b.ReportMetric(float64(b.N)*100000/b.Elapsed().Seconds(), "lines/s")
}
