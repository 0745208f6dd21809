package reliability

import (
	"context"
	"fmt"
	"maps"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/slipwayhq/slipway/executor/prober"
	"github.com/slipwayhq/slipway/internal/testenv"
	"github.com/slipwayhq/slipway/state/local"
)

// A crashSweep is one strategy's release, killed at each of its fault
// points in turn.
type crashSweep struct {
	name     string
	hcl      string
	postgres bool
	// sample is how many points the sampled run (make test) kills; 0
	// leaves the strategy to make reliability.
	sample int
	// args are added to every apply (hotfix needs a reason).
	args []string
	// failing releases a version whose health gate fails, so that the
	// kills land in the undo of a failed release too.
	failing bool
	// dynamic switches traffic through nginx's Lua module (skipped when
	// the module is missing).
	dynamic bool
	// downtime marks hotfix, which stops the old containers before the
	// new ones start by design: its failed requests are reported, not
	// required to be 0.
	downtime bool
}

const routeHCL = `
nginx {
  listen_host = "127.0.0.1"
  config_dir  = "${NGINX_CONF_DIR}"
  access_log  = "${NGINX_ACCESS_LOG}"
  prefix      = "${NGINX_PREFIX}"
  conf        = "${NGINX_CONF}"
  switch      = "${SWITCH}"
  admin_dir   = "${ADMIN_DIR}"
}

variable "version" {
  type    = string
  default = "v1"
}
`

func serviceHCL(strategy string) string {
	return `project "${PROJECT}" {}
` + routeHCL + `
service "web" {
  image    = "slipway-demo:${var.version}"
  port     = 8080
  replicas = 2
  health {
    interval = "200ms"
    deadline = "1m"
  }
  route {
    listen = ${PORT}
  }
  ` + strategy + `
}
`
}

var crashSweeps = []crashSweep{
	{name: "blue_green", hcl: serviceHCL("blue_green {}"), sample: 3},
	{name: "hotfix", hcl: serviceHCL("hotfix {}"), args: []string{"-reason", "crash sweep"}, downtime: true},
	{name: "canary", hcl: serviceHCL(`canary {
    steps = [25, 100]
    pause = "1s"
  }`)},
	// The canary of issue 14: killed while its candidate has a share,
	// with traffic switched through nginx's live table.
	{name: "canary_dynamic", dynamic: true, hcl: serviceHCL(`canary {
    steps = [25, 50, 100]
    pause = "1s"
  }`)},
	{name: "rolling", hcl: serviceHCL(`rolling {
    batch_size = 1
    drain      = "1s"
  }`)},
	{name: "blue_green_undo", failing: true, hcl: serviceHCL("blue_green {}") + `
# v2 fails its post-deploy check, after traffic moved: the release is undone.
check "not_v2" {
  phase = "post"
  command {
    argv = ["test", var.version, "!=", "v2"]
  }
}
`},
	{name: "migrations", postgres: true, sample: 1, hcl: serviceHCL("blue_green {}") + `
postgres "main" {
  url        = env("DATABASE_URL")
  migrations = "migrations"
  backup {
    dir  = "backups"
    keep = 3
  }
}
`},
}

// TestCrashSweep kills an apply with SIGKILL at each fault point of each
// strategy's release (a sample of them outside make reliability). After
// each kill: the state file parses, the lock is free at once, and plan
// names the interrupted apply and its finished steps. Then the same
// situation is made twice: once `slipway apply` resumes it and once
// `slipway rollback` undoes it, and both must converge: nginx serves
// exactly the version the state names, no container of the project is
// unaccounted for, the journal is gone, plan shows no changes, and no
// migration ran twice. A retrying load runs through nginx from the start
// of the killed apply to the end of the recovery: no request may fail
// while the apply ran and lay dead (nginx kept routing to running
// containers), nor during the recovery; hotfix, which accepts downtime,
// only reports its counts.
func TestCrashSweep(t *testing.T) {
	seed := uint64(time.Now().UnixNano())
	if s := os.Getenv("SLIPWAY_CRASH_SEED"); s != "" {
		var err error
		if seed, err = strconv.ParseUint(s, 10, 64); err != nil {
			t.Fatalf("SLIPWAY_CRASH_SEED: %v", err)
		}
	}
	t.Logf("kill points sampled with SLIPWAY_CRASH_SEED=%d", seed)
	for _, sw := range crashSweeps {
		t.Run(sw.name, func(t *testing.T) {
			if !full() && sw.sample == 0 {
				t.Skip("the full sweep runs under make reliability (SLIPWAY_RELIABILITY=1)")
			}
			runSweep(t, sw, seed)
		})
	}
}

func runSweep(t *testing.T, sw crashSweep, seed uint64) {
	if sw.dynamic {
		testenv.Require(t, "nginx-lua", testenv.LuaAvailable())
	}
	w := newWorld(t, sw.hcl, worldOpts{postgres: sw.postgres, lua: sw.dynamic})
	c := &crasher{w: w, sw: sw, recovery: map[string]*tally{"apply": {}, "rollback": {}}}
	trace := filepath.Join(w.dir, "trace")
	if sw.failing {
		// v2 always fails after its traffic moved: a traced failing
		// release lists the points of its undo too.
		w.must(0, c.apply("v1")...)
		if r := w.run([]string{"SLIPWAY_FAULT_TRACE=" + trace}, c.apply("v2")...); r.code != 2 {
			t.Fatalf("traced failing release:\n%s", r)
		}
	} else {
		for _, v := range []string{"v1", "v2"} {
			c.addMigration()
			w.must(0, c.apply(v)...)
			c.converged(v, true)
		}
		// A release in the steady state (one before it, one before
		// that) lists the fault points, in the order they are met.
		c.addMigration()
		if r := w.run([]string{"SLIPWAY_FAULT_TRACE=" + trace}, c.apply("v1")...); r.code != 0 {
			t.Fatalf("traced release:\n%s", r)
		}
	}
	c.converged("v1", true)
	points := readLines(t, trace)
	if len(points) == 0 {
		t.Fatal("the traced release met no fault point: is the binary built with -tags slipway_faults?")
	}
	chosen := make([]int, len(points))
	for i := range chosen {
		chosen[i] = i + 1
	}
	if !full() {
		chosen = sample(chosen, sw.sample, seed^hash(sw.name))
	}
	if s := os.Getenv("SLIPWAY_CRASH_POINTS"); s != "" {
		// Reproduce given kills: SLIPWAY_CRASH_POINTS=3,17 kills at the
		// 3rd and 17th points met.
		chosen = nil
		for _, f := range strings.Split(s, ",") {
			n, err := strconv.Atoi(strings.TrimSpace(f))
			if err != nil || n < 1 {
				t.Fatalf("SLIPWAY_CRASH_POINTS: %q is not a point number", f)
			}
			chosen = append(chosen, n)
		}
	}
	t.Logf("%s: %d fault points in a release: %s", sw.name, len(points), strings.Join(points, " "))

	live := "v1"
	killed, recovered := map[string]bool{}, 0
	for _, n := range chosen {
		for _, how := range []string{"apply", "rollback"} {
			var at string
			live, at = c.crash(n, live, how)
			if at != "" {
				killed[at] = true
				recovered++
			}
		}
	}
	t.Logf("%s: killed at %d distinct points (%d kills), %d recovered: %s", sw.name, len(killed), recovered, recovered, strings.Join(slices.Sorted(maps.Keys(killed)), " "))
	t.Logf("%s: retrying load, failed requests: while killed %s; in recovery by apply %s, by rollback %s",
		sw.name, c.killed, c.recovery["apply"], c.recovery["rollback"])
	if len(killed) == 0 {
		t.Fatal("no release was killed")
	}
}

// tally counts the requests of a load over some windows.
type tally struct {
	requests, failed int
}

// add counts the requests between two snapshots of a load and returns
// how many of them failed.
func (t *tally) add(from, to prober.Counts) int {
	failed := to.Failures() - from.Failures()
	t.requests += to.Requests - from.Requests
	t.failed += failed
	return failed
}

// failures says how the requests between two snapshots of a load failed.
func failures(from, to prober.Counts) string {
	return fmt.Sprintf("%d non-2xx, %d transport errors; errors so far: %v", to.Non2xx-from.Non2xx, to.TransportErrors-from.TransportErrors, to.Errors)
}

func (t tally) String() string {
	return fmt.Sprintf("%d of %d", t.failed, t.requests)
}

func readLines(t *testing.T, path string) []string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return strings.Fields(string(b))
}

// storePoints are the fault points after the executor, where the CLI
// stores what it returned: a kill there leaves the new release in the
// state and the journal not yet cleared.
var storePoints = map[string]bool{"after-state-write": true, "after-snapshot-write": true}

// crasher kills and recovers releases of one world.
type crasher struct {
	w          *world
	sw         crashSweep
	migrations int
	// killed counts the load from the start of each killed apply to its
	// recovery; recovery counts it during the recoveries, by how.
	killed   tally
	recovery map[string]*tally
}

// loadRate is the retrying load's requests per second, the issue's.
const loadRate = 200

// startLoad starts a retrying keep-alive load through nginx.
func (c *crasher) startLoad() *prober.Load {
	return prober.Start(context.Background(), prober.Options{URL: fmt.Sprintf("http://127.0.0.1:%d/", c.w.port),
		Rate: loadRate, Workers: 4, Mode: prober.Retrying})
}

func (c *crasher) apply(version string) []string {
	return append([]string{"apply", "-auto-approve", "-var", "version=" + version}, c.sw.args...)
}

// addMigration adds the next migration file: it fails if it runs twice
// (its table exists) and counts its runs in a table of its own.
func (c *crasher) addMigration() {
	if !c.sw.postgres {
		return
	}
	c.migrations++
	n := fmt.Sprintf("%04d", c.migrations)
	c.w.write(fmt.Sprintf("migrations/%s_step.sql", n), fmt.Sprintf(`CREATE TABLE IF NOT EXISTS runs (name text NOT NULL);
INSERT INTO runs (name) VALUES ('%s');
CREATE TABLE t%s (id int);
`, n, n))
}

// crash kills a release from live to the other version at the n-th fault
// point it meets, checks what is left, recovers it with how ("apply" or
// "rollback") and returns the version now live and the point it was killed
// at ("" when the release met fewer than n points and finished).
func (c *crasher) crash(n int, live, how string) (string, string) {
	w, t := c.w, c.w.t
	t.Helper()
	to := map[string]string{"v1": "v2", "v2": "v1"}[live]
	if c.sw.failing {
		to = "v2"
	}
	c.addMigration()
	before, err := w.readState()
	if err != nil {
		t.Fatal(err)
	}
	trace := filepath.Join(w.dir, "kill-trace")
	_ = os.Remove(trace)
	load := c.startLoad()
	defer load.Stop()
	start := load.Snapshot()
	r := w.run([]string{fmt.Sprintf("SLIPWAY_FAULT=#%d", n), "SLIPWAY_FAULT_TRACE=" + trace}, c.apply(to)...)
	if !r.killed {
		if c.sw.failing && r.code == 2 {
			t.Logf("point #%d (%s -> %s): this release met fewer points and was rolled back", n, live, to)
			c.converged(live, true)
			return live, ""
		}
		if r.code != 0 {
			t.Fatalf("point #%d: the release neither died there nor finished:\n%s", n, r)
		}
		t.Logf("point #%d (%s -> %s): this release met fewer points and finished", n, live, to)
		c.converged(to, true)
		return to, ""
	}
	met := readLines(t, trace)
	point := met[len(met)-1]
	where := fmt.Sprintf("killed at #%d %s (%s -> %s), then %s", n, point, live, to, how)

	// What a kill leaves: a state file that parses (still the previous
	// release), a free lock, and a journal the plan explains.
	st, err := w.readState()
	if err != nil {
		t.Fatalf("%s: the state does not parse: %v", where, err)
	}
	// Only a kill after the executor finished (the CLI storing its
	// result) leaves the new release in the state.
	completed := st.Serial != before.Serial || st.Release != before.Release
	if completed && (st.Release != before.Release+1 || !storePoints[point]) {
		t.Fatalf("%s: the state moved from serial %d release %d to %d, %d", where, before.Serial, before.Release, st.Serial, st.Release)
	}
	if err := w.lockAtOnce(); err != nil {
		t.Fatalf("%s: the lock is not free at once: %v", where, err)
	}
	j, err := w.readJournal()
	if err != nil || j == nil {
		t.Fatalf("%s: no journal was kept (%v)", where, err)
	}
	p := w.plan(append([]string{"-var", "version=" + to}, c.sw.args...)...)
	if p.Interrupted == nil || p.Interrupted.OperationID != j.OperationID {
		t.Fatalf("%s: plan does not name the interrupted apply %s: %+v\n%s", where, j.OperationID, p.Interrupted, p.raw)
	}
	if got, want := len(p.Interrupted.Finished), len(j.Finished()); got != want {
		t.Fatalf("%s: plan names %d finished steps, the journal %d: %v", where, got, want, p.Interrupted.Finished)
	}
	text := w.must(0, append([]string{"plan", "-var", "version=" + to}, c.sw.args...)...)
	if !strings.Contains(text.stdout, "Interrupted") || !strings.Contains(text.stdout, j.OperationID) {
		t.Fatalf("%s: the text plan does not explain the interrupted apply:\n%s", where, text.stdout)
	}

	beforeRecovery := load.Snapshot()
	if failed := c.killed.add(start, beforeRecovery); failed > 0 && !c.sw.downtime {
		t.Errorf("%s: %d requests failed while the apply ran and lay dead (%s)", where, failed, failures(start, beforeRecovery))
	}
	want := to
	switch how {
	case "apply":
		r := w.run(nil, c.apply(to)...)
		switch {
		case c.sw.failing && !completed:
			// Resuming a release that cannot pass its health gate
			// fails again, and rolls back to what was live.
			if r.code != 2 {
				t.Fatalf("%s: the resumed failing release did not roll back (exit 2):\n%s", where, r)
			}
			want = live
		case r.code != 0:
			t.Fatalf("%s: resume failed:\n%s", where, r)
		}
	case "rollback":
		if r := w.run(nil, "rollback", "-auto-approve"); r.code != 0 {
			t.Fatalf("%s: rollback failed:\n%s", where, r)
		}
		want = live
		if completed {
			// The release was finished and stored: it is the one
			// rollback returns to after an interruption.
			want = to
		}
	}
	end := load.Stop()
	if failed := c.recovery[how].add(beforeRecovery, end); failed > 0 && !c.sw.downtime {
		t.Errorf("%s: %d requests failed during the recovery (%s)", where, failed, failures(beforeRecovery, end))
	}
	c.converged(want, how == "apply")
	return want, point
}

// converged checks that the world settled on version: the state names
// it, nginx serves only it, every container is accounted for, no journal
// is left, plan has nothing to do, and each migration ran once (all of
// them when allApplied).
func (c *crasher) converged(version string, allApplied bool) {
	w, t := c.w, c.w.t
	t.Helper()
	st, err := w.readState()
	if err != nil {
		t.Fatalf("state: %v", err)
	}
	svc := st.Services["web"]
	if svc == nil || svc.Version != version {
		t.Fatalf("the state does not name %s as live: %+v", version, svc)
	}
	if got := w.served(10); got[version] != 10 {
		t.Fatalf("nginx does not serve exactly %s: %v", version, got)
	}
	if o := orphans(st, w.containers()); len(o) > 0 {
		t.Fatalf("containers the state does not account for: %v", o)
	}
	if j, err := w.readJournal(); err != nil || j != nil {
		t.Fatalf("a journal is left after recovery (%v): %+v", err, j)
	}
	// Nothing is lost: the live release has its snapshot, for a later
	// rollback to return to.
	if b, err := local.Open(w.stateDir(), ""); err != nil {
		t.Fatal(err)
	} else if _, err := b.Snapshot(st.Release); err != nil {
		t.Fatalf("release #%d has no snapshot: %v", st.Release, err)
	}
	p := w.plan(append([]string{"-var", "version=" + version}, c.sw.args...)...)
	if p.Interrupted != nil {
		t.Fatalf("plan still names an interrupted apply: %+v", p.Interrupted)
	}
	if p.Changed && (allApplied || !c.sw.postgres) {
		t.Fatalf("plan still has changes after recovery to %s", version)
	}
	if c.sw.postgres {
		c.migrationsOnce(allApplied)
	}
}

// migrationsOnce checks that no migration ran twice and, when all, that
// every migration file ran.
func (c *crasher) migrationsOnce(all bool) {
	t := c.w.t
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, c.w.pg.URL())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	rows, err := conn.Query(ctx, `SELECT name, count(*) FROM runs GROUP BY name ORDER BY name`)
	if err != nil {
		t.Fatal(err)
	}
	runs := map[string]int{}
	for rows.Next() {
		var name string
		var n int
		if err := rows.Scan(&name, &n); err != nil {
			t.Fatal(err)
		}
		runs[name] = n
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	for name, n := range runs {
		if n != 1 {
			t.Fatalf("migration %s ran %d times", name, n)
		}
	}
	if all && len(runs) != c.migrations {
		t.Fatalf("%d of %d migrations ran: %v", len(runs), c.migrations, runs)
	}
}

// sample picks n of points with a seeded generator, in their order.
func sample[T any](points []T, n int, seed uint64) []T {
	if n >= len(points) {
		return points
	}
	r := rand.New(rand.NewPCG(seed, 0x5117))
	idx := r.Perm(len(points))[:n]
	sort.Ints(idx)
	out := make([]T, n)
	for i, k := range idx {
		out[i] = points[k]
	}
	return out
}

func hash(s string) uint64 {
	var h uint64 = 14695981039346656037
	for i := 0; i < len(s); i++ {
		h ^= uint64(s[i])
		h *= 1099511628211
	}
	return h
}
