package bench

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/slipwayhq/slipway/internal/testenv"
	"github.com/slipwayhq/slipway/providers/postgres"
)

// migrationCount is how many small migrations one run applies.
const migrationCount = 200

// BenchmarkMigrateOverhead measures slipway's own time per migration:
// applying 200 small migrations through the postgres provider (advisory
// lock, checksums, one transaction and one migrations-table row each),
// minus the time the same SQL takes sent straight over one connection.
// Goal: under 5 ms per migration (median of -count runs).
func BenchmarkMigrateOverhead(b *testing.B) {
	testenv.Require(b, "postgres", testenv.PostgresAvailable())
	ctx := context.Background()
	pg, err := testenv.StartPostgres(ctx)
	if err != nil {
		b.Fatal(err)
	}
	defer pg.Stop()
	dir := b.TempDir()
	var stmts []string
	for i := 1; i <= migrationCount; i++ {
		sql := fmt.Sprintf("CREATE TABLE t%03d (id int PRIMARY KEY, v text);\nINSERT INTO t%03d VALUES (1, 'x');\n", i, i)
		stmts = append(stmts, sql)
		if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("%04d_t%03d.sql", i, i)), []byte(sql), 0o644); err != nil {
			b.Fatal(err)
		}
	}
	var overheads []float64
	for n := 0; n < b.N; n++ {
		db := fmt.Sprintf("bench%d", n)
		admin, err := pgx.Connect(ctx, pg.URL())
		if err != nil {
			b.Fatal(err)
		}
		for _, name := range []string{db + "_raw", db} {
			if _, err := admin.Exec(ctx, "CREATE DATABASE "+name); err != nil {
				b.Fatal(err)
			}
		}
		admin.Close(ctx)

		// The SQL itself, each migration in its own transaction.
		raw, err := pgx.Connect(ctx, urlFor(pg.URL(), db+"_raw"))
		if err != nil {
			b.Fatal(err)
		}
		t0 := time.Now()
		for _, s := range stmts {
			if _, err := raw.Exec(ctx, "BEGIN;\n"+s+"COMMIT;"); err != nil {
				b.Fatal(err)
			}
		}
		sqlTime := time.Since(t0)
		raw.Close(ctx)

		p, err := postgres.New(postgres.Options{URL: urlFor(pg.URL(), db)})
		if err != nil {
			b.Fatal(err)
		}
		files, err := postgres.LoadMigrations(dir)
		if err != nil {
			b.Fatal(err)
		}
		t1 := time.Now()
		applied, err := p.Migrate(ctx, files, 1, "bench")
		total := time.Since(t1)
		p.Close()
		if err != nil || len(applied) != migrationCount {
			b.Fatalf("applied %d of %d: %v", len(applied), migrationCount, err)
		}
		overheads = append(overheads, float64(total-sqlTime)/float64(time.Millisecond)/migrationCount)
	}
	sort.Float64s(overheads)
	b.ReportMetric(overheads[len(overheads)/2], "overhead-ms/migration")
}

// urlFor is url with its database replaced.
func urlFor(url, db string) string {
	cfg, err := pgx.ParseConfig(url)
	if err != nil {
		return url
	}
	return fmt.Sprintf("postgres://%s:%s@%s:%d/%s?sslmode=disable", cfg.User, cfg.Password, cfg.Host, cfg.Port, db)
}
