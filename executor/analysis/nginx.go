package analysis

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"sync"
	"time"
)

// Sizes of the Nginx read buffer: it starts at initialBuf and grows, for
// longer lines, up to maxLine; a longer line is skipped as malformed.
const (
	initialBuf = 256 << 10
	maxLine    = 4 << 20
)

// lateSlack is how late a line may be written and still count, in the
// window after the one it is stamped in, when windows are read back to
// back: nginx workers stamp a request when it ends and write it at once,
// so near a window's edge a line of the earlier second can follow one of
// the later.
const lateSlack = 2

// seekSlack is how far before a window's start the first read of a large
// log begins, so that lines written slightly out of order by several
// nginx workers are not missed; seekMin is the size below which the first
// read simply starts at the beginning.
const (
	seekSlack = 5 * time.Second
	seekMin   = 64 << 10
)

// Route returns the route field slipway's nginx routes log for a service,
// "<project>/<env>/<service>" (env may be empty), as NewNginx expects it.
func Route(project, env, service string) string {
	return project + "/" + env + "/" + service
}

// Nginx is a Source that tails the access log slipway's routes write.
//
// It keeps an offset in the file, so every line is counted in exactly one
// window. The first Read starts at the line nearest the window's start
// (earlier lines are history: skipped). A line stamped at or after a
// window's end is left for the next Read, as is a last line without its
// newline yet. Rotation is followed: when the path names a new file, the
// old one is read to its end (now and at the next Read, since nginx writes
// to it until it reopens its logs) and the new one from its start. A file
// shorter than the offset, or whose bytes just before the offset are no
// longer the end of the last line read, was truncated in place
// (copytruncate) and is read again from its start. A missing file is an empty window (no requests
// yet); a file that cannot be read is a query error.
//
// time_iso8601 has whole seconds, so a window's edges are exact to a
// second: a line stamped in the second of from counts, one stamped at or
// after to waits. When a window starts where the last one ended, a line
// stamped up to two seconds before its start that was written after the
// last read counts in it: nginx workers write lines of neighbouring
// seconds slightly out of order, and each line counts once, in the first
// window that sees it.
type Nginx struct {
	path, route string

	mu        sync.Mutex
	cur, prev *logFile
	buf       []byte
	stable    tally
	candidate tally
	malformed int
	lastEnd   time.Time // the end of the last window read
}

// tailLen is how many bytes before the offset are kept to notice a file
// truncated and refilled past the offset between two reads.
const tailLen = 64

// logFile is an open log file and how far it has been read.
type logFile struct {
	f    *os.File
	fi   os.FileInfo
	off  int64
	tail []byte // the bytes just before off, as last read
}

// rewritten reports whether lf's file no longer holds, just before the
// offset, the bytes last read there: it was truncated and written again.
func (lf *logFile) rewritten(size int64) bool {
	if size < lf.off {
		return true
	}
	if len(lf.tail) == 0 || lf.f == nil {
		return false
	}
	var buf [tailLen]byte
	m, err := lf.f.ReadAt(buf[:len(lf.tail)], lf.off-int64(len(lf.tail)))
	return err == nil && !bytes.Equal(buf[:m], lf.tail)
}

// remember keeps the bytes just before lf's offset.
func (lf *logFile) remember() {
	k := min(lf.off, tailLen)
	if cap(lf.tail) < tailLen {
		lf.tail = make([]byte, 0, tailLen)
	}
	lf.tail = lf.tail[:k]
	if m, err := lf.f.ReadAt(lf.tail, lf.off-k); err != nil || int64(m) != k {
		lf.tail = lf.tail[:0]
	}
}

// NewNginx returns a Source reading the access log at logPath, counting
// only the lines of route (see Route); route "" counts every line.
func NewNginx(logPath, route string) *Nginx {
	return &Nginx{path: logPath, route: route}
}

// Malformed returns how many lines so far could not be parsed and were
// skipped.
func (n *Nginx) Malformed() int {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.malformed
}

// Close closes the open log files. Read may be called again afterwards: it
// reopens the log and continues where the last read stopped, when the file
// is still the same.
func (n *Nginx) Close() error {
	n.mu.Lock()
	defer n.mu.Unlock()
	var errs []error
	for _, lf := range []*logFile{n.cur, n.prev} {
		if lf != nil && lf.f != nil {
			errs = append(errs, lf.f.Close())
		}
	}
	n.prev = nil
	if n.cur != nil {
		n.cur.f = nil
	}
	return errors.Join(errs...)
}

// Read implements Source.
func (n *Nginx) Read(ctx context.Context, from, to time.Time) (Window, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.stable.reset()
	n.candidate.reset()
	w := Window{Start: from, End: to}
	qerr := func(err error) {
		w.QueryErrors++
		w.QueryError = err.Error()
	}
	if n.buf == nil {
		n.buf = make([]byte, initialBuf)
	}
	lo, hi := from.Truncate(time.Second).Unix(), to.Unix()
	if to.After(time.Unix(hi, 0)) { // a line stamped hi is before to
		hi++
	}
	if !n.lastEnd.IsZero() && from.Equal(n.lastEnd) {
		lo -= lateSlack
	}

	// The previous file after a rotation: read what nginx still appended.
	if n.prev != nil {
		more, err := n.scan(ctx, n.prev, lo, hi)
		if err != nil {
			if ctx.Err() != nil {
				return Window{}, ctx.Err()
			}
			qerr(err)
		}
		if !more {
			n.prev.f.Close()
			n.prev = nil
		}
	}

	fi, err := os.Stat(n.path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		// No log yet, or between a rotation's rename and nginx's reopen:
		// keep reading the current file, if any.
	case err != nil:
		qerr(fmt.Errorf("stat access log %q: %w", n.path, err))
	case n.cur != nil && !os.SameFile(n.cur.fi, fi):
		// Rotated: finish the old file, then start the new one.
		if n.cur.f != nil {
			if _, err := n.scan(ctx, n.cur, lo, hi); err != nil {
				if ctx.Err() != nil {
					return Window{}, ctx.Err()
				}
				qerr(err)
			}
			if n.prev != nil {
				n.prev.f.Close()
			}
			n.prev = n.cur
		}
		n.cur = nil
	case n.cur != nil && n.cur.rewritten(fi.Size()):
		n.cur.off, n.cur.tail = 0, n.cur.tail[:0] // truncated in place
	}
	if err == nil && (n.cur == nil || n.cur.f == nil) {
		if err := n.open(from); err != nil {
			qerr(err)
		}
	}
	if n.cur != nil && n.cur.f != nil {
		if _, err := n.scan(ctx, n.cur, lo, hi); err != nil {
			if ctx.Err() != nil {
				return Window{}, ctx.Err()
			}
			qerr(err)
		}
	}
	w.Stable = n.stable.reading(GroupStable)
	w.Candidate = n.candidate.reading(GroupCandidate)
	n.lastEnd = to
	return w, nil
}

// open opens the log file (again, after Close, keeping the offset when the
// file is the same one) and, the first time, seeks near from.
func (n *Nginx) open(from time.Time) error {
	f, err := os.Open(n.path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("open access log %q: %w", n.path, err)
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return fmt.Errorf("stat access log %q: %w", n.path, err)
	}
	if n.cur != nil && os.SameFile(n.cur.fi, fi) {
		n.cur.f, n.cur.fi = f, fi
		if n.cur.rewritten(fi.Size()) {
			n.cur.off, n.cur.tail = 0, n.cur.tail[:0]
		}
		return nil
	}
	first := n.cur == nil && n.prev == nil
	n.cur = &logFile{f: f, fi: fi}
	if first && fi.Size() > seekMin {
		off, err := n.seek(f, fi.Size(), from.Add(-seekSlack).Unix())
		if err != nil {
			return fmt.Errorf("read access log %q: %w", n.path, err)
		}
		n.cur.off = off
	}
	return nil
}

// seek returns the offset of a line start at or before the first line
// stamped at or after t, by bisecting the file on line timestamps.
func (n *Nginx) seek(f *os.File, size, t int64) (int64, error) {
	lo, hi := int64(0), size // the answer is in [lo, hi]
	buf := make([]byte, 8<<10)
	for hi-lo > int64(len(buf)) {
		mid := lo + (hi-lo)/2
		start, ts, ok, err := lineAfter(f, buf, mid)
		if err != nil {
			return 0, err
		}
		if !ok || start >= hi { // no whole line to judge by: stop here
			break
		}
		if ts < t {
			lo = start
		} else {
			hi = mid
		}
	}
	return lo, nil
}

// lineAfter reads the first whole line that starts after off and returns
// its start and time; ok is false when none is found in buf's length or
// the line does not parse.
func lineAfter(f *os.File, buf []byte, off int64) (start, ts int64, ok bool, err error) {
	m, err := f.ReadAt(buf, off)
	if err != nil && !errors.Is(err, io.EOF) {
		return 0, 0, false, err
	}
	b := buf[:m]
	i := bytes.IndexByte(b, '\n')
	if i < 0 {
		return 0, 0, false, nil
	}
	b = b[i+1:]
	j := bytes.IndexByte(b, '\n')
	if j < 0 {
		return 0, 0, false, nil
	}
	l, perr := ParseLine(b[:j])
	if perr != nil {
		return 0, 0, false, nil
	}
	return off + int64(i) + 1, l.Time, true, nil
}

// scan reads lf from its offset and counts the lines stamped in [lo, hi),
// skipping earlier ones and stopping at the first later one or at a last
// line without its newline. It reports whether it consumed anything or
// left a later line for the next read: whether the file may have more.
func (n *Nginx) scan(ctx context.Context, lf *logFile, lo, hi int64) (bool, error) {
	consumed := false
	for {
		if err := ctx.Err(); err != nil {
			return consumed, err
		}
		m, err := lf.f.ReadAt(n.buf, lf.off)
		if err != nil && !errors.Is(err, io.EOF) {
			return consumed, fmt.Errorf("read access log %q: %w", n.path, err)
		}
		b := n.buf[:m]
		done, stop := n.lines(b, lo, hi)
		if done > 0 {
			consumed = true
			lf.off += int64(done)
		}
		switch {
		case stop:
			lf.remember()
			return true, nil
		case m < len(n.buf):
			lf.remember()
			return consumed, nil // at the end: maybe a partial last line
		case done == 0 && len(n.buf) < maxLine:
			n.buf = make([]byte, 2*len(n.buf)) // a line longer than buf
		case done == 0:
			// A line longer than maxLine: skip what we have of it.
			lf.off += int64(m)
			n.malformed++
			consumed = true
		}
	}
}

// lines counts the whole lines of b and returns how many bytes they take;
// stop is true when a line stamped at or after hi ended the scan.
func (n *Nginx) lines(b []byte, lo, hi int64) (done int, stop bool) {
	for {
		i := bytes.IndexByte(b[done:], '\n')
		if i < 0 {
			return done, false
		}
		line := b[done : done+i]
		l, err := ParseLine(line)
		switch {
		case err != nil:
			n.malformed++
		case l.Time >= hi:
			return done, true
		case l.Time < lo:
		case n.route != "" && string(l.Route) != n.route:
		case l.Group == GroupStable:
			n.stable.add(l.Failed(), l.UpstreamTime)
		case l.Group == GroupCandidate:
			n.candidate.add(l.Failed(), l.UpstreamTime)
		}
		done += i + 1
	}
}

var _ Source = (*Nginx)(nil)
