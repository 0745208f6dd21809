package views

import (
	"bytes"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/slipwayhq/slipway/planner/plan"
	"github.com/slipwayhq/slipway/state/records"
)

// fakeTerm records each write a live TextHook makes, as a terminal
// would receive them.
type fakeTerm struct {
	mu     sync.Mutex
	writes []string
}

func (t *fakeTerm) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.writes = append(t.writes, string(p))
	return len(p), nil
}

// stream is the byte stream, one quoted write a line, for a golden file.
func (t *fakeTerm) stream() []byte {
	var b bytes.Buffer
	for _, w := range t.writes {
		b.WriteString(strconv.Quote(w) + "\n")
	}
	return b.Bytes()
}

// screen is what a terminal shows after the writes: "\r" returns to the
// start of the line, ESC [K clears the rest of it, "\n" starts a new one,
// anything else overwrites the cell under the cursor.
func (t *fakeTerm) screen() string {
	lines := [][]rune{nil}
	col := 0
	s := []rune(strings.Join(t.writes, ""))
	for i := 0; i < len(s); i++ {
		row := len(lines) - 1
		switch {
		case s[i] == '\r':
			col = 0
		case s[i] == '\n':
			lines = append(lines, nil)
			col = 0
		case s[i] == '\x1b' && i+2 < len(s) && s[i+1] == '[' && s[i+2] == 'K':
			lines[row] = lines[row][:col]
			i += 2
		default:
			if col < len(lines[row]) {
				lines[row][col] = s[i]
			} else {
				lines[row] = append(lines[row], s[i])
			}
			col++
		}
	}
	out := make([]string, len(lines))
	for i, l := range lines {
		out[i] = string(l)
	}
	return strings.Join(out, "\n")
}

// fakeTicks drives a live TextHook's redraws by hand: tick sends one
// tick to the running ticker and waits until the hook has drawn it.
type fakeTicks struct {
	mu       sync.Mutex
	c        chan time.Time
	drawn    chan struct{}
	released chan struct{}
}

func newFakeTicks(h *TextHook) *fakeTicks {
	f := &fakeTicks{drawn: make(chan struct{})}
	h.ticker = func(d time.Duration) (<-chan time.Time, func()) {
		if d != liveRefresh {
			panic(fmt.Sprintf("ticker every %s, want %s", d, liveRefresh))
		}
		f.mu.Lock()
		defer f.mu.Unlock()
		f.c = make(chan time.Time)
		released := make(chan struct{})
		f.released = released
		return f.c, func() { close(released) }
	}
	h.drawn = func() { f.drawn <- struct{}{} }
	return f
}

func (f *fakeTicks) tick() {
	f.mu.Lock()
	c := f.c
	f.mu.Unlock()
	c <- time.Time{}
	<-f.drawn
}

// stopped waits until the last ticker was released.
func (f *fakeTicks) stopped() {
	f.mu.Lock()
	r := f.released
	f.mu.Unlock()
	<-r
}

// fakeClock is a clock the test moves.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) set(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC).Add(d)
}

func newLive(o Options) (*TextHook, *fakeTerm, *fakeClock, *fakeTicks) {
	term := &fakeTerm{}
	o.Live = true
	h := NewTextHook(term, o)
	clock := &fakeClock{}
	clock.set(0)
	h.now = clock.now
	return h, term, clock, newFakeTicks(h)
}

var (
	liveStart = &plan.Step{ID: "service.web.start.1", Resource: "service.web", Kind: plan.KindStart, Action: plan.Create,
		Detail: "2 containers (candidate) from slipway-demo:v3"}
	liveTraffic = &plan.Step{ID: "service.web.traffic.3", Resource: "service.web", Kind: plan.KindTraffic, Action: plan.Update,
		Detail: "20% of requests to v3"}
	livePause = &plan.Step{ID: "service.web.pause.4", Resource: "service.web", Kind: plan.KindPause, Pause: 6 * time.Second,
		Detail: "wait 6s at 20%"}
	liveAnalyse = &plan.Step{ID: "service.web.analyse.5", Resource: "service.web", Kind: plan.KindAnalyse, Pause: 6 * time.Second,
		Analysis: "errors", Detail: `analysis "errors" over 6s: v3 against v2`}
	liveGate = &plan.Step{ID: "service.web.pause.6", Resource: "service.web", Kind: plan.KindPause, Approve: true, Pause: time.Minute,
		Detail: "approval gate at 50%"}
	liveUndo = &plan.Step{ID: "service.web.traffic.3.undo", Kind: plan.KindTraffic, Action: plan.Update, Detail: "all traffic back to v2"}
)

// liveRun is a canary's first step failing its analysis, with the ticks
// a terminal would see between the events (none when ticks is nil).
func liveRun(h *TextHook, clock *fakeClock, ticks *fakeTicks) {
	at := func(d time.Duration) {
		clock.set(d)
		if ticks != nil {
			ticks.tick()
		}
	}
	clock.set(0)
	h.StepStarted(liveStart)
	at(250 * time.Millisecond)
	at(500 * time.Millisecond)
	at(1700 * time.Millisecond)
	h.StepFinished(liveStart, 1750*time.Millisecond, nil)

	clock.set(2 * time.Second)
	h.StepStarted(liveTraffic)
	h.StepFinished(liveTraffic, 10*time.Millisecond, nil)

	h.StepStarted(livePause)
	h.Progress(livePause, "waiting 6s")
	at(3500 * time.Millisecond)
	at(5 * time.Second)
	at(9 * time.Second) // late: the bar stays full
	h.StepFinished(livePause, 6*time.Second, nil)

	clock.set(10 * time.Second)
	h.StepStarted(liveAnalyse)
	at(11 * time.Second)
	at(13 * time.Second)
	h.Progress(liveAnalyse, "warn; candidate 60 requests, 3.3% errors")
	at(14500 * time.Millisecond)
	h.Progress(liveAnalyse, "fail; candidate 124 requests, 5.6% errors")
	h.StepFinished(liveAnalyse, 6*time.Second, errors.New(`analysis "errors" failed: candidate error rate 5.6% > fail 5.0%`))

	clock.set(16 * time.Second)
	h.CompensationStarted(liveUndo)
	at(16250 * time.Millisecond)
	h.CompensationFinished(liveUndo, 300*time.Millisecond, nil)
	h.Summary("rolled_back", 3, 16500*time.Millisecond, &records.ProberCounts{Requests: 456, Failures: 1, Non2xx: 1})
}

func TestTextHookLiveGolden(t *testing.T) {
	for _, tt := range []struct {
		name string
		o    Options
	}{
		{"hook_live.txt", Options{}},
		{"hook_live.color.txt", Options{Color: true}},
		{"hook_live.w60.txt", Options{Width: 60}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			h, term, clock, ticks := newLive(tt.o)
			liveRun(h, clock, ticks)
			ticks.stopped()
			if err := h.Err(); err != nil {
				t.Fatal(err)
			}
			golden(t, tt.name, term.stream())
		})
	}
}

// The screen a live run leaves is the plain rendering of the same
// events: each redraw overwrote the line before it.
func TestTextHookLiveScreenIsThePlainOutput(t *testing.T) {
	var plain bytes.Buffer
	p := NewTextHook(&plain, Options{})
	pc := &fakeClock{}
	pc.set(0)
	p.now = pc.now
	liveRun(p, pc, nil)

	h, term, clock, ticks := newLive(Options{})
	liveRun(h, clock, ticks)
	if got, want := term.screen(), plain.String(); got != want {
		t.Errorf("screen after the live run\n%s\nwant the plain output\n%s", got, want)
	}
	if !strings.Contains(strings.Join(term.writes, ""), clearLine) {
		t.Error("the live run never redrew a line in place")
	}
	if strings.Contains(plain.String(), "\r") || strings.Contains(plain.String(), "\x1b") {
		t.Errorf("the plain output has terminal controls: %q", plain.String())
	}

	// The canary fixture too, with its secrets masked.
	var b bytes.Buffer
	ph := NewTextHook(&b, Options{})
	replay(ph, canary())
	lh, lterm, _, _ := newLive(Options{})
	replay(lh, canary())
	if got, want := lterm.screen(), b.String(); got != want {
		t.Errorf("canary: screen after the live run\n%s\nwant the plain output\n%s", got, want)
	}
	if strings.Contains(strings.Join(lterm.writes, ""), secretValue) {
		t.Error("the live run showed a sensitive value")
	}
}

func TestTextHookLiveLine(t *testing.T) {
	tests := []struct {
		name  string
		step  *plan.Step
		after time.Duration
		width int
		want  string
	}{
		{"elapsed", liveStart, 1250 * time.Millisecond, 0,
			"  + service.web start: 2 containers (candidate) from slipway-demo:v3 ... 1.3s"},
		{"pause bar", livePause, 3 * time.Second, 0,
			"  · service.web pause: wait 6s at 20% ... [██████████░░░░░░░░░░] 3.0s of 6s"},
		{"analysis bar", liveAnalyse, 1500 * time.Millisecond, 0,
			`  · service.web analyse: analysis "errors" over 6s: v3 against v2 ... [█████░░░░░░░░░░░░░░░] 1.5s of 6s`},
		{"a bar stays full past its time", livePause, 2 * time.Minute, 0,
			"  · service.web pause: wait 6s at 20% ... [████████████████████] 2m of 6s"},
		{"an approval gate has no bar", liveGate, 2 * time.Second, 0,
			"  · service.web pause: approval gate at 50% ... 2.0s"},
		{"cut to the width", liveStart, time.Second, 40,
			"  + service.web start: 2 containe… 1.0s"},
		{"fits the width exactly", liveStart, time.Second, 78,
			"  + service.web start: 2 containers (candidate) from slipway-demo:v3 ... 1.0s"},
		{"one column short", liveStart, time.Second, 77,
			"  + service.web start: 2 containers (candidate) from slipway-demo:v3 .… 1.0s"},
		{"the bar cut with the line", livePause, 3 * time.Second, 30,
			"[██████████░░░░░░░░░░] 3.0s o"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, term, clock, ticks := newLive(Options{Width: tt.width})
			h.StepStarted(tt.step)
			clock.set(tt.after)
			ticks.tick()
			last := term.writes[len(term.writes)-1]
			if last != clearLine+tt.want {
				t.Errorf("got\n%q\nwant\n%q", last, clearLine+tt.want)
			}
			if tt.width > 0 && columns(tt.want) >= tt.width {
				t.Errorf("the line takes %d columns, want fewer than %d", columns(tt.want), tt.width)
			}
			h.StepFinished(tt.step, tt.after, nil)
			ticks.stopped()
		})
	}
}

func TestFitKeepsEscapes(t *testing.T) {
	line := "  " + painter(true).symbol(plan.Create) + " service.web start: 2 containers ..."
	got := fit(line, " 1.0s", 20)
	if want := "  \x1b[32m+\x1b[0m service.w… 1.0s"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	if n := columns(got); n != 19 {
		t.Errorf("%d columns, want 19", n)
	}
}

func TestTextHookLiveStopsRedrawing(t *testing.T) {
	tests := []struct {
		name string
		end  func(h *TextHook)
		want string
	}{
		{"finished", func(h *TextHook) { h.StepFinished(liveStart, time.Second, nil) },
			"  + service.web start: 2 containers (candidate) from slipway-demo:v3 ... done (1.0s)\n"},
		{"closed", func(h *TextHook) {
			if err := h.Close(); err != nil {
				t.Fatal(err)
			}
			if err := h.Close(); err != nil {
				t.Fatal(err)
			}
		}, "  + service.web start: 2 containers (candidate) from slipway-demo:v3 ...\n"},
		{"summary", func(h *TextHook) { h.Summary("failed", 3, time.Second, nil) },
			"  + service.web start: 2 containers (candidate) from slipway-demo:v3 ...\n\nRelease #3 was refused before anything changed (1.0s).\n"},
		{"another step", func(h *TextHook) {
			h.StepStarted(liveTraffic)
			h.StepFinished(liveTraffic, time.Second, nil)
		}, "  + service.web start: 2 containers (candidate) from slipway-demo:v3 ...\n  ~ service.web traffic: 20% of requests to v3 ... done (1.0s)\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, term, clock, ticks := newLive(Options{})
			h.StepStarted(liveStart)
			clock.set(time.Second)
			ticks.tick()
			tt.end(h)
			ticks.stopped() // the ticker's goroutine returned
			if got := term.screen(); got != tt.want {
				t.Errorf("screen\n%q\nwant\n%q", got, tt.want)
			}
			h.mu.Lock()
			defer h.mu.Unlock()
			if h.cur != nil || h.stop != nil {
				t.Error("the hook still has a live step or a ticker")
			}
		})
	}
}

// With the real ticker, a step that runs long enough is redrawn by
// itself, and the redraws stop when it finishes.
func TestTextHookLiveRedrawsByItself(t *testing.T) {
	term := &fakeTerm{}
	h := NewTextHook(term, Options{Live: true})
	redraws := make(chan struct{}, 1)
	h.drawn = func() {
		select {
		case redraws <- struct{}{}:
		default:
		}
	}
	h.StepStarted(livePause)
	<-redraws
	<-redraws
	h.StepFinished(livePause, time.Second, nil)
	term.mu.Lock()
	n := len(term.writes)
	term.mu.Unlock()
	re := regexp.MustCompile(`^\r\x1b\[K  · service\.web pause: wait 6s at 20% \.\.\. \[[█░]{20}\] [0-9.]+s of 6s$`)
	if n < 3 || !re.MatchString(term.writes[1]) {
		t.Errorf("writes %q, want the first line redrawn", term.writes)
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.stop != nil {
		t.Error("the ticker runs after the step finished")
	}
}
