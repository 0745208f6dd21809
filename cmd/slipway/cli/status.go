package cli

import (
	"encoding/json"
	"fmt"
	"sort"
	"text/tabwriter"

	"github.com/slipwayhq/slipway/providers"
	"github.com/slipwayhq/slipway/providers/nginx"
	"github.com/urfave/cli/v2"
)

func statusCommand(s *streams) *cli.Command {
	return &cli.Command{
		Name:  "status",
		Usage: "show what runs now: containers and their health, active color, and where nginx routes",
		Description: `Example:
   slipway status
   slipway -env production status -json`,
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
			type svcStatus struct {
				Service    string                `json:"service"`
				Release    int                   `json:"release"`
				Image      string                `json:"image"`
				Color      string                `json:"color,omitempty"`
				Weights    map[string]int        `json:"weights,omitempty"`
				Route      *providers.RouteFile  `json:"route,omitempty"`
				Switch     string                `json:"switch,omitempty"`
				Live       string                `json:"live_table,omitempty"`
				Containers []providers.Container `json:"containers"`
			}
			var out []svcStatus
			names := make([]string, 0, len(st.Services))
			for n := range st.Services {
				names = append(names, n)
			}
			sort.Strings(names)
			for _, n := range names {
				svc := st.Services[n]
				ss := svcStatus{Service: n, Release: svc.Release, Image: svc.Image, Color: svc.Color, Weights: svc.Weights, Containers: []providers.Container{}}
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
				if n, ok := set.Router.(*nginx.Nginx); ok && ss.Route != nil {
					ss.Switch = n.Mode()
					if lt, err := n.Live(c.Context, st.Project, se.env, ss.Service); err == nil {
						ss.Live = lt.String()
					}
				}
				out = append(out, ss)
			}
			if c.Bool("json") {
				enc := json.NewEncoder(s.out)
				enc.SetIndent("", "  ")
				return enc.Encode(map[string]any{"format_version": "1", "project": st.Project, "env": st.Env, "release": st.Release, "services": out})
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
				fmt.Fprintln(tw, "  CONTAINER\tSTATE\tHEALTH\tADDRESS\tCOLOR\tRELEASE")
				for _, c := range ss.Containers {
					fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\t%s\t#%d\n", c.Name, c.State, orDash(c.Health), orDash(c.HostAddr), orDash(c.Color), c.Release)
				}
				tw.Flush()
			}
			return nil
		},
	}
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
