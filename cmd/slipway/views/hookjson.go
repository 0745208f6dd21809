package views

import (
	"encoding/json"
	"io"
	"sync"
	"time"

	"github.com/slipwayhq/slipway/executor"
	"github.com/slipwayhq/slipway/internal/redact"
	"github.com/slipwayhq/slipway/planner/plan"
	"github.com/slipwayhq/slipway/state/records"
)

// JSONHook writes the progress of an apply as JSON lines, one event per
// line, in the schema of docs/json.md. The first line is the version
// event, written before the first other event (or by Start). Each line
// is written with one Write call and flushed when w buffers. It is safe
// for concurrent use; write errors are kept for Err.
type JSONHook struct {
	mu      sync.Mutex
	w       io.Writer
	err     error
	version string
	started bool
	// Sensitive values seen so far, and their masker.
	secrets secrets
	m       redact.Masker
}

// NewJSONHook returns a JSONHook writing to w whose version event names
// slipway's version.
func NewJSONHook(w io.Writer, version string) *JSONHook {
	return &JSONHook{w: w, secrets: secrets{}, version: version}
}

// Start writes the version event,
// {"type":"version","format_version":"1","slipway":"<version>"}, unless
// it is written already. Every other event writes it first if needed.
func (h *JSONHook) Start() {
	h.emit(nil)
}

type versionEvent struct {
	Type          string `json:"type"`
	FormatVersion string `json:"format_version"`
	Slipway       string `json:"slipway"`
}

type planEvent struct {
	Type string    `json:"type"`
	Plan *JSONPlan `json:"plan"`
}

type stepEvent struct {
	Type string  `json:"type"`
	Step StepRef `json:"step"`
}

type stepDoneEvent struct {
	Type       string  `json:"type"`
	Step       StepRef `json:"step"`
	Outcome    string  `json:"outcome"`
	DurationMS int64   `json:"duration_ms"`
	Error      *string `json:"error"`
}

type progressEvent struct {
	Type    string  `json:"type"`
	Step    StepRef `json:"step"`
	Message string  `json:"message"`
}

type diagnosticEvent struct {
	Type     string `json:"type"`
	Severity string `json:"severity"`
	Summary  string `json:"summary"`
	Detail   string `json:"detail"`
}

type summaryEvent struct {
	Type       string           `json:"type"`
	Outcome    string           `json:"outcome"`
	Release    int              `json:"release"`
	DurationMS int64            `json:"duration_ms"`
	Prober     *jsonProberCount `json:"prober"`
}

type jsonProberCount struct {
	Requests        int `json:"requests"`
	Failures        int `json:"failures"`
	Non2xx          int `json:"non_2xx"`
	TransportErrors int `json:"transport_errors"`
}

// Plan writes {"type":"plan","plan":{...}}: the plan being applied, in
// PlanJSON's schema. Like Mask, it makes the hook mask the plan's
// sensitive values in every later event.
func (h *JSONHook) Plan(p *plan.Plan) {
	h.Mask(p)
	h.emit(planEvent{Type: "plan", Plan: NewJSONPlan(p)})
}

// Mask makes the hook mask every sensitive value p carries in the errors
// and progress messages of every later event, also of steps that do not
// carry the values themselves. Values carried by the steps the hook is
// given are masked without it. Values shorter than redact.MinLen are
// never masked, and step targets and details, which never hold a
// sensitive value, are written as they are.
func (h *JSONHook) Mask(p *plan.Plan) {
	h.learn(p.Steps...)
}

// learn adds the sensitive values of steps and returns the masker.
func (h *JSONHook) learn(steps ...*plan.Step) redact.Masker {
	h.mu.Lock()
	defer h.mu.Unlock()
	n := len(h.secrets)
	h.secrets.add(steps...)
	if len(h.secrets) != n {
		h.m = h.secrets.masker()
	}
	return h.m
}

// StepStarted writes a step_started event.
func (h *JSONHook) StepStarted(s *plan.Step) {
	h.learn(s)
	h.emit(stepEvent{Type: "step_started", Step: stepRef(s)})
}

// StepFinished writes a step_finished event.
func (h *JSONHook) StepFinished(s *plan.Step, d time.Duration, err error) {
	h.emit(done("step_finished", s, h.learn(s), d, err))
}

// CompensationStarted writes a compensation_started event; the step is
// the compensation, whose id ends in ".undo".
func (h *JSONHook) CompensationStarted(s *plan.Step) {
	h.learn(s)
	h.emit(stepEvent{Type: "compensation_started", Step: stepRef(s)})
}

// CompensationFinished writes a compensation_finished event.
func (h *JSONHook) CompensationFinished(s *plan.Step, d time.Duration, err error) {
	h.emit(done("compensation_finished", s, h.learn(s), d, err))
}

// Progress writes a progress event.
func (h *JSONHook) Progress(s *plan.Step, msg string) {
	m := h.learn(s)
	h.emit(progressEvent{Type: "progress", Step: stepRef(s), Message: m.Mask(msg)})
}

// Diagnostic writes a diagnostic event; severity is "error" or
// "warning".
func (h *JSONHook) Diagnostic(severity, summary, detail string) {
	m := h.learn()
	h.emit(diagnosticEvent{Type: "diagnostic", Severity: severity, Summary: m.Mask(summary), Detail: m.Mask(detail)})
}

// Summary writes the last event: how the operation ended (an
// executor.Outcome name), the release it made or tried to make, how long
// it took, and the prober's counts (null without a prober).
func (h *JSONHook) Summary(outcome string, release int, d time.Duration, counts *records.ProberCounts) {
	e := summaryEvent{Type: "summary", Outcome: outcome, Release: release, DurationMS: ms(d)}
	if counts != nil {
		e.Prober = &jsonProberCount{Requests: counts.Requests, Failures: counts.Failures, Non2xx: counts.Non2xx, TransportErrors: counts.TransportErrors}
	}
	h.emit(e)
}

// Err returns the first error writing failed with.
func (h *JSONHook) Err() error {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.err
}

func done(typ string, s *plan.Step, m redact.Masker, d time.Duration, err error) stepDoneEvent {
	e := stepDoneEvent{Type: typ, Step: stepRef(s), Outcome: "ok", DurationMS: ms(d)}
	if err != nil {
		msg := m.Mask(err.Error())
		e.Outcome, e.Error = "failed", &msg
	}
	return e
}

// emit writes the version event if it is not written yet, then v unless
// it is nil.
func (h *JSONHook) emit(v any) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if !h.started {
		h.started = true
		h.line(versionEvent{Type: "version", FormatVersion: FormatVersion, Slipway: h.version})
	}
	if v != nil {
		h.line(v)
	}
}

// line writes v as one line; h.mu is held.
func (h *JSONHook) line(v any) {
	if h.err != nil {
		return
	}
	b, err := json.Marshal(v)
	if err != nil {
		h.err = err
		return
	}
	b = append(b, '\n')
	if _, err := h.w.Write(b); err != nil {
		h.err = err
		return
	}
	h.err = flush(h.w)
}

var _ executor.Hook = (*JSONHook)(nil)
