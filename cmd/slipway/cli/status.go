package cli

import (
	"encoding/json"
	"fmt"
	"sort"
	"text/tabwriter"

	"github.com/slipwayhq/slipway/planner"
	"github.com/slipwayhq/slipway/providers"
	"github.com/urfave/cli/v2"
)

func statusCommand(s *streams) *cli.Command {
	return &cli.Command{
		Name:  "status",
		Usage: "show what runs now: containers and their health, active color, and where nginx routes",
		Description: `Example:
   slipway status
   slipway -env production status -json

A service whose live release has fewer healthy replicas than it runs (a
container exited, restarts in a loop, fails its HEALTHCHECK, or is gone)
is degraded: status names each such replica with its state, exit code,
restart count and last log lines, and exits 2, so a cron job or a monitor
can act on it. Exit 0 when every replica serves (or nothing is released
yet), 1 on an error.`,
		Flags: append(varFlags(), &cli.BoolFlag{Name: "json", Usage: "print as JSON"}),
		Action: func(c *cli.Context) error {
			se := newSession(s, c)
			if err := se.loadConfig(); err != nil {
				return err
			}
			if err := se.openBackend(); err != nil {
				return err
			}
			st, err := se.readState()
			if err != nil {
				return err
			}
			set, closeProv, err := se.providers()
			if err != nil {
				return err
			}
			defer closeProv()
			obs, err := se.observe(c.Context, set)
			if err != nil {
				return err
			}
			type downReplica struct {
				Name         string   `json:"name"`
				State        string   `json:"state"`
				Health       string   `json:"health,omitempty"`
				ExitCode     int      `json:"exit_code"`
				RestartCount int      `json:"restart_count"`
				Looping      bool     `json:"restart_loop"`
				Logs         []string `json:"logs,omitempty"`
			}
			type svcStatus struct {
				Service    string                `json:"service"`
				Release    int                   `json:"release"`
				Image      string                `json:"image"`
				Color      string                `json:"color,omitempty"`
				Weights    map[string]int        `json:"weights,omitempty"`
				Route      *providers.RouteFile  `json:"route,omitempty"`
				Switch     string                `json:"switch,omitempty"`
				Live       string                `json:"live_table,omitempty"`
				Replicas   int                   `json:"replicas"`
				Healthy    int                   `json:"healthy"`
				Degraded   bool                  `json:"degraded"`
				Down       []downReplica         `json:"down,omitempty"`
				Containers []providers.Container `json:"containers"`
			}
			reps := planner.Replicas(st, obs)
			logs := se.downLogs(c.Context, set.Runtime, reps)
			byService := map[string]planner.ServiceReplicas{}
			for _, r := range reps {
				byService[r.Service] = r
			}
			var out []svcStatus
			names := make([]string, 0, len(st.Services))
			for n := range st.Services {
				names = append(names, n)
			}
			sort.Strings(names)
			for _, n := range names {
				svc := st.Services[n]
				r := byService[n]
				ss := svcStatus{Service: n, Release: svc.Release, Image: svc.Image, Color: svc.Color, Weights: svc.Weights, Containers: []providers.Container{},
					Replicas: r.Declared, Healthy: r.Healthy, Degraded: r.Degraded()}
				for _, d := range r.Down {
					ss.Down = append(ss.Down, downReplica{Name: d.Name, State: d.State, Health: d.Health, ExitCode: d.ExitCode,
						RestartCount: d.RestartCount, Looping: d.Looping(), Logs: logs[d.Name]})
				}
				for _, c := range obs.Containers {
					if c.Service == n {
						ss.Containers = append(ss.Containers, c)
					}
				}
				for i, r := range obs.Routes {
					if r.Service == n {
						ss.Route = &obs.Routes[i]
					}
				}
				if set.Router != nil && ss.Route != nil {
					ss.Switch = set.Router.Mode()
					if lt, ok := set.Router.(providers.LiveTableReader); ok {
						if live, err := lt.LiveTable(c.Context, st.Project, se.env, ss.Service); err == nil {
							ss.Live = live
						}
					}
				}
				out = append(out, ss)
			}
			// A degraded release exits 2 after its status is out.
			var degraded error
			if sum := degradedSummary(reps); sum != "" && st.Release > 0 {
				degraded = fail(2, fmt.Errorf("release #%d is degraded: %s", st.Release, sum),
					"a replica that exited is started again by 'slipway apply' ('slipway plan' shows it as drift); one in a restart loop needs its logs read (above)")
			}
			if c.Bool("json") {
				enc := json.NewEncoder(s.out)
				enc.SetIndent("", "  ")
				if err := enc.Encode(map[string]any{"format_version": "1", "project": st.Project, "env": st.Env, "release": st.Release, "degraded": degraded != nil, "services": out}); err != nil {
					return err
				}
				return degraded
			}
			if st.Release == 0 {
				fmt.Fprintf(s.out, "%s: no release applied yet.\n", se.cfg.Project.Name)
				return nil
			}
			fmt.Fprintf(s.out, "%s release #%d (state serial %d)\n", st.Project, st.Release, st.Serial)
			for _, ss := range out {
				fmt.Fprintf(s.out, "\nservice.%s  %s  release #%d", ss.Service, ss.Image, ss.Release)
				if ss.Color != "" {
					fmt.Fprintf(s.out, "  active color %s", ss.Color)
				}
				fmt.Fprintln(s.out)
				health := "every replica serves"
				if ss.Degraded {
					health = "degraded"
				}
				fmt.Fprintf(s.out, "  replicas: %d of %d healthy (%s)\n", ss.Healthy, ss.Replicas, health)
				for _, d := range byService[ss.Service].Down {
					fmt.Fprintf(s.out, "  %s", describeDown(d))
					if lines := logs[d.Name]; len(lines) > 0 {
						fmt.Fprintf(s.out, "; its last log lines:\n")
						for _, l := range lines {
							fmt.Fprintf(s.out, "    %s\n", l)
						}
					} else {
						fmt.Fprintln(s.out)
					}
				}
				if ss.Route != nil {
					edited := ""
					if ss.Route.Edited() {
						edited = "  (edited outside slipway)"
					}
					fmt.Fprintf(s.out, "  nginx: %s routes release #%d%s (switch: %s)\n", ss.Route.Path, ss.Route.Release, edited, ss.Switch)
					if ss.Live != "" {
						fmt.Fprintf(s.out, "  live table: %s\n", ss.Live)
					}
				}
				tw := tabwriter.NewWriter(s.out, 0, 4, 2, ' ', 0)
				fmt.Fprintln(tw, "  CONTAINER\tSTATE\tHEALTH\tRESTARTS\tADDRESS\tCOLOR\tRELEASE")
				for _, c := range ss.Containers {
					fmt.Fprintf(tw, "  %s\t%s\t%s\t%d\t%s\t%s\t#%d\n", c.Name, c.State, orDash(c.Health), c.RestartCount, orDash(c.HostAddr), orDash(c.Color), c.Release)
				}
				tw.Flush()
			}
			return degraded
		},
	}
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
