package views

import (
	"fmt"
	"io"
	"time"

	"github.com/slipwayhq/slipway/planner/plan"
	"github.com/slipwayhq/slipway/state/records"
)

// TextProgress is a TextHook that also tells how an operation ended: its
// summary, the record's warnings, and where the record is (W is the
// hook's writer).
type TextProgress struct {
	*TextHook
	W io.Writer
}

// Failed says nothing: the error follows on stderr.
func (TextProgress) Failed(error, string) {}

// Summary writes the summary line, each warning of rec, and the record's
// path when it was written.
func (t TextProgress) Summary(rec *records.Record, p *plan.Plan, d time.Duration, recPath string) {
	t.TextHook.Summary(rec.Result, p.Release, d, rec.Prober)
	for _, w := range rec.Warnings {
		fmt.Fprintf(t.W, "Warning: %s\n", w)
	}
	if recPath != "" {
		fmt.Fprintf(t.W, "Record: %s\n", recPath)
	}
}

// Close ends a line left open.
func (t TextProgress) Close() { _ = t.TextHook.Close() }

// JSONProgress is a JSONHook that also tells how an operation ended, as
// events.
type JSONProgress struct {
	*JSONHook
}

// Failed writes the error as a diagnostic event.
func (j JSONProgress) Failed(err error, hint string) { j.Diagnostic("error", err.Error(), hint) }

// Summary writes the summary event.
func (j JSONProgress) Summary(rec *records.Record, p *plan.Plan, d time.Duration, _ string) {
	j.JSONHook.Summary(rec.Result, p.Release, d, rec.Prober)
}

// Close does nothing: every event is written whole.
func (JSONProgress) Close() {}
