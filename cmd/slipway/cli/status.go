package cli

import (
	"github.com/slipwayhq/slipway/cmd/slipway/views"
	"github.com/slipwayhq/slipway/operation"
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
			res, err := operation.Run(c.Context, newOperation(s, c, operation.KindStatus), s.world)
			if err != nil {
				return err
			}
			st := res.Status
			// A degraded release exits 2 after its status is out.
			var degraded error
			if err := st.Err(); err != nil {
				degraded = fail(2, err, "a replica that exited is started again by 'slipway apply' ('slipway plan' shows it as drift); one in a restart loop needs its logs read (above)")
			}
			if c.Bool("json") {
				if err := views.StatusJSON(s.out, st); err != nil {
					return err
				}
				return degraded
			}
			views.StatusText(s.out, st)
			return degraded
		},
	}
}
