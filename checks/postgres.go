package checks

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/slipwayhq/slipway/providers"
)

// postgresSpec is a postgres check on the postgres block named database:
// it answers (within max_latency when set); with no_pending, every
// migration file is applied, and none is dirty, changed since it was
// applied, or gone (the postgres provider's Pending); with replication, the
// database reports healthy replicas lagging at most max_replication_lag.
type postgresSpec struct {
	database          string
	maxLatency        time.Duration
	noPending         bool
	replication       bool
	maxReplicationLag time.Duration
}

func parsePostgres(a *attrs) runFunc {
	s := postgresSpec{
		database:          a.str("database", true),
		maxLatency:        a.duration("max_latency", 0),
		noPending:         a.boolean("no_pending", false),
		replication:       a.boolean("replication", false),
		maxReplicationLag: a.duration("max_replication_lag", 0),
	}
	if s.maxReplicationLag > 0 && !s.replication {
		a.errorf("max_replication_lag", "needs replication = true")
	}
	return s.run
}

func (s postgresSpec) run(ctx context.Context, env *Env) (string, error) {
	if env.Database == nil {
		return "", fmt.Errorf("%w: no database connection for postgres %q in this run", ErrUnavailable, s.database)
	}
	db, err := env.Database(s.database)
	if err != nil {
		return "", fmt.Errorf("open postgres %q: %w", s.database, err)
	}
	if c, ok := db.(io.Closer); ok {
		defer c.Close()
	}
	start := time.Now()
	if err := db.Ping(ctx); err != nil {
		return "", fmt.Errorf("connect to postgres %q: %w", s.database, err)
	}
	lat := time.Since(start)
	parts := []string{fmt.Sprintf("postgres %q answered in %s", s.database, round(lat))}
	ev := func() string { return strings.Join(parts, "; ") }
	if s.maxLatency > 0 && lat > s.maxLatency {
		return ev(), fmt.Errorf("latency %s is over max_latency %s", round(lat), s.maxLatency)
	}
	if s.noPending {
		ml, ok := db.(providers.MigrationLister)
		if !ok {
			return ev(), fmt.Errorf("%w: no migration list for postgres %q in this run", ErrUnavailable, s.database)
		}
		files, _, err := ml.Migrations()
		if err != nil {
			return ev(), fmt.Errorf("list migrations of postgres %q: %w", s.database, err)
		}
		applied, err := db.Applied(ctx)
		if err != nil {
			return ev(), fmt.Errorf("read applied migrations of postgres %q: %w", s.database, err)
		}
		pending, err := ml.Pending(files, applied)
		if err != nil {
			return ev(), fmt.Errorf("migrations of postgres %q: %w", s.database, err)
		}
		names := make([]string, len(pending))
		for i, m := range pending {
			names[i] = m.Name
		}
		parts = append(parts, fmt.Sprintf("%d migrations applied, %d pending", len(applied), len(pending)))
		if len(pending) > 0 {
			return ev(), fmt.Errorf("pending migrations: %s", listSome(names, 5))
		}
	}
	if s.replication {
		r, ok := db.(providers.Replicator)
		if !ok {
			return ev(), fmt.Errorf("%w: the database provider cannot report replication", ErrUnavailable)
		}
		rep, err := r.Replication(ctx, s.maxReplicationLag)
		if rep != "" {
			parts = append(parts, rep)
		}
		if err != nil {
			return ev(), fmt.Errorf("replication of postgres %q: %w", s.database, err)
		}
	}
	return ev(), nil
}
