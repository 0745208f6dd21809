package analysis

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"
)

// scripted is a Source that returns one scripted window per read and
// records the intervals it was asked for.
type scripted struct {
	windows []Window
	asked   [][2]time.Time
	err     error
}

func (s *scripted) Read(ctx context.Context, from, to time.Time) (Window, error) {
	s.asked = append(s.asked, [2]time.Time{from, to})
	if s.err != nil {
		return Window{}, s.err
	}
	w := s.windows[len(s.asked)-1]
	w.Start, w.End = from, to
	return w, nil
}

// fakeClock starts at t0 and jumps to each time the gate sleeps until.
type fakeClock struct{ t time.Time }

func (c *fakeClock) now() time.Time { return c.t }

func (c *fakeClock) sleepUntil(ctx context.Context, t time.Time) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if t.After(c.t) {
		c.t = t
	}
	return nil
}

func TestGate(t *testing.T) {
	good, few := side{1000, 0, 0.1}, side{3, 0, 0.1}
	warn, bad := side{1000, 20, 0.1}, side{1000, 100, 0.1}
	w := func(c side) Window { return win(0, c, good) }
	unread := Window{QueryErrors: 1, QueryError: "connection refused"}
	tests := []struct {
		name     string
		duration time.Duration
		windows  []Window
		want     Verdict
		reason   string
		reads    int
	}{
		{"all pass", 90 * time.Second, []Window{w(good), w(good), w(good)}, Pass, "candidate error rate 0.0%", 3},
		{"fail stops at once", 150 * time.Second, []Window{w(good), w(bad), w(good), w(good), w(good)}, Fail, "> fail 5.0%", 2},
		{"no data throughout is no data", 60 * time.Second, []Window{w(few), w(few)}, NoData, "none of 2 windows had data", 2},
		{"no data says why", 60 * time.Second, []Window{unread, unread}, NoData, "none of 2 windows had data; the last: 1 query errors (2 intervals in a row): connection refused", 2},
		{"a window with data decides", 90 * time.Second, []Window{w(few), w(good), w(few)}, Pass, "", 3},
		{"ends warning", 60 * time.Second, []Window{w(good), w(warn)}, Warn, "> warn 1.0%", 2},
		{"warn past warn_for fails", 180 * time.Second, []Window{w(warn), w(warn), w(warn), w(warn), w(warn), w(warn)}, Fail, "warn_for 2m0s", 5},
		{"last window is shorter", 75 * time.Second, []Window{w(good), w(good), w(good)}, Pass, "", 3},
		{"short step is one window", 10 * time.Second, []Window{w(good)}, Pass, "", 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := &scripted{windows: tt.windows}
			clock := &fakeClock{t: t0}
			var seen []Verdict
			g := &Gate{Source: src, Judge: NewJudge(standard(), JudgeOptions{}), Interval: 30 * time.Second, Duration: tt.duration,
				OnWindow: func(w Window, v Verdict, reason string) { seen = append(seen, v) },
				now:      clock.now, sleepUntil: clock.sleepUntil}
			v, reason, err := g.Run(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if v != tt.want || !strings.Contains(reason, tt.reason) {
				t.Fatalf("Run = %s %q, want %s containing %q", v, reason, tt.want, tt.reason)
			}
			if len(src.asked) != tt.reads || len(seen) != tt.reads {
				t.Fatalf("%d reads, %d OnWindow calls, want %d", len(src.asked), len(seen), tt.reads)
			}
			// Windows are back to back from the start, and each is read
			// once it has ended; the last ends with the step.
			for i, a := range src.asked {
				if !a[0].Equal(t0.Add(time.Duration(i) * 30 * time.Second)) {
					t.Fatalf("window %d starts at %v", i, a[0])
				}
			}
			last := src.asked[len(src.asked)-1]
			if v != Fail && !last[1].Equal(t0.Add(tt.duration)) {
				t.Fatalf("last window ends at %v, want %v", last[1], t0.Add(tt.duration))
			}
			if !clock.t.Equal(last[1]) {
				t.Fatalf("read at %v, before the window's end %v", clock.t, last[1])
			}
		})
	}
}

func TestGateErrors(t *testing.T) {
	clock := &fakeClock{t: t0}
	boom := errors.New("boom")
	g := &Gate{Source: &scripted{err: boom}, Judge: NewJudge(standard(), JudgeOptions{}), Interval: time.Second, Duration: time.Minute,
		now: clock.now, sleepUntil: clock.sleepUntil}
	if _, _, err := g.Run(context.Background()); !errors.Is(err, boom) {
		t.Fatalf("Run: %v, want the source's error", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	g.Source = &scripted{windows: []Window{{}}}
	if _, _, err := g.Run(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("Run: %v, want context.Canceled", err)
	}
	if _, _, err := (&Gate{Source: g.Source, Judge: g.Judge}).Run(context.Background()); !errors.Is(err, ErrInvalidGate) {
		t.Fatalf("Run without interval: %v, want ErrInvalidGate", err)
	}
}
