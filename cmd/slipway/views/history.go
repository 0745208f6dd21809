package views

import (
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/slipwayhq/slipway/state"
	"github.com/slipwayhq/slipway/state/records"
)

// HistoryJSON writes one entry per record.
func HistoryJSON(w io.Writer, recs []*records.Record) error {
	type entry struct {
		Release       int              `json:"release"`
		PriorRelease  int              `json:"prior_release"`
		TargetRelease int              `json:"target_release,omitempty"`
		Operation     string           `json:"operation"`
		Started       time.Time        `json:"started"`
		DurationMS    int64            `json:"duration_ms"`
		Versions      string           `json:"versions"`
		Strategy      string           `json:"strategy"`
		Changes       []records.Change `json:"changes"`
		Result        string           `json:"result"`
		Who           string           `json:"who"`
		Reason        string           `json:"reason,omitempty"`
		ID            string           `json:"id"`
	}
	out := []entry{}
	for _, r := range recs {
		changes := r.Changes
		if changes == nil {
			changes = []records.Change{}
		}
		out = append(out, entry{r.Release, r.PriorRelease, r.TargetRelease, r.Operation, r.Started, recordDuration(r).Milliseconds(),
			Versions(r), Strategies(r), changes, r.Result, r.Who, r.Reason, r.ID})
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(out)
}

// HistoryText writes a table of the records.
func HistoryText(w io.Writer, recs []*records.Record) error {
	if len(recs) == 0 {
		_, err := fmt.Fprintln(w, "No operations recorded yet.")
		return err
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "RELEASE\tWHEN\tOPERATION\tVERSIONS\tSTRATEGY\tDURATION\tRESULT\tWHO")
	for _, r := range recs {
		op := r.Operation
		if r.TargetRelease > 0 {
			op = fmt.Sprintf("%s to #%d", op, r.TargetRelease)
		}
		d := "-"
		if !r.Ended.IsZero() {
			d = recordDuration(r).Round(100 * time.Millisecond).String()
		}
		fmt.Fprintf(tw, "#%d\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", r.Release, r.Started.Local().Format("2006-01-02 15:04:05"), op,
			orDash(Versions(r)), orDash(Strategies(r)), d, r.Result, r.Who)
	}
	return tw.Flush()
}

// Versions lists what each resource of r went from and to:
// "service.web v1 -> v2, service.api v3".
func Versions(r *records.Record) string {
	var out []string
	for _, c := range r.Changes {
		out = append(out, c.String())
	}
	return strings.Join(out, ", ")
}

// Strategies lists the strategies of r's changes, each once.
func Strategies(r *records.Record) string {
	var out []string
	for _, c := range r.Changes {
		if c.Strategy != "" && !slices.Contains(out, c.Strategy) {
			out = append(out, c.Strategy)
		}
	}
	return strings.Join(out, ", ")
}

// recordDuration is how long r's operation took, 0 while it runs.
func recordDuration(r *records.Record) time.Duration {
	if r.Ended.IsZero() {
		return 0
	}
	return r.Ended.Sub(r.Started)
}

// Record writes the record of a release: as markdown, as JSON, or only
// its incident report (an error when it has none).
func Record(w io.Writer, r *records.Record, asJSON, incident bool) error {
	switch {
	case incident:
		md := records.IncidentReport(r)
		if md == "" {
			return fmt.Errorf("release #%d has no incident report: its %s %s", r.Release, r.Operation, records.Summary(r))
		}
		_, err := io.WriteString(w, md)
		return err
	case asJSON:
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		enc.SetEscapeHTML(false)
		return enc.Encode(r)
	}
	_, err := io.WriteString(w, records.Markdown(r))
	return err
}

// SnapshotText writes a snapshot for people.
func SnapshotText(w io.Writer, st *state.State) error {
	fmt.Fprintf(w, "Release #%d of %s", st.Release, st.Project)
	if st.Env != "" {
		fmt.Fprintf(w, " (%s)", st.Env)
	}
	fmt.Fprintf(w, ", state serial %d, lineage %s, written %s\n", st.Serial, st.Lineage, st.UpdatedAt.Local().Format(time.RFC3339))
	names := make([]string, 0, len(st.Services))
	for n := range st.Services {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		svc := st.Services[n]
		fmt.Fprintf(w, "\n  service.%s  %s (%s)  %s since #%d\n", n, svc.Image, shortID(svc.ImageID), svc.Strategy, svc.Release)
		for _, c := range svc.Containers {
			fmt.Fprintf(w, "    %s  %s  %s\n", c.Name, c.HostAddr, c.Color)
		}
		if p := svc.Previous; p != nil {
			fmt.Fprintf(w, "    previous: #%d %s, %d containers %s\n", p.Release, p.Image, len(p.Containers), p.Kept)
		}
		if svc.RouteFile != "" {
			fmt.Fprintf(w, "    route: %s\n", svc.RouteFile)
		}
	}
	return nil
}

func shortID(id string) string {
	id = strings.TrimPrefix(id, "sha256:")
	if len(id) > 12 {
		return id[:12]
	}
	return id
}
