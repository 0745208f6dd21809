package nginx

import (
	"context"

	"github.com/slipwayhq/slipway/providers"
)

// LiveTable returns a dynamic route's live table as one line for people
// (see Live); an error wrapping ErrNoAdmin when the route is not live in
// dynamic mode.
func (n *Nginx) LiveTable(ctx context.Context, project, env, service string) (string, error) {
	lt, err := n.Live(ctx, project, env, service)
	if err != nil {
		return "", err
	}
	return lt.String(), nil
}

// Test runs nginx -t on the configuration the router reloads (Binary,
// Prefix and Conf) and returns its output; it changes nothing.
func (n *Nginx) Test(ctx context.Context) (string, error) {
	r := &Reload{Binary: n.opts.Binary, Prefix: n.opts.Prefix, Conf: n.opts.Conf}
	return r.Test(ctx)
}

var (
	_ providers.SwitchPlanner   = (*Nginx)(nil)
	_ providers.LiveTableReader = (*Nginx)(nil)
	_ providers.ConfigTester    = (*Nginx)(nil)
)
