package cli

import (
	"time"

	"github.com/slipwayhq/slipway/operation"
	"github.com/urfave/cli/v2"
)

func watchCommand(s *streams) *cli.Command {
	return &cli.Command{
		Name:  "watch",
		Usage: "keep analysing the current release, and roll it back on a fail verdict",
		Description: `Example:
   slipway watch                 # for each service's watch { duration }
   slipway watch -duration 10m   # for another duration

Each service with a watch block (or, with -duration, a canary analysis) is
judged window by window on its live version alone: after a release there is
no stable version to compare with, so only an analysis' absolute levels
(warn, fail, warn_for, min_requests) apply, and stages switch to other
analyses as time goes on. The watch holds no lock while it analyses. On a
fail verdict it takes the lock and, if the release it watched is still the
current one, rolls back to the release before it as 'slipway rollback
-auto-approve' would (exit 2); if another release happened meanwhile, it
changes nothing and says so (exit 1). Exit 0 when the watch ends without a
fail.

While it runs, the watch also looks at the live release's replicas every
2s: when fewer serve than the release runs (a container exited, restarts
in a loop, fails its HEALTHCHECK, or answers on another port than nginx
sends requests to) it says so, with each replica's state and last log
lines, and sends the "degraded" event to the notify blocks; when they all
serve again, "recovered". It does not look while an apply, rollback or
paused canary holds a journal. This changes neither the verdict nor the
exit code.`,
		Flags: append(varFlags(),
			&cli.DurationFlag{Name: "lock-timeout", Usage: "on a fail verdict, wait up to `DURATION` for the state lock to roll back", Value: 5 * time.Minute},
			&cli.DurationFlag{Name: "duration", Usage: "watch for `DURATION` instead of each watch block's duration"},
			&cli.BoolFlag{Name: "no-color", Usage: "never colour the output"},
		),
		Action: func(c *cli.Context) error {
			op := newOperation(s, c, operation.KindWatch)
			op.Duration = c.Duration("duration")
			_, err := operation.Run(c.Context, op, s.world)
			return err
		},
	}
}
