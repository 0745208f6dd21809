package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rogpeppe/go-internal/testscript"
	"github.com/slipwayhq/slipway/cmd/slipway/cli"
	"github.com/slipwayhq/slipway/executor/prober"
	"github.com/slipwayhq/slipway/internal/testenv"
	"github.com/slipwayhq/slipway/operation"
	"github.com/slipwayhq/slipway/providers/docker"
	"github.com/slipwayhq/slipway/providers/factory"
	"github.com/slipwayhq/slipway/providers/fake"
	"github.com/slipwayhq/slipway/state/local"
	"golang.org/x/sys/unix"
)

func TestMain(m *testing.M) {
	testscript.Main(m, map[string]func(){
		// In a script that said "world fake", slipway runs on the fake
		// world of the file SLIPWAY_TEST_WORLD names: only this binary
		// reads that variable.
		"slipway": func() { os.Exit(cli.MainWorld(os.Args, os.Stdin, os.Stdout, os.Stderr, testWorld())) },
		// slipway-holdlock holds the state lock of DIR until it is killed:
		// a second slipway process for lock contention tests (with
		// -garbage, under lock info that does not parse). Test binary
		// only; never part of the shipped command.
		"slipway-holdlock": holdLock,
		// slipway-listen serves HTTP on an address: the "other program"
		// holding a port a route wants. Test binary only.
		"slipway-listen": listen,
	})
}

// worldEnv names the file of a script's fake world. The shipped binary
// never reads it (reliability's TestShippedBinaryHasNoFakeWorld).
const worldEnv = "SLIPWAY_TEST_WORLD"

// testWorld is where slipway's providers come from in this binary: the
// fake world worldEnv names, or the real one.
func testWorld() operation.World {
	path := os.Getenv(worldEnv)
	if path == "" {
		return factory.World{}
	}
	w, err := fake.Open(path)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	return w.Builder()
}

// fakeMode reports whether scripts that can run on the fake world do:
// always, except under SLIPWAY_LONG=1 (make reliability), which runs them
// on Docker.
func fakeMode() bool { return os.Getenv("SLIPWAY_LONG") != "1" }

// listen serves "not slipway" on ADDR until it is killed, after writing
// READYFILE once it listens.
func listen() {
	if len(os.Args) != 3 {
		fmt.Fprintln(os.Stderr, "usage: slipway-listen ADDR READYFILE")
		os.Exit(2)
	}
	l, err := net.Listen("tcp", os.Args[1])
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	if err := os.WriteFile(os.Args[2], []byte(strconv.Itoa(os.Getpid())+"\n"), 0o644); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	_ = http.Serve(l, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, "not slipway\n")
	}))
}

func holdLock() {
	args := os.Args[1:]
	var hold time.Duration
	if len(args) == 2 && args[0] == "-garbage" {
		holdLockGarbage(args[1])
	}
	if len(args) == 3 && args[0] == "-for" {
		d, err := time.ParseDuration(args[1])
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(2)
		}
		hold, args = d, args[2:]
	}
	if len(args) != 1 {
		fmt.Fprintln(os.Stderr, "usage: slipway-holdlock [-for DURATION | -garbage] STATEDIR")
		os.Exit(2)
	}
	b, err := local.Open(args[0], "")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	if _, err := b.Lock(context.Background(), local.NewLockInfo("apply"), 30*time.Second); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fmt.Println("locked")
	if hold > 0 {
		time.Sleep(hold)
		os.Exit(0)
	}
	select {}
}

// holdLockGarbage holds the flock of the lock file in dir after filling
// it with info that does not parse, as a holder dying half-way through
// writing it would leave it, until it is killed.
func holdLockGarbage(dir string) {
	f, err := os.OpenFile(filepath.Join(dir, local.LockFile), os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o600)
	if err == nil {
		_, err = f.WriteString(`{"id":"8f2c`)
	}
	if err == nil {
		err = unix.Flock(int(f.Fd()), unix.LOCK_EX)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fmt.Println("locked")
	select {}
}

// traffic serialises the scripts that move real traffic: the machine has
// two cores, and concurrent load would make their counts meaningless.
var traffic sync.Mutex

func TestScript(t *testing.T) {
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	testscript.Run(t, testscript.Params{
		Dir:                 "../../testdata/script",
		RequireExplicitExec: true,
		RequireUniqueNames:  true,
		UpdateScripts:       os.Getenv("SLIPWAY_UPDATE_SCRIPTS") == "1",
		Setup: func(e *testscript.Env) error {
			project := "t" + randomHex(4)
			e.Setenv("PROJECT", project)
			e.Setenv("HOME", filepath.Join(e.WorkDir, "home"))
			e.Setenv("REPO", root)
			e.Setenv("NO_COLOR", "1")
			e.Defer(func() { removeProject(project) })
			return nil
		},
		Condition: func(cond string) (bool, error) {
			switch cond {
			case "docker":
				return need("docker", dockerOK())
			case "nginx":
				return need("nginx", nginxOK())
			case "postgres":
				return need("postgres", postgresOK())
			case "prometheus":
				return need("prometheus", prometheusOK())
			case "root":
				// Scripts that chown to another user, as tests run in CI.
				return os.Geteuid() == 0, nil
			case "fake":
				// Scripts that said "world fake" run on it.
				return fakeMode(), nil
			case "long":
				// Scripts that take a minute or more of real traffic run in
				// make reliability, keeping make test within CI's budget.
				return os.Getenv("SLIPWAY_LONG") == "1", nil
			}
			return false, fmt.Errorf("unknown condition %q", cond)
		},
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){
			"envsubst":   cmdEnvsubst,
			"demoimage":  cmdDemoImage,
			"nginx":      cmdNginx,
			"httpget":    cmdHTTPGet,
			"exclusive":  cmdExclusive,
			"snapshot":   cmdSnapshot,
			"normalize":  cmdNormalize,
			"exitcode":   cmdExitCode,
			"waitfile":   cmdWaitFile,
			"load":       cmdLoad,
			"postgres":   cmdPostgres,
			"webhook":    cmdWebhook,
			"waitlocked": cmdWaitLocked,
			"share":      cmdShare,
			"upstreams":  cmdUpstreams,
			"replicas":   cmdReplicas,
			"prometheus": cmdPrometheus,
			"timelinks":  cmdTimeLinks,
			"kill9":      cmdKill9,
			"grouplog":   cmdGroupLog,
			"world":      cmdWorld,
			"registry":   cmdRegistry,
			"demobinary": cmdDemoBinary,
			"imageid":    cmdImageID,
		},
	})
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// need turns a missing component into a skip, or under CI=true into a
// failure: CI never skips silently.
func need(what string, err error) (bool, error) {
	if !testenv.Known(what) {
		return false, fmt.Errorf("component %q is not in testenv.Components: add it there and to scripts/deps.sh", what)
	}
	if err == nil {
		return true, nil
	}
	if os.Getenv("CI") == "true" {
		return false, fmt.Errorf("%s is required under CI=true: %v", what, err)
	}
	return false, nil
}

var (
	dockerOnce sync.Once
	dockerErr  error
)

func dockerOK() error {
	dockerOnce.Do(func() {
		d, err := docker.New("")
		if err != nil {
			dockerErr = err
			return
		}
		defer d.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		dockerErr = d.Ping(ctx)
	})
	return dockerErr
}

func nginxOK() error {
	if _, err := exec.LookPath("nginx"); err == nil {
		return nil
	}
	if _, err := os.Stat("/usr/sbin/nginx"); err == nil {
		return nil
	}
	return fmt.Errorf("nginx not found: apt-get install -y nginx-light")
}

func postgresOK() error {
	_, err := os.Stat("/usr/lib/postgresql/15/bin/postgres")
	return err
}

// removeProject removes every container a script's project left.
func removeProject(project string) {
	out, err := exec.Command("docker", "ps", "-aq", "--filter", "label=io.slipway.project="+project).Output()
	if err != nil {
		return
	}
	ids := strings.Fields(string(out))
	if len(ids) > 0 {
		_ = exec.Command("docker", append([]string{"rm", "-f"}, ids...)...).Run()
	}
}

// envsubst FILE... replaces ${NAME} with the script's environment in place.
func cmdEnvsubst(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) == 0 {
		ts.Fatalf("usage: envsubst FILE...")
	}
	re := regexp.MustCompile(`\$\{([A-Z_][A-Z0-9_]*)\}`)
	for _, f := range args {
		src := ts.ReadFile(f)
		out := re.ReplaceAllStringFunc(src, func(m string) string { return ts.Getenv(m[2 : len(m)-1]) })
		ts.Check(os.WriteFile(ts.MkAbs(f), []byte(out), 0o644))
	}
}

// demoimage TAG [KEY=VALUE...] builds the demo app image FROM scratch.
func cmdDemoImage(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) == 0 {
		ts.Fatalf("usage: demoimage TAG [KEY=VALUE...]")
	}
	env := map[string]string{}
	for _, kv := range args[1:] {
		k, v, ok := strings.Cut(kv, "=")
		if !ok {
			ts.Fatalf("demoimage: %q is not KEY=VALUE", kv)
		}
		env[k] = v
	}
	if path := ts.Getenv(worldEnv); path != "" {
		w, err := fake.Open(path)
		ts.Check(err)
		_, err = w.AddImage(args[0], args[1:]...)
		ts.Check(err)
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	ts.Check(testenv.BuildDemoImage(ctx, ts.Getenv("REPO"), args[0], env))
}

// world fake runs the rest of the script on a fake world (a file under
// $WORK that every slipway of the script shares: containers and routes
// are records, images are registered by demoimage), except under
// SLIPWAY_LONG=1, where it runs on the Docker engine: such a script
// follows it with "[!fake] [!docker] skip". world containers prints the
// names of the script's containers, world env NAME the environment of
// one, VAR=VALUE a line, in either world.
func cmdWorld(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) == 0 {
		ts.Fatalf("usage: world fake | world containers | world env NAME")
	}
	path := ts.Getenv(worldEnv)
	switch {
	case args[0] == "fake" && len(args) == 1:
		if fakeMode() {
			ts.Setenv(worldEnv, ts.MkAbs("world.json"))
		}
	case args[0] == "containers" && len(args) == 1 && path != "":
		w, err := fake.Open(path)
		ts.Check(err)
		for _, c := range w.Containers(ts.Getenv("PROJECT")) {
			fmt.Fprintln(ts.Stdout(), c.Name)
		}
	case args[0] == "containers" && len(args) == 1:
		ts.Check(ts.Exec("docker", "ps", "-a", "--filter", "label=io.slipway.project="+ts.Getenv("PROJECT"), "--format", "{{.Names}}"))
	case args[0] == "env" && len(args) == 2 && path != "":
		w, err := fake.Open(path)
		ts.Check(err)
		for _, c := range w.Containers("") {
			if c.Name == args[1] {
				for _, v := range c.Vars {
					fmt.Fprintf(ts.Stdout(), "%s=%s\n", v.Name, v.Value)
				}
				return
			}
		}
		ts.Fatalf("world env: no container %s", args[1])
	case args[0] == "env" && len(args) == 2:
		ts.Check(ts.Exec("docker", "inspect", "-f", "{{range .Config.Env}}{{println .}}{{end}}", args[1]))
	default:
		ts.Fatalf("usage: world fake | world containers | world env NAME")
	}
}

var nginxes sync.Map // dir -> *testenv.Nginx

// nginx start|start-lua|stop runs a private nginx under $WORK/nginx and sets
// NGINX_PREFIX, NGINX_CONF, NGINX_CONF_DIR, NGINX_ACCESS_LOG and
// NGINX_PORT (a free port for a route to listen on).
func cmdNginx(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: nginx start|start-lua|stop")
	}
	dir := ts.MkAbs("nginx")
	switch args[0] {
	case "start", "start-lua":
		n, err := testenv.StartNginxWithOpts(dir, testenv.StartNginxOpts{Lua: args[0] == "start-lua"})
		ts.Check(err)
		nginxes.Store(dir, n)
		ts.Defer(func() { _ = n.Stop() })
		port, err := testenv.FreePort()
		ts.Check(err)
		ts.Setenv("NGINX_PREFIX", n.Prefix)
		ts.Setenv("NGINX_CONF", n.Conf)
		ts.Setenv("NGINX_CONF_DIR", n.ConfDir)
		ts.Setenv("NGINX_ACCESS_LOG", n.AccessLog)
		ts.Setenv("NGINX_PORT", fmt.Sprint(port))
	case "stop":
		n, ok := nginxes.Load(dir)
		if !ok {
			ts.Fatalf("nginx stop: no nginx was started")
		}
		ts.Check(n.(*testenv.Nginx).Stop())
	default:
		ts.Fatalf("usage: nginx start|stop")
	}
}

// httpget URL [REGEXP] fetches URL and writes the body to stdout; with
// REGEXP the body must match it.
func cmdHTTPGet(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) < 1 || len(args) > 2 {
		ts.Fatalf("usage: httpget URL [REGEXP]")
	}
	c := &http.Client{Timeout: 5 * time.Second}
	resp, err := c.Get(args[0])
	if err != nil {
		if neg {
			return
		}
		ts.Fatalf("GET %s: %v", args[0], err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	ts.Stdout().Write(body)
	ok := resp.StatusCode/100 == 2
	if ok && len(args) == 2 {
		ok = regexp.MustCompile(args[1]).Match(body)
	}
	if ok == neg {
		ts.Fatalf("GET %s: status %d, body %q", args[0], resp.StatusCode, body)
	}
}

// exclusive makes the rest of the script run alone among traffic scripts.
func cmdExclusive(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 0 {
		ts.Fatalf("usage: exclusive")
	}
	traffic.Lock()
	ts.Defer(traffic.Unlock)
}

// snapshot NAME FILE... copies files aside so that a later `cmp` can prove
// them byte-identical.
func cmdSnapshot(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 2 {
		ts.Fatalf("usage: snapshot NAME FILE...")
	}
	dir := ts.MkAbs(args[0])
	ts.Check(os.MkdirAll(dir, 0o755))
	for _, f := range args[1:] {
		b, err := os.ReadFile(ts.MkAbs(f))
		ts.Check(err)
		ts.Check(os.WriteFile(filepath.Join(dir, filepath.Base(f)), b, 0o644))
	}
}

var lineageRE = regexp.MustCompile(`lineage [0-9a-f]{8}\.\.\.`)

var normalizers = []struct {
	re   *regexp.Regexp
	with string
}{
	{regexp.MustCompile(`sha256:[0-9a-f]{64}`), "sha256:<id>"},
	{regexp.MustCompile(`\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z`), "<time>"},
	{regexp.MustCompile(`"config_hash": "[0-9a-f]+"`), `"config_hash": "<hash>"`},
	{regexp.MustCompile(`"observed": "[0-9a-f]*"`), `"observed": "<fingerprint>"`},
	{regexp.MustCompile(`"config_hash_short": "[0-9a-f]+"`), `"config_hash_short": "<hash>"`},
	{regexp.MustCompile(`"[0-9a-f]{64}"`), `"<hmac>"`},
}

// normalize FILE... replaces image ids, times and hashes with
// placeholders so that golden files stay stable.
func cmdNormalize(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) == 0 {
		ts.Fatalf("usage: normalize FILE...")
	}
	for _, f := range args {
		s := ts.ReadFile(f)
		if p := ts.Getenv("PROJECT"); p != "" {
			s = strings.ReplaceAll(s, p, "${PROJECT}")
		}
		s = lineageRE.ReplaceAllString(s, "lineage <lineage>...")
		for _, n := range normalizers {
			s = n.re.ReplaceAllString(s, n.with)
		}
		ts.Check(os.WriteFile(ts.MkAbs(f), []byte(s), 0o644))
	}
}

// waitlocked DIR waits until another process holds the state lock in DIR.
func cmdWaitLocked(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: waitlocked STATEDIR")
	}
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		b, err := local.Open(ts.MkAbs(args[0]), "")
		ts.Check(err)
		unlock, err := b.Lock(context.Background(), local.NewLockInfo("test"), 0)
		if err != nil {
			return
		}
		ts.Check(unlock())
		time.Sleep(50 * time.Millisecond)
	}
	ts.Fatalf("waitlocked: nobody took the lock in %s within 30s", args[0])
}

// exitcode N PROGRAM [ARGS...] runs a program like exec and requires its
// exit status to be exactly N; its stdout and stderr are kept for the
// following stdout and stderr checks.
func cmdExitCode(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 2 {
		ts.Fatalf("usage: exitcode N PROGRAM [ARGS...]")
	}
	want, err := strconv.Atoi(args[0])
	ts.Check(err)
	err = ts.Exec(args[1], args[2:]...)
	got := 0
	if err != nil {
		var ee *exec.ExitError
		if !errors.As(err, &ee) {
			ts.Fatalf("exitcode: %v", err)
		}
		got = ee.ExitCode()
	}
	if got != want {
		ts.Fatalf("%s exited %d, want %d", args[1], got, want)
	}
}

// timelinks SECONDS TARGET PATTERN... plants, for every second from now
// to SECONDS later, a symbolic link to TARGET at each PATTERN with {now}
// replaced by that second as slipway stamps record and backup names
// (20060102T150405Z, UTC): links at names an apply will write, whenever it
// gets there.
func cmdTimeLinks(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 3 {
		ts.Fatalf("usage: timelinks SECONDS TARGET PATTERN...")
	}
	n, err := strconv.Atoi(args[0])
	if err != nil || n < 1 {
		ts.Fatalf("timelinks: %q is not a number of seconds", args[0])
	}
	target := ts.MkAbs(args[1])
	start := time.Now().UTC().Truncate(time.Second)
	for _, pattern := range args[2:] {
		for i := range n {
			path := ts.MkAbs(strings.ReplaceAll(pattern, "{now}", start.Add(time.Duration(i)*time.Second).Format("20060102T150405Z")))
			ts.Check(os.MkdirAll(filepath.Dir(path), 0o700))
			ts.Check(os.Symlink(target, path))
		}
	}
}

// waitfile FILE [REGEXP] waits up to a minute until FILE exists and, with
// REGEXP, until its content matches.
func cmdWaitFile(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 1 || len(args) > 2 {
		ts.Fatalf("usage: waitfile FILE [REGEXP]")
	}
	var re *regexp.Regexp
	if len(args) == 2 {
		re = regexp.MustCompile(args[1])
	}
	deadline := time.Now().Add(time.Minute)
	for time.Now().Before(deadline) {
		b, err := os.ReadFile(ts.MkAbs(args[0]))
		if err == nil && (re == nil || re.Match(b)) {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	ts.Fatalf("waitfile: %s did not appear (or match) within a minute", args[0])
}

var loads sync.Map // script work dir + name -> *prober.Load

// load start NAME strict|retrying URL [RATE] sends keep-alive GETs through
// URL in the background; load stop NAME [-allow-failures] prints the
// counts and fails when any request failed (with !, when none did).
func cmdLoad(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) < 2 {
		ts.Fatalf("usage: load start NAME strict|retrying URL [RATE] | load stop NAME")
	}
	key := ts.MkAbs(".") + "\x00" + args[1]
	switch args[0] {
	case "start":
		if neg || len(args) < 4 || len(args) > 5 {
			ts.Fatalf("usage: load start NAME strict|retrying URL [RATE]")
		}
		mode, err := prober.ParseMode(args[2])
		ts.Check(err)
		rate := 300
		if len(args) == 5 {
			rate, err = strconv.Atoi(args[4])
			ts.Check(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		l := prober.Start(ctx, prober.Options{URL: args[3], Rate: rate, Workers: 4, Mode: mode})
		loads.Store(key, l)
		ts.Defer(func() { l.Stop(); cancel() })
	case "stop":
		v, ok := loads.LoadAndDelete(key)
		if !ok {
			ts.Fatalf("load stop: no load %q was started", args[1])
		}
		c := v.(*prober.Load).Stop()
		fmt.Fprintf(ts.Stdout(), "%s: %d requests, %d ok, %d non-2xx, %d transport errors, %d retried\n",
			args[1], c.Requests, c.OK, c.Non2xx, c.TransportErrors, c.Retried)
		for _, e := range c.Errors {
			fmt.Fprintf(ts.Stdout(), "  error: %s\n", e)
		}
		if c.Requests == 0 {
			ts.Fatalf("load %s sent no request", args[1])
		}
		if len(args) == 3 && args[2] == "-allow-failures" {
			return
		}
		if (c.Failures() > 0) != neg {
			ts.Fatalf("load %s: %d of %d requests failed", args[1], c.Failures(), c.Requests)
		}
	default:
		ts.Fatalf("usage: load start NAME ... | load stop NAME")
	}
}

// postgres start runs a private PostgreSQL 15 for the script and sets
// DATABASE_URL (TCP on loopback), PG_SOCKET_DIR, PG_PORT, PG_PASSWORD and
// DATABASE_SOCKET_URL (the same database through the unix socket mounted
// at /pgsock in a container).
func cmdPostgres(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 || args[0] != "start" {
		ts.Fatalf("usage: postgres start")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	pg, err := testenv.StartPostgres(ctx)
	ts.Check(err)
	ts.Defer(func() { _ = pg.Stop() })
	ts.Setenv("DATABASE_URL", pg.URL())
	ts.Setenv("PG_SOCKET_DIR", pg.Dir)
	ts.Setenv("PG_PORT", strconv.Itoa(pg.Port))
	ts.Setenv("PG_PASSWORD", pg.Password)
	ts.Setenv("DATABASE_SOCKET_URL", fmt.Sprintf("postgres://%s:%s@/%s?host=/pgsock&port=%d&sslmode=disable", pg.User, url.QueryEscape(pg.Password), pg.Database, pg.Port))
}

// webhook start runs a local receiver that appends each request body, one
// per line, to $WORK/webhook.log, and sets WEBHOOK_URL; webhook down sets
// WEBHOOK_URL to a loopback port nothing listens on.
func cmdWebhook(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: webhook start|down")
	}
	switch args[0] {
	case "start":
		var mu sync.Mutex
		log := ts.MkAbs("webhook.log")
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			b, _ := io.ReadAll(r.Body)
			mu.Lock()
			defer mu.Unlock()
			f, err := os.OpenFile(log, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
			if err == nil {
				f.Write(append(bytes.ReplaceAll(b, []byte("\n"), nil), '\n'))
				f.Close()
			}
		}))
		ts.Defer(srv.Close)
		ts.Setenv("WEBHOOK_URL", srv.URL+"/hook/s3cr3t-token")
	case "down":
		port, err := testenv.FreePort()
		ts.Check(err)
		ts.Setenv("WEBHOOK_URL", fmt.Sprintf("http://127.0.0.1:%d/hook/s3cr3t-token", port))
	default:
		ts.Fatalf("usage: webhook start|down")
	}
}
