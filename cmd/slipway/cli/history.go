package cli

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/slipwayhq/slipway/planner/planfile"
	"github.com/slipwayhq/slipway/state"
	"github.com/slipwayhq/slipway/state/local"
	"github.com/slipwayhq/slipway/state/records"
	"github.com/slipwayhq/slipway/state/statefile"
	"github.com/urfave/cli/v2"
)

func historyCommand(s *streams) *cli.Command {
	return &cli.Command{
		Name:      "history",
		Usage:     "list the operations recorded for this project and environment",
		ArgsUsage: "[N]",
		Description: `Example:
   slipway history        # every operation
   slipway history -json 3  # the last three, as JSON`,
		Flags: []cli.Flag{&cli.BoolFlag{Name: "json", Usage: "print as JSON"}},
		Action: func(c *cli.Context) error {
			se := newSession(s, c)
			if err := se.loadConfig(); err != nil {
				return err
			}
			if err := se.openBackend(); err != nil {
				return err
			}
			recs, err := records.List(se.backend.RecordsDir())
			if err != nil {
				return fail(1, fmt.Errorf("read records: %w", err), "")
			}
			if n := c.Args().First(); n != "" {
				k, err := strconv.Atoi(n)
				if err != nil || k < 1 {
					return fail(1, fmt.Errorf("history takes a count of operations, got %q", n), "")
				}
				if len(recs) > k {
					recs = recs[len(recs)-k:]
				}
			}
			if c.Bool("json") {
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
					out = append(out, entry{r.Release, r.PriorRelease, r.TargetRelease, r.Operation, r.Started, duration(r).Milliseconds(),
						versions(r), strategies(r), changes, r.Result, r.Who, r.Reason, r.ID})
				}
				enc := json.NewEncoder(s.out)
				enc.SetIndent("", "  ")
				enc.SetEscapeHTML(false)
				return enc.Encode(out)
			}
			if len(recs) == 0 {
				fmt.Fprintln(s.out, "No operations recorded yet.")
				return nil
			}
			tw := tabwriter.NewWriter(s.out, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "RELEASE\tWHEN\tOPERATION\tVERSIONS\tSTRATEGY\tDURATION\tRESULT\tWHO")
			for _, r := range recs {
				op := r.Operation
				if r.TargetRelease > 0 {
					op = fmt.Sprintf("%s to #%d", op, r.TargetRelease)
				}
				d := "-"
				if !r.Ended.IsZero() {
					d = duration(r).Round(100 * time.Millisecond).String()
				}
				fmt.Fprintf(tw, "#%d\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", r.Release, r.Started.Local().Format("2006-01-02 15:04:05"), op,
					orDash(versions(r)), orDash(strategies(r)), d, r.Result, r.Who)
			}
			return tw.Flush()
		},
	}
}

// versions lists what each resource of r went from and to:
// "service.web v1 -> v2, service.api v3".
func versions(r *records.Record) string {
	var out []string
	for _, c := range r.Changes {
		out = append(out, c.String())
	}
	return strings.Join(out, ", ")
}

// strategies lists the strategies of r's changes, each once.
func strategies(r *records.Record) string {
	var out []string
	for _, c := range r.Changes {
		if c.Strategy != "" && !slices.Contains(out, c.Strategy) {
			out = append(out, c.Strategy)
		}
	}
	return strings.Join(out, ", ")
}

// duration is how long r's operation took, 0 while it runs.
func duration(r *records.Record) time.Duration {
	if r.Ended.IsZero() {
		return 0
	}
	return r.Ended.Sub(r.Started)
}

func showCommand(s *streams) *cli.Command {
	return &cli.Command{
		Name:      "show",
		Usage:     "print a saved plan file, or the record of a release (its snapshot with -state)",
		ArgsUsage: "PLANFILE | RELEASE",
		Description: `Example:
   slipway show release.plan
   slipway show 42            # the record of release #42: steps, checks, incident report
   slipway show -incident 42  # only its incident report
   slipway show -state -json 42`,
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "json", Usage: "print as JSON"},
			&cli.BoolFlag{Name: "markdown", Usage: "print a plan as markdown"},
			&cli.BoolFlag{Name: "state", Usage: "print the snapshot of the release instead of its record"},
			&cli.BoolFlag{Name: "incident", Usage: "print only the incident report of the release's record"},
			&cli.BoolFlag{Name: "no-color", Usage: "never colour the output"},
		},
		Action: func(c *cli.Context) error {
			se := newSession(s, c)
			arg := c.Args().First()
			if arg == "" {
				return fail(1, errors.New("show needs a plan file or a release number"), "run 'slipway history' to list releases")
			}
			if n, err := strconv.Atoi(arg); err == nil {
				if err := se.loadConfig(); err != nil {
					return err
				}
				if err := se.openBackend(); err != nil {
					return err
				}
				if c.Bool("state") {
					st, err := se.backend.Snapshot(n)
					if err != nil {
						return fail(1, fmt.Errorf("read snapshot of release #%d: %w", n, err), "run 'slipway history' to list releases")
					}
					if c.Bool("json") {
						return statefile.Write(s.out, st)
					}
					return snapshotText(s.out, st)
				}
				return showRecord(s.out, se.backend.RecordsDir(), n, c.Bool("json"), c.Bool("incident"))
			}
			if _, err := os.Stat(arg); err != nil {
				return fail(1, fmt.Errorf("%q is neither a release number nor a plan file", arg), "")
			}
			p, err := planfile.Load(arg)
			if err != nil {
				return fail(1, err, "")
			}
			return se.render(p)
		},
	}
}

func forceUnlockCommand(s *streams) *cli.Command {
	return &cli.Command{
		Name:      "force-unlock",
		Usage:     "clear the lock info left by a slipway that is no longer running",
		ArgsUsage: "LOCK_ID",
		Description: `Lock info that does not parse records no id to give: -unreadable clears
such info, and nothing else.

Example:
   slipway force-unlock 8f2c6a1e-...
   slipway force-unlock -unreadable`,
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "unreadable", Usage: "clear lock info that does not parse (it records no id to give)"},
		},
		Action: func(c *cli.Context) error {
			se := newSession(s, c)
			id := c.Args().First()
			unreadable := c.Bool("unreadable")
			switch {
			case id != "" && unreadable:
				return fail(1, errors.New("force-unlock takes a lock id or -unreadable, not both"), "give the lock id when the lock info records one")
			case id == "" && !unreadable:
				return fail(1, errors.New("force-unlock needs the lock id"), "the lock id is printed by the command that found the state locked")
			}
			if err := se.loadConfig(); err != nil {
				return err
			}
			if err := se.openBackend(); err != nil {
				return err
			}
			var err error
			if unreadable {
				err = se.backend.ForceUnlockUnreadable()
			} else {
				err = se.backend.ForceUnlock(id)
			}
			switch {
			case errors.Is(err, local.ErrLockInfoUnreadable):
				return fail(1, err, "nothing was changed; if no slipway is running, clear it with 'slipway force-unlock -unreadable'")
			case unreadable && errors.Is(err, local.ErrLockIDMismatch):
				return fail(1, err, "nothing was changed; if no slipway is running, run 'slipway force-unlock' with the id it records")
			case err != nil:
				return fail(1, err, "")
			}
			fmt.Fprintln(s.out, "The state lock was released.")
			return nil
		},
	}
}

func versionCommand(s *streams) *cli.Command {
	return &cli.Command{
		Name:  "version",
		Usage: "print slipway's version",
		Action: func(c *cli.Context) error {
			fmt.Fprintf(s.out, "slipway %s\n", Version)
			return nil
		},
	}
}

// showRecord prints the record of release n: as markdown, as JSON, or
// only its incident report.
func showRecord(w io.Writer, dir string, n int, asJSON, incident bool) error {
	recs, err := records.List(dir)
	if err != nil {
		return fail(1, fmt.Errorf("read records: %w", err), "")
	}
	r := records.ForRelease(recs, n)
	if r == nil {
		return fail(1, fmt.Errorf("no record of release #%d", n), "run 'slipway history' to list releases; 'slipway show -state N' prints a snapshot")
	}
	switch {
	case incident:
		md := records.IncidentReport(r)
		if md == "" {
			return fail(1, fmt.Errorf("release #%d has no incident report: its %s %s", n, r.Operation, records.Summary(r)), "")
		}
		_, err = io.WriteString(w, md)
	case asJSON:
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		enc.SetEscapeHTML(false)
		err = enc.Encode(r)
	default:
		_, err = io.WriteString(w, records.Markdown(r))
	}
	return err
}

// snapshotText prints a snapshot for people.
func snapshotText(w io.Writer, st *state.State) error {
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
		fmt.Fprintf(w, "\n  service.%s  %s (%s)  %s since #%d\n", n, svc.Image, short(svc.ImageID), svc.Strategy, svc.Release)
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

func short(id string) string {
	id = strings.TrimPrefix(id, "sha256:")
	if len(id) > 12 {
		return id[:12]
	}
	return id
}
