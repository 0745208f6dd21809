package cli

import (
	"bytes"
	"errors"
	"fmt"
	"path/filepath"

	"github.com/slipwayhq/slipway/planner"
	"github.com/slipwayhq/slipway/planner/plan"
	"github.com/slipwayhq/slipway/planner/planfile"
	"github.com/slipwayhq/slipway/state"
	"github.com/slipwayhq/slipway/state/local"
	"github.com/slipwayhq/slipway/state/records"
	"github.com/urfave/cli/v2"
)

func promoteCommand(s *streams) *cli.Command {
	return &cli.Command{
		Name:  "promote",
		Usage: "continue a release paused at an approval gate",
		Description: `Example:
   slipway apply -var version=1.3.0   # exits 4 at the approval gate
   slipway promote                    # continues from the gate`,
		Flags: append(append(varFlags(), lockFlags()...),
			&cli.BoolFlag{Name: "json", Usage: "stream one JSON event per line"},
			&cli.BoolFlag{Name: "no-color", Usage: "never colour the output"},
			&cli.BoolFlag{Name: "auto-approve", Usage: "pass later approval gates too"},
		),
		Action: func(c *cli.Context) error { return resumePaused(s, c, false) },
	}
}

func abortCommand(s *streams) *cli.Command {
	return &cli.Command{
		Name:  "abort",
		Usage: "undo a release paused at an approval gate: traffic back to stable, the candidate removed",
		Description: `Example:
   slipway abort`,
		Flags: append(append(varFlags(), lockFlags()...),
			&cli.BoolFlag{Name: "json", Usage: "stream one JSON event per line"},
			&cli.BoolFlag{Name: "no-color", Usage: "never colour the output"},
		),
		Action: func(c *cli.Context) error { return resumePaused(s, c, true) },
	}
}

// resumePaused continues (or aborts) the operation whose journal and plan
// an approval gate left in the state directory.
func resumePaused(s *streams, c *cli.Context, abort bool) error {
	se := newSession(s, c)
	fresh, done, err := se.makePlan(c.Context, map[bool]string{false: "promote", true: "abort"}[abort])
	if err != nil {
		return err
	}
	defer done()
	j, err := se.backend.ReadJournal()
	if err != nil {
		return fail(1, fmt.Errorf("read journal: %w", err), "")
	}
	if j == nil {
		return fail(1, errors.New("no release is paused: there is nothing to "+map[bool]string{false: "promote", true: "abort"}[abort]), "run 'slipway plan' to see the state of things")
	}
	p, err := planfile.Load(filepath.Join(se.backend.Dir(), local.JournalPlanFile))
	if err != nil {
		return fail(1, fmt.Errorf("the paused release's plan: %w", err), "run 'slipway rollback' to return to the last finished release")
	}
	if p.Lineage != fresh.Lineage || p.Serial != fresh.Serial {
		return fail(1, fmt.Errorf("the state changed since release #%d paused (serial %d, now %d)", p.Release, p.Serial, fresh.Serial), "run 'slipway rollback' to return to the last finished release")
	}
	secrets := planner.SecretHMACs(mustKey(se), se.cfg)
	for id, h := range p.Secrets {
		if secrets[id] != h {
			return fail(1, fmt.Errorf("the sensitive value %s is not the one release #%d was started with", id, p.Release), "give the same values as the paused apply, or run 'slipway abort' with them")
		}
	}
	planfile.Fill(p, se.cfg)
	se.resume = j
	se.abort = abort
	return se.execute(c.Context, p)
}

func mustKey(se *session) []byte {
	k, _ := se.backend.SecretKey()
	return k
}

// savePlanForResume keeps the plan beside the journal, so that promote and
// abort can continue exactly it.
func (se *session) savePlanForResume(p *plan.Plan) error {
	var buf bytes.Buffer
	if err := planfile.Write(&buf, p); err != nil {
		return err
	}
	_, err := se.backend.SaveJournalPlan(buf.Bytes())
	return err
}

// pausedRecord returns the record the paused operation j wrote, for the
// resumed operation's record to continue; nil when there is no paused
// operation or its record cannot be read (the new record then starts
// empty).
func pausedRecord(dir string, j *state.Journal) *records.Record {
	if j == nil {
		return nil
	}
	recs, err := records.List(dir)
	if err != nil {
		return nil
	}
	for _, r := range recs {
		if r.ID == j.OperationID {
			return r
		}
	}
	return nil
}
