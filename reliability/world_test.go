package reliability

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/slipwayhq/slipway/internal/testenv"
	"github.com/slipwayhq/slipway/state"
	"github.com/slipwayhq/slipway/state/local"
	"github.com/slipwayhq/slipway/state/statefile"
)

// full reports whether the long sweeps run (make reliability); otherwise
// each sweep runs a seeded sample.
func full() bool { return os.Getenv("SLIPWAY_RELIABILITY") == "1" }

var (
	buildOnce sync.Once
	buildBin  string
	buildErr  error
	repoRoot  string
)

// faultBinary builds slipway with -tags slipway_faults once per test
// binary and returns its path.
func faultBinary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		wd, err := os.Getwd()
		if err != nil {
			buildErr = err
			return
		}
		repoRoot, err = testenv.FindRepoRoot(wd)
		if err != nil {
			buildErr = err
			return
		}
		dir, err := os.MkdirTemp("", "slipway-faults-")
		if err != nil {
			buildErr = err
			return
		}
		buildBin = filepath.Join(dir, "slipway")
		cmd := exec.Command("go", "build", "-tags", "slipway_faults", "-o", buildBin, "./cmd/slipway")
		cmd.Dir = repoRoot
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := cmd.CombinedOutput(); err != nil {
			buildErr = fmt.Errorf("build the fault binary: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return buildBin
}

var imagesOnce sync.Once
var imagesErr error

// demoImages builds slipway-demo:v1 and :v2 once.
func demoImages(t *testing.T) {
	t.Helper()
	imagesOnce.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		defer cancel()
		for _, v := range []string{"v1", "v2"} {
			if imagesErr = testenv.BuildDemoImage(ctx, repoRoot, "slipway-demo:"+v, nil); imagesErr != nil {
				return
			}
		}
	})
	if imagesErr != nil {
		t.Fatal(imagesErr)
	}
}

// world is one project's private live world: a config directory, its
// state, a private nginx and, when asked, a private PostgreSQL.
type world struct {
	t       *testing.T
	bin     string
	dir     string
	project string
	port    int
	nginx   *testenv.Nginx
	pg      *testenv.Postgres
	env     []string
	// admin is a short directory for nginx's admin sockets (a unix
	// socket path holds at most 108 bytes).
	admin string
	// switchMode is how traffic moves: "dynamic" in a world with the Lua
	// module, else "reload"; it replaces ${SWITCH}.
	switchMode string
}

// worldOpts say what a world needs.
type worldOpts struct {
	postgres bool
	lua      bool // nginx with the Lua module, for dynamic switching
}

// newWorld starts nginx (and postgres) for a new project whose config is
// hcl, with ${PROJECT}, ${NGINX_*} and ${PORT} replaced.
func newWorld(t *testing.T, hcl string, o worldOpts) *world {
	t.Helper()
	requireAll(t, o.postgres)
	w := &world{t: t, bin: faultBinary(t), dir: t.TempDir(), project: "rel" + randomHex(4), switchMode: "reload"}
	if o.lua {
		w.switchMode = "dynamic"
	}
	demoImages(t)
	n, err := testenv.StartNginxWithOpts(filepath.Join(w.dir, "nginx"), testenv.StartNginxOpts{Lua: o.lua})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = n.Stop() })
	w.nginx = n
	if w.port, err = testenv.FreePort(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { removeProject(w.project) })
	w.env = []string{"HOME=" + filepath.Join(w.dir, "home"), "NO_COLOR=1"}
	if o.postgres {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		pg, err := testenv.StartPostgres(ctx)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = pg.Stop() })
		w.pg = pg
		w.env = append(w.env, "DATABASE_URL="+pg.URL())
		if err := os.MkdirAll(filepath.Join(w.dir, "migrations"), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	admin, err := os.MkdirTemp("", "reladm-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.RemoveAll(admin) })
	w.admin = filepath.Join(admin, "a")
	w.write("main.hcl", hcl)
	return w
}

// write puts a file in the config directory, expanding the world's names.
func (w *world) write(name, content string) {
	w.t.Helper()
	r := strings.NewReplacer("${PROJECT}", w.project, "${NGINX_CONF_DIR}", w.nginx.ConfDir,
		"${NGINX_ACCESS_LOG}", w.nginx.AccessLog, "${NGINX_PREFIX}", w.nginx.Prefix,
		"${NGINX_CONF}", w.nginx.Conf, "${PORT}", fmt.Sprint(w.port), "${ADMIN_DIR}", w.admin, "${SWITCH}", w.switchMode)
	p := filepath.Join(w.dir, name)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		w.t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(r.Replace(content)), 0o644); err != nil {
		w.t.Fatal(err)
	}
}

func requireAll(t *testing.T, pg bool) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	testenv.Require(t, "docker", testenv.DockerAvailable(ctx))
	testenv.Require(t, "nginx", testenv.NginxAvailable())
	if pg {
		testenv.Require(t, "postgres", testenv.PostgresAvailable())
	}
}

// result is how one slipway run ended.
type result struct {
	args           []string
	stdout, stderr string
	code           int  // exit code, -1 when killed
	killed         bool // died of SIGKILL
}

func (r result) String() string {
	return fmt.Sprintf("slipway %s: exit %d (killed %v)\nstdout:\n%s\nstderr:\n%s", strings.Join(r.args, " "), r.code, r.killed, r.stdout, r.stderr)
}

// run runs the fault binary in the config directory with extra
// environment variables (such as SLIPWAY_FAULT) and waits for it.
func (w *world) run(extra []string, args ...string) result {
	w.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, w.bin, args...)
	cmd.Dir = w.dir
	cmd.Env = append(append(cleanEnviron(), w.env...), extra...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	r := result{args: args, stdout: out.String(), stderr: errb.String()}
	var ee *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &ee):
		r.code = ee.ExitCode()
		if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() && ws.Signal() == syscall.SIGKILL {
			r.killed = true
		}
	default:
		w.t.Fatalf("run slipway %s: %v", strings.Join(args, " "), err)
	}
	return r
}

// must runs slipway and fails the test unless it exits with code.
func (w *world) must(code int, args ...string) result {
	w.t.Helper()
	r := w.run(nil, args...)
	if r.code != code || r.killed {
		w.t.Fatalf("want exit %d from\n%s", code, r)
	}
	return r
}

// cleanEnviron is the test's environment without slipway's own variables.
func cleanEnviron() []string {
	var out []string
	for _, kv := range os.Environ() {
		if strings.HasPrefix(kv, "SLIPWAY_") || strings.HasPrefix(kv, "DATABASE_URL=") || strings.HasPrefix(kv, "HOME=") {
			continue
		}
		out = append(out, kv)
	}
	return out
}

func (w *world) stateDir() string { return filepath.Join(w.dir, ".slipway") }

// readState parses the state file the way slipway does; a missing file is
// the empty state.
func (w *world) readState() (*state.State, error) {
	b, err := os.ReadFile(filepath.Join(w.stateDir(), local.StateFile))
	if errors.Is(err, os.ErrNotExist) {
		return state.New(w.project, ""), nil
	}
	if err != nil {
		return nil, err
	}
	return statefile.Read(bytes.NewReader(b))
}

// readJournal reads the journal left behind, nil when there is none.
func (w *world) readJournal() (*state.Journal, error) {
	b, err := local.Open(w.stateDir(), "")
	if err != nil {
		return nil, err
	}
	return b.ReadJournal()
}

// lockAtOnce takes and releases the state lock without waiting.
func (w *world) lockAtOnce() error {
	b, err := local.Open(w.stateDir(), "")
	if err != nil {
		return err
	}
	unlock, err := b.Lock(context.Background(), local.NewLockInfo("test"), 0)
	if err != nil {
		return err
	}
	return unlock()
}

var versionRE = regexp.MustCompile(`version=(\S+)`)

// served asks nginx n times and returns the versions that answered, with
// how many times each did; a failed request counts as "error".
func (w *world) served(n int) map[string]int {
	got := map[string]int{}
	c := &http.Client{Timeout: 5 * time.Second}
	for range n {
		resp, err := c.Get(fmt.Sprintf("http://127.0.0.1:%d/", w.port))
		if err != nil {
			got["error"]++
			continue
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		m := versionRE.FindSubmatch(b)
		if resp.StatusCode != 200 || m == nil {
			got[fmt.Sprintf("status %d", resp.StatusCode)]++
			continue
		}
		got[string(m[1])]++
	}
	return got
}

// containers lists the names of every container with the project's
// label, running or not.
func (w *world) containers() []string {
	w.t.Helper()
	out, err := exec.Command("docker", "ps", "-a", "--filter", "label=io.slipway.project="+w.project, "--format", "{{.Names}}").Output()
	if err != nil {
		w.t.Fatalf("docker ps: %v", err)
	}
	names := strings.Fields(string(out))
	sort.Strings(names)
	return names
}

// orphans returns the project's containers the state does not account
// for: neither serving nor kept as the previous release.
func orphans(st *state.State, live []string) []string {
	known := map[string]bool{}
	for _, svc := range st.Services {
		for _, c := range svc.Containers {
			known[c.Name] = true
		}
		if p := svc.Previous; p != nil && p.Kept != state.KeptRemoved {
			for _, c := range p.Containers {
				known[c.Name] = true
			}
		}
	}
	var out []string
	for _, n := range live {
		if !known[n] {
			out = append(out, n)
		}
	}
	return out
}

// planJSON is the part of `slipway plan -json` the sweeps read.
type planJSON struct {
	raw         string
	Changed     bool `json:"changed"`
	Interrupted *struct {
		OperationID string   `json:"operation_id"`
		Release     int      `json:"release"`
		Finished    []string `json:"finished"`
		Pending     []string `json:"pending"`
	} `json:"interrupted"`
}

func (w *world) plan(args ...string) planJSON {
	w.t.Helper()
	r := w.must(0, append([]string{"plan", "-json"}, args...)...)
	var doc struct {
		Plan planJSON `json:"plan"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &doc); err != nil {
		w.t.Fatalf("plan -json: %v\n%s", err, r.stdout)
	}
	doc.Plan.raw = r.stdout + r.stderr
	return doc.Plan
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// removeProject removes every container a project left.
func removeProject(project string) {
	out, err := exec.Command("docker", "ps", "-aq", "--filter", "label=io.slipway.project="+project).Output()
	if err != nil {
		return
	}
	if ids := strings.Fields(string(out)); len(ids) > 0 {
		_ = exec.Command("docker", append([]string{"rm", "-f"}, ids...)...).Run()
	}
}
