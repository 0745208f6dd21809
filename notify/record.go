package notify

import (
	"context"

	"github.com/slipwayhq/slipway/state/records"
)

// EventFor is the event that the state of record r calls for, with its
// markdown record at recordPath:
//
//   - running: started (promoted for a promote);
//   - paused: paused;
//   - succeeded: succeeded, rolled_back for a rollback, aborted for an abort;
//   - rolled_back (a failure undone): rolled_back, or failed for a rollback
//     (the rollback itself failed);
//   - failed, needs_intervention: failed.
//
// Its summary is the record's result, then the trigger of a rollback.
func EventFor(r *records.Record, recordPath string) Event {
	e := Event{
		Project: r.Project, Env: r.Env, Release: r.Release, PriorRelease: r.PriorRelease,
		Operation: r.Operation, Who: r.Who, Time: r.Ended, Error: r.Error, Record: recordPath,
	}
	if e.Time.IsZero() {
		e.Time = r.Started
	}
	switch r.Result {
	case "", records.ResultRunning:
		e.Type = EventStarted
		if r.Operation == records.OpPromote {
			e.Type = EventPromoted
		}
	case records.ResultPaused:
		e.Type = EventPaused
	case records.ResultSucceeded:
		e.Type = EventSucceeded
		switch r.Operation {
		case records.OpRollback:
			e.Type = EventRolledBack
		case records.OpAbort:
			e.Type = EventAborted
		}
	case records.ResultRolledBack:
		e.Type = EventRolledBack
		if r.Operation == records.OpRollback {
			e.Type = EventFailed
		}
	default:
		e.Type = EventFailed
	}
	if e.Type != EventStarted && e.Type != EventPromoted {
		e.Summary = records.Summary(r)
		if t := records.Trigger(r); t != "" {
			e.Summary += ". Trigger: " + t
		}
	}
	return e
}

// SendRecord sends the event that r calls for (see EventFor) and appends
// the warnings to r.Warnings, so that the next write of the record carries
// them. It returns the new warnings.
func (n *Notifier) SendRecord(ctx context.Context, r *records.Record, recordPath string) []string {
	w := n.Send(ctx, EventFor(r, recordPath))
	r.Warnings = append(r.Warnings, w...)
	return w
}
