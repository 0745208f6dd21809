package views

import (
	"encoding/json"
	"fmt"
	"io"
	"text/tabwriter"

	"github.com/slipwayhq/slipway/operation"
)

// StatusJSON writes what status saw as one JSON document.
func StatusJSON(w io.Writer, s *operation.Status) error {
	st := s.State
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(map[string]any{"format_version": "1", "project": st.Project, "env": st.Env, "release": st.Release,
		"degraded": s.Degraded != "", "services": s.Services})
}

// StatusText writes what status saw for people: per service its image,
// release and color, the image id and repository digest it runs, its
// replicas (and what became of each one that does
// not serve, with its last log lines), its route and a table of its
// containers.
func StatusText(w io.Writer, s *operation.Status) {
	st := s.State
	if st.Release == 0 {
		fmt.Fprintf(w, "%s: no release applied yet.\n", s.Project)
		return
	}
	fmt.Fprintf(w, "%s release #%d (state serial %d)\n", st.Project, st.Release, st.Serial)
	for _, ss := range s.Services {
		fmt.Fprintf(w, "\nservice.%s  %s  release #%d", ss.Service, ss.Image, ss.Release)
		if ss.Color != "" {
			fmt.Fprintf(w, "  active color %s", ss.Color)
		}
		fmt.Fprintln(w)
		if ss.ImageID != "" {
			fmt.Fprintf(w, "  image %s", ss.ImageID)
			if ss.ImageDigest != "" {
				fmt.Fprintf(w, "  digest %s", ss.ImageDigest)
			}
			fmt.Fprintln(w)
		}
		health := "every replica serves"
		if ss.IsDegraded {
			health = "degraded"
		}
		fmt.Fprintf(w, "  replicas: %d of %d healthy (%s)\n", ss.Healthy, ss.Replicas, health)
		for _, d := range ss.Down {
			fmt.Fprintf(w, "  %s", operation.DescribeDown(d.Replica))
			if len(d.Logs) == 0 {
				fmt.Fprintln(w)
				continue
			}
			fmt.Fprintf(w, "; its last log lines:\n")
			for _, l := range d.Logs {
				fmt.Fprintf(w, "    %s\n", l)
			}
		}
		statusRoute(w, ss)
		tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "  CONTAINER\tSTATE\tHEALTH\tRESTARTS\tADDRESS\tCOLOR\tRELEASE")
		for _, c := range ss.Containers {
			fmt.Fprintf(tw, "  %s\t%s\t%s\t%d\t%s\t%s\t#%d\n", c.Name, c.State, orDash(c.Health), c.RestartCount, orDash(c.HostAddr), orDash(c.Color), c.Release)
		}
		tw.Flush()
	}
}

// statusRoute writes the service's route file and live table.
func statusRoute(w io.Writer, ss operation.ServiceStatus) {
	if ss.Route == nil {
		return
	}
	edited := ""
	if ss.Route.Edited() {
		edited = "  (edited outside slipway)"
	}
	fmt.Fprintf(w, "  nginx: %s routes release #%d%s (switch: %s)\n", ss.Route.Path, ss.Route.Release, edited, ss.Switch)
	if ss.Live != "" {
		fmt.Fprintf(w, "  live table: %s\n", ss.Live)
	}
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
