package nginx

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"syscall"
	"time"

	"github.com/slipwayhq/slipway/internal/atomicfile"
	"github.com/slipwayhq/slipway/providers"
)

// adminTimeout bounds each request to an admin endpoint.
const adminTimeout = 5 * time.Second

// SwitchPlan says how Apply would make a spec live: Mode is "dynamic"
// when the change goes live over the admin endpoint without a reload.
type SwitchPlan = providers.SwitchPlan

// PlanSwitch says how Apply would make spec live now: it renders spec and,
// in dynamic mode, asks the route's admin endpoint which shape nginx has
// loaded. It changes nothing. The answer holds until nginx's configuration
// changes.
func (n *Nginx) PlanSwitch(ctx context.Context, spec providers.RouteSpec) (SwitchPlan, error) {
	mode := n.mode(ctx)
	if mode != SwitchDynamic {
		if _, err := render(spec, n.renderOptions(false)); err != nil {
			return SwitchPlan{}, err
		}
		return SwitchPlan{Mode: mode}, nil
	}
	r, err := render(spec, n.renderOptions(true))
	if err != nil {
		return SwitchPlan{}, err
	}
	lt, err := n.admin(spec.Project, spec.Env, spec.Service).get(ctx)
	switch {
	case errors.Is(err, ErrNoAdmin):
		return SwitchPlan{Mode: n.switcher.Name(), Reason: "nginx has not loaded this route with a live table yet"}, nil
	case err != nil:
		return SwitchPlan{Mode: n.switcher.Name(), Reason: "the route's admin endpoint failed: " + err.Error()}, nil
	case lt.Shape != r.shape:
		return SwitchPlan{Mode: n.switcher.Name(), Reason: "the route's shape changed (listen, server_name, location, TLS, timeouts or access log)"}, nil
	}
	return SwitchPlan{Mode: SwitchDynamic}, nil
}

// Live returns a dynamic route's table as nginx reports it, for status
// views. The error wraps ErrNoAdmin when the route has no admin endpoint
// (it is not live in dynamic mode).
func (n *Nginx) Live(ctx context.Context, project, env, service string) (LiveTable, error) {
	return n.admin(project, env, service).get(ctx)
}

func (n *Nginx) admin(project, env, service string) admin {
	return newAdmin(AdminSocket(n.opts.AdminDir, project, env, service), adminTimeout)
}

// applyDynamic makes r live in dynamic mode: over the admin endpoint when
// nginx has r's shape loaded, else through a reload.
func (n *Nginx) applyDynamic(ctx context.Context, spec providers.RouteSpec, r rendered, path string, prev []byte, mode fs.FileMode, probe probe) error {
	if err := ensureAdminDir(n.opts.AdminDir); err != nil {
		return fmt.Errorf("apply route %q: %w", path, err)
	}
	adm := n.admin(spec.Project, spec.Env, spec.Service)
	before, err := adm.get(ctx)
	if err == nil && before.Shape == r.shape {
		if bytes.Equal(prev, r.content) && before.Table.Equal(r.table) {
			if tag, _ := probe.get(ctx); tag == r.tag {
				return nil
			}
		}
		return n.switchLive(ctx, adm, before.Table, r, path, prev, mode, probe)
	}
	if cerr := context.Cause(ctx); cerr != nil {
		return fmt.Errorf("apply route %q: %w", path, cerr)
	}
	if errors.Is(err, syscall.ECONNREFUSED) {
		// A socket file nobody listens on, left by an nginx killed with
		// SIGKILL: the reload's bind would fail on it.
		if rerr := os.Remove(adm.socket); rerr != nil && !errors.Is(rerr, fs.ErrNotExist) {
			return fmt.Errorf("apply route %q: remove stale admin socket: %w", path, rerr)
		}
	}
	// A new shape, a route not loaded yet, or an endpoint that fails:
	// reload, then check the table nginx reports.
	verify := func(ctx context.Context) error {
		lt, err := adm.get(ctx)
		if err == nil && lt.Shape == r.shape && !lt.Table.Equal(r.table) {
			// A table set against an identical earlier load: replace it.
			if _, err = adm.put(ctx, r.table); err == nil {
				lt, err = adm.get(ctx)
			}
		}
		if err != nil {
			return fmt.Errorf("%w: %w", ErrNotConfirmed, err)
		}
		return checkLive(lt, r)
	}
	return n.applyReload(ctx, spec, r, path, prev, mode, probe, verify)
}

// checkLive fails, wrapping ErrNotConfirmed, unless lt is r's table on r's
// shape.
func checkLive(lt LiveTable, r rendered) error {
	if lt.Shape != r.shape {
		return fmt.Errorf("%w: nginx has shape %s loaded, want %s", ErrNotConfirmed, lt.Shape, r.shape)
	}
	if !lt.Table.Equal(r.table) {
		return fmt.Errorf("%w: the live table read back differs from the one set:\n  live: %s\n  want: %s", ErrNotConfirmed, lt.Table, r.table)
	}
	return nil
}

// switchLive writes r's file for the next start, sets its table over the
// admin endpoint, reads it back and confirms the new tag answers. On
// failure it restores prev and the table that was live before.
func (n *Nginx) switchLive(ctx context.Context, adm admin, before Table, r rendered, path string, prev []byte, mode fs.FileMode, probe probe) error {
	if !bytes.Equal(prev, r.content) {
		if err := writeRouteFile(path, r.content, mode); err != nil {
			return err
		}
	}
	fail := func(cause error) error {
		return n.restoreLive(ctx, adm, before, path, prev, mode, fmt.Errorf("switch route %q: %w", path, cause))
	}
	if _, err := adm.put(ctx, r.table); err != nil {
		return fail(err)
	}
	lt, err := adm.get(ctx)
	if err != nil {
		return fail(fmt.Errorf("%w: %w", ErrNotConfirmed, err))
	}
	if err := checkLive(lt, r); err != nil {
		return fail(err)
	}
	// Every request reads the shared table: no settle period is needed.
	if err := n.confirm(ctx, probe, r.tag, r.table.Release, 0, time.Time{}); err != nil {
		return fail(err)
	}
	return nil
}

// restoreLive puts prev back at path (removing path when prev is nil) and
// the table before back on the admin endpoint, and returns cause joined
// with any failure to do so. It runs even when ctx is cancelled.
func (n *Nginx) restoreLive(ctx context.Context, adm admin, before Table, path string, prev []byte, mode fs.FileMode, cause error) error {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*adminTimeout)
	defer cancel()
	errs := []error{cause}
	if prev == nil {
		if err := atomicfile.Remove(path); err != nil {
			errs = append(errs, fmt.Errorf("remove route file %q: %w", path, err))
		}
	} else if err := writeRouteFile(path, prev, mode); err != nil {
		errs = append(errs, fmt.Errorf("restore previous route file %q: %w", path, err))
	}
	if _, err := adm.put(ctx, before); err != nil {
		errs = append(errs, fmt.Errorf("restore previous live table: %w", err))
	}
	if len(errs) == 1 {
		return cause
	}
	return errors.Join(errs...)
}
