package notify

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"time"
)

// PayloadVersion is the format version of the JSON payload
// (docs/notify.md), a string as in slipway's other JSON documents.
const PayloadVersion = "1"

// payload is the JSON body of format "json".
type payload struct {
	Version      string   `json:"format_version"`
	Event        string   `json:"event"`
	Project      string   `json:"project"`
	Env          string   `json:"env"`
	Release      int      `json:"release"`
	PriorRelease int      `json:"prior_release"`
	Operation    string   `json:"operation"`
	Who          string   `json:"who"`
	Time         string   `json:"time"`
	Summary      string   `json:"summary"`
	Error        string   `json:"error,omitempty"`
	Record       string   `json:"record,omitempty"`
	Details      []string `json:"details,omitempty"`
	Text         string   `json:"text"`
}

// Payload is the request body for e in format ("json" or "" for the JSON
// payload of docs/notify.md, "slack" for {"text": Text(e)}).
func Payload(format string, e Event) ([]byte, error) {
	var v any
	switch format {
	case "", "json":
		v = payload{
			Version: PayloadVersion, Event: e.Type, Project: e.Project, Env: e.Env, Release: e.Release,
			PriorRelease: e.PriorRelease, Operation: e.Operation, Who: e.Who,
			Time: e.Time.UTC().Format(time.RFC3339), Summary: e.Summary, Error: e.Error, Record: e.Record,
			Details: e.Details, Text: Text(e),
		}
	case "slack":
		v = struct {
			Text string `json:"text"`
		}{slackEscape(Text(e))}
	default:
		return nil, fmt.Errorf("encode payload: unknown format %q", format)
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, fmt.Errorf("encode payload: %w", err)
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

func env(e Event) string {
	if e.Env == "" {
		return "default"
	}
	return e.Env
}

// Text is the human message for e: a headline, then the summary, the
// error and the record path on lines of their own, e.g.
//
//	slipway thebot (staging): apply of release #43 failed and was rolled back to release #42 (by deploy@host)
//	Error: analysis of service.backend failed
//	Record: /srv/thebot/.slipway/records/20250304T050607Z-r43-apply.md
func Text(e Event) string {
	subject := fmt.Sprintf("%s of release #%d", e.Operation, e.Release)
	switch {
	case e.Type == EventDegraded || e.Type == EventRecovered:
		subject = fmt.Sprintf("release #%d", e.Release)
	case e.Operation == "rollback":
		subject = fmt.Sprintf("rollback from release #%d to release #%d", e.PriorRelease, e.Release)
	}
	var what string
	switch e.Type {
	case EventStarted:
		what = fmt.Sprintf("started (release #%d live)", e.PriorRelease)
	case EventPaused:
		what = "paused at an approval gate"
	case EventPromoted:
		what = "promoted past its approval gate"
	case EventAborted:
		what = fmt.Sprintf("aborted; release #%d serves", e.PriorRelease)
	case EventSucceeded:
		what = "succeeded"
	case EventFailed:
		what = "failed"
	case EventDegraded:
		what = "is degraded"
	case EventRecovered:
		what = "serves with every replica again"
	case EventRolledBack:
		what = fmt.Sprintf("failed and was rolled back to release #%d", e.PriorRelease)
		if e.Operation == "rollback" {
			what = "done"
		}
	default:
		what = e.Type
	}
	var b strings.Builder
	fmt.Fprintf(&b, "slipway %s (%s): %s %s", e.Project, env(e), subject, what)
	if e.Who != "" {
		fmt.Fprintf(&b, " (by %s)", e.Who)
	}
	if e.Summary != "" {
		fmt.Fprintf(&b, "\n%s", e.Summary)
	}
	if e.Error != "" {
		fmt.Fprintf(&b, "\nError: %s", e.Error)
	}
	if e.Record != "" {
		fmt.Fprintf(&b, "\nRecord: %s", e.Record)
	}
	for _, d := range e.Details {
		fmt.Fprintf(&b, "\n%s", d)
	}
	return b.String()
}

// slackEscape escapes the three characters Slack reads as markup.
func slackEscape(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(s)
}
