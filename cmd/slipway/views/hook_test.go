package views

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/slipwayhq/slipway/planner/plan"
	"github.com/slipwayhq/slipway/state/records"
)

func TestTextHookGolden(t *testing.T) {
	for _, color := range []bool{false, true} {
		name := "hook_canary.txt"
		if color {
			name = "hook_canary.color.txt"
		}
		t.Run(name, func(t *testing.T) {
			var b bytes.Buffer
			h := NewTextHook(&b, Options{Color: color})
			replay(h, canary())
			h.Summary("rolled_back", 43, 83*time.Second+400*time.Millisecond, &records.ProberCounts{Requests: 1200, Failures: 3, Non2xx: 2, TransportErrors: 1})
			if err := h.Err(); err != nil {
				t.Fatal(err)
			}
			golden(t, name, b.Bytes())
		})
	}
}

func TestTextHookLines(t *testing.T) {
	s := &plan.Step{ID: "service.backend.pause.3", Resource: "service.backend", Kind: plan.KindPause, Detail: "wait 5m at 5%"}
	tests := []struct {
		name string
		run  func(h *TextHook)
		want string
	}{
		{"done on the started line", func(h *TextHook) {
			h.StepStarted(s)
			h.StepFinished(s, 2140*time.Millisecond, nil)
		}, "  · service.backend pause: wait 5m at 5% ... done (2.1s)\n"},
		{"progress closes the line and the result repeats it", func(h *TextHook) {
			h.StepStarted(s)
			h.Progress(s, "waiting\n5m")
			h.StepFinished(s, 5*time.Minute+20*time.Millisecond, nil)
		}, "  · service.backend pause: wait 5m at 5% ...\n      waiting 5m\n  · service.backend pause: wait 5m at 5% ... done (5m)\n"},
		{"failure with its error on one line", func(h *TextHook) {
			h.StepStarted(s)
			h.StepFinished(s, 50*time.Millisecond, errors.New("interrupted\nby SIGINT"))
		}, "  · service.backend pause: wait 5m at 5% ... failed (0.1s): interrupted by SIGINT\n"},
		{"undo", func(h *TextHook) {
			c := &plan.Step{ID: "service.backend.start.1.undo", Kind: plan.KindRemove, Action: plan.Delete, Detail: "remove the new containers"}
			h.CompensationStarted(c)
			h.CompensationFinished(c, 400*time.Millisecond, nil)
		}, "  ↺ undo service.backend.start.1: remove the new containers ... done (0.4s)\n"},
		{"summary without prober", func(h *TextHook) {
			h.Summary("succeeded", 43, 3*time.Minute+12*time.Second+300*time.Millisecond, nil)
		}, "\nRelease #43 is live (3m12s).\n"},
		{"paused", func(h *TextHook) {
			h.Summary("paused", 43, 10*time.Second, nil)
		}, "\nRelease #43 is paused at an approval gate: run 'slipway promote' to continue or 'slipway abort' to roll back (10.0s).\n"},
		{"needs intervention", func(h *TextHook) {
			h.Summary("needs_intervention", 43, time.Second, &records.ProberCounts{Requests: 1})
		}, "\nRelease #43 failed and rolling back failed too: manual intervention needed (1.0s).\nProber: 1 request, 0 failed (0 non-2xx, 0 transport errors).\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var b bytes.Buffer
			tt.run(NewTextHook(&b, Options{}))
			if b.String() != tt.want {
				t.Errorf("got\n%q\nwant\n%q", b.String(), tt.want)
			}
		})
	}
}

type failWriter struct{ n int }

func (w *failWriter) Write(p []byte) (int, error) {
	w.n++
	return 0, errors.New("disk full")
}

func TestHooksKeepTheWriteError(t *testing.T) {
	s := &plan.Step{ID: "x", Kind: plan.KindPause}
	w := &failWriter{}
	th := NewTextHook(w, Options{})
	th.StepStarted(s)
	th.StepFinished(s, time.Second, nil)
	if th.Err() == nil || w.n != 1 {
		t.Errorf("text hook: err %v after %d writes, want the error after 1", th.Err(), w.n)
	}
	w = &failWriter{}
	jh := NewJSONHook(w, "dev")
	jh.StepStarted(s)
	if jh.Err() == nil || w.n != 1 {
		t.Errorf("json hook: err %v after %d writes, want the error after 1", jh.Err(), w.n)
	}
}

func TestJSONHookEvents(t *testing.T) {
	var b bytes.Buffer
	h := NewJSONHook(&b, "v0.1.0-test")
	p := canary()
	h.Plan(p)
	replay(h, p)
	h.Diagnostic("error", "Traffic Step Failed", "nginx -t refused the route file.")
	h.Summary("rolled_back", 43, 83*time.Second+400*time.Millisecond, &records.ProberCounts{Requests: 1200, Failures: 3, Non2xx: 2, TransportErrors: 1})
	if err := h.Err(); err != nil {
		t.Fatal(err)
	}
	golden(t, "hook_canary.jsonl", b.Bytes())

	var types []string
	for i, l := range strings.Split(strings.TrimSuffix(b.String(), "\n"), "\n") {
		var e map[string]any
		if err := json.Unmarshal([]byte(l), &e); err != nil {
			t.Fatalf("line %d is not JSON: %v: %s", i+1, err, l)
		}
		types = append(types, e["type"].(string))
	}
	want := []string{"version", "plan",
		"step_started", "step_finished", // checks.pre
		"step_started", "step_finished", // start
		"step_started", "step_finished", // health
		"step_started", "progress", "step_finished", // traffic fails
		"compensation_started", "compensation_finished", // traffic back
		"compensation_started", "compensation_finished", // containers removed
		"diagnostic", "summary"}
	if fmt.Sprint(types) != fmt.Sprint(want) {
		t.Errorf("event types\n got %v\nwant %v", types, want)
	}
}

func TestJSONHookStepFinished(t *testing.T) {
	s := &plan.Step{Index: 4, ID: "service.backend.traffic.4", Resource: "service.backend", Kind: plan.KindTraffic, Action: plan.Update,
		Target: "thebot.example.com:80/", Detail: "25% of requests to 1.3.0"}
	tests := []struct {
		err  error
		want string
	}{
		{nil, `{"type":"step_finished","step":{"index":4,"id":"service.backend.traffic.4","resource":"service.backend","kind":"traffic","action":"update","target":"thebot.example.com:80/","detail":"25% of requests to 1.3.0"},"outcome":"ok","duration_ms":1234,"error":null}`},
		{errors.New("nginx -t failed"), `{"type":"step_finished","step":{"index":4,"id":"service.backend.traffic.4","resource":"service.backend","kind":"traffic","action":"update","target":"thebot.example.com:80/","detail":"25% of requests to 1.3.0"},"outcome":"failed","duration_ms":1234,"error":"nginx -t failed"}`},
	}
	for _, tt := range tests {
		var b bytes.Buffer
		h := NewJSONHook(&b, "dev")
		h.StepFinished(s, 1234567*time.Microsecond, tt.err)
		lines := strings.Split(strings.TrimSuffix(b.String(), "\n"), "\n")
		if len(lines) != 2 || lines[1] != tt.want {
			t.Errorf("got\n%s\nwant\n%s", lines[len(lines)-1], tt.want)
		}
	}
}

// bufWriter counts flushes of a buffered writer.
type bufWriter struct {
	*bufio.Writer
	flushes int
}

func (w *bufWriter) Flush() error {
	w.flushes++
	return w.Writer.Flush()
}

func TestJSONHookFlushesEachLine(t *testing.T) {
	var out bytes.Buffer
	w := &bufWriter{Writer: bufio.NewWriter(&out)}
	h := NewJSONHook(w, "dev")
	h.Progress(&plan.Step{ID: "x"}, "waiting 5m")
	if w.flushes != 2 || strings.Count(out.String(), "\n") != 2 {
		t.Errorf("after 2 events: %d flushes, output %q", w.flushes, out.String())
	}
}

func TestJSONHookConcurrentLinesStayWhole(t *testing.T) {
	var b bytes.Buffer
	h := NewJSONHook(&b, "dev")
	s := &plan.Step{ID: "service.backend.health.2", Kind: plan.KindHealth}
	var wg sync.WaitGroup
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			for j := 0; j < 50; j++ {
				h.Progress(s, fmt.Sprintf("probe %d/%d %s", i, j, strings.Repeat("x", 200)))
			}
		}(i)
	}
	wg.Wait()
	lines := strings.Split(strings.TrimSuffix(b.String(), "\n"), "\n")
	if len(lines) != 1+8*50 {
		t.Fatalf("got %d lines, want %d", len(lines), 1+8*50)
	}
	for i, l := range lines {
		if !json.Valid([]byte(l)) {
			t.Fatalf("line %d is not whole JSON: %.80s", i+1, l)
		}
	}
}

func TestJSONHookVersionEventComesFirstOnce(t *testing.T) {
	tests := []struct {
		name string
		run  func(h *JSONHook)
		want []string
	}{
		{"start alone", func(h *JSONHook) { h.Start() },
			[]string{`{"type":"version","format_version":"1","slipway":"dev"}`}},
		{"start twice", func(h *JSONHook) {
			h.Start()
			h.Start()
			h.Diagnostic("warning", "Slow", "slow.")
		}, []string{`{"type":"version","format_version":"1","slipway":"dev"}`, `{"type":"diagnostic","severity":"warning","summary":"Slow","detail":"slow."}`}},
		{"first event writes it", func(h *JSONHook) {
			h.Summary("succeeded", 3, 1500*time.Millisecond, nil)
			h.Start()
		}, []string{`{"type":"version","format_version":"1","slipway":"dev"}`, `{"type":"summary","outcome":"succeeded","release":3,"duration_ms":1500,"prober":null}`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var b bytes.Buffer
			tt.run(NewJSONHook(&b, "dev"))
			got := strings.Split(strings.TrimSuffix(b.String(), "\n"), "\n")
			if fmt.Sprint(got) != fmt.Sprint(tt.want) {
				t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(tt.want, "\n"))
			}
		})
	}
}
