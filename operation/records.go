package operation

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/slipwayhq/slipway/state/local"
	"github.com/slipwayhq/slipway/state/records"
)

// records reads the records of the state namespace: all of them
// (history), or the one of Release, or its snapshot with State (show).
func (o *run) records() (Result, error) {
	if err := o.open(true); err != nil {
		return Result{}, err
	}
	if o.op.Kind == KindShow && o.op.State {
		st, err := o.backend.Snapshot(o.op.Release)
		if err != nil {
			return Result{}, refuse(fmt.Errorf("read snapshot of release #%d: %w", o.op.Release, err), "run 'slipway history' to list releases")
		}
		return Result{Snapshot: st}, nil
	}
	recs, err := records.List(o.backend.RecordsDir())
	if err != nil {
		return Result{}, refuse(fmt.Errorf("read records: %w", err), "")
	}
	if o.op.Kind == KindHistory {
		return Result{Records: recs}, nil
	}
	r := records.ForRelease(recs, o.op.Release)
	if r == nil {
		return Result{}, refuse(fmt.Errorf("no record of release #%d", o.op.Release), "run 'slipway history' to list releases; 'slipway show -state N' prints a snapshot")
	}
	return Result{Records: []*records.Record{r}}, nil
}

// forceUnlock clears the lock info a slipway that no longer runs left:
// the one with LockID, or, with Unreadable, info that does not parse.
func (o *run) forceUnlock() error {
	if err := o.open(true); err != nil {
		return err
	}
	var err error
	if o.op.Unreadable {
		err = o.backend.ForceUnlockUnreadable()
	} else {
		err = o.backend.ForceUnlock(o.op.LockID)
	}
	switch {
	case errors.Is(err, local.ErrLockInfoUnreadable):
		return refuse(err, "nothing was changed; if no slipway is running, clear it with 'slipway force-unlock -unreadable'")
	case o.op.Unreadable && errors.Is(err, local.ErrLockIDMismatch):
		return refuse(err, "nothing was changed; if no slipway is running, run 'slipway force-unlock' with the id it records")
	case err != nil:
		return refuse(err, "")
	}
	return nil
}

// resolve marks the dirty Migration of Database applied or pending, under
// the lock, and clears the state's mark of it.
func (o *run) resolve(ctx context.Context) error {
	if err := o.loadConfig(true); err != nil {
		return err
	}
	db := o.op.Database
	if db == "" {
		if len(o.cfg.Postgres) != 1 {
			return refuse(errors.New("say which database with -db NAME"), "")
		}
		db = o.cfg.Postgres[0].Name
	}
	if err := o.openBackend(); err != nil {
		return err
	}
	unlock, err := o.lock(ctx, KindResolve.String())
	if err != nil {
		return err
	}
	defer unlock()
	set, err := o.openWorld()
	if err != nil {
		return err
	}
	defer set.Close()
	pg := set.Databases[db]
	if pg == nil {
		return refuse(fmt.Errorf("no postgres block is named %q", db), "")
	}
	version, _, _ := strings.Cut(o.op.Migration, "_")
	if err := pg.Resolve(ctx, version, o.op.Applied); err != nil {
		return refuse(fmt.Errorf("resolve %s: %w", o.op.Migration, err), "")
	}
	st, err := o.readState()
	if err != nil {
		return err
	}
	if d := st.Databases[db]; d != nil && d.Dirty != "" {
		d.Dirty = ""
		if err := o.backend.Write(st); err != nil {
			return refuse(fmt.Errorf("write state: %w", err), "")
		}
	}
	return nil
}
