package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"

	"github.com/slipwayhq/slipway/internal/testenv"
)

// errUsage marks a command line that cannot be run; run exits 2 for it.
var errUsage = errors.New("usage error")

const usage = `usage:
  slipway-env build-demo TAG [KEY=VALUE...]
  slipway-env remove-image TAG
  slipway-env nginx-start [-lua] DIR
  slipway-env nginx-reload DIR
  slipway-env nginx-stop DIR
  slipway-env pg-start DIR
  slipway-env pg-stop DIR
  slipway-env free-port
`

// pgStateFile is where pg-start keeps the server description inside DIR.
const pgStateFile = "postgres.json"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr))
}

// run executes one command and returns the exit code.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	err := dispatch(ctx, args, getenv, stdout)
	switch {
	case err == nil:
		return 0
	case errors.Is(err, errUsage):
		fmt.Fprintf(stderr, "slipway-env: error: %v\n%s", err, usage)
		return 2
	default:
		fmt.Fprintf(stderr, "slipway-env: error: %v\n", err)
		return 1
	}
}

func dispatch(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	if len(args) == 0 {
		return fmt.Errorf("%w: no command", errUsage)
	}
	cmd, rest := args[0], args[1:]
	switch cmd {
	case "build-demo":
		return buildDemo(ctx, rest, getenv)
	case "remove-image":
		tag, err := oneArg(cmd, "TAG", rest)
		if err != nil {
			return err
		}
		return testenv.RemoveImage(ctx, tag)
	case "nginx-start":
		return nginxStart(cmd, rest, stdout)
	case "nginx-reload", "nginx-stop":
		return nginxSignal(cmd, rest)
	case "pg-start":
		return pgStart(ctx, cmd, rest, stdout)
	case "pg-stop":
		return pgStop(cmd, rest)
	case "free-port":
		if len(rest) != 0 {
			return fmt.Errorf("%w: free-port takes no arguments", errUsage)
		}
		port, err := testenv.FreePort()
		if err != nil {
			return err
		}
		fmt.Fprintln(stdout, port)
		return nil
	}
	return fmt.Errorf("%w: unknown command %q", errUsage, cmd)
}

// buildDemo runs "build-demo TAG [KEY=VALUE...]".
func buildDemo(ctx context.Context, args []string, getenv func(string) string) error {
	if len(args) < 1 {
		return fmt.Errorf("%w: build-demo needs a TAG", errUsage)
	}
	env, err := parseEnv(args[1:])
	if err != nil {
		return err
	}
	root := getenv("SLIPWAY_REPO")
	if root == "" {
		if root, err = testenv.FindRepoRoot("."); err != nil {
			return fmt.Errorf("%w (set SLIPWAY_REPO)", err)
		}
	}
	return testenv.BuildDemoImage(ctx, root, args[0], env)
}

// nginxStart runs "nginx-start [-lua] DIR" and prints where nginx runs.
func nginxStart(cmd string, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet(cmd, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	lua := fs.Bool("lua", false, "load the Lua module")
	if err := fs.Parse(args); err != nil {
		return fmt.Errorf("%w: %v", errUsage, err)
	}
	dir, err := oneArg(cmd, "DIR", fs.Args())
	if err != nil {
		return err
	}
	n, err := testenv.StartNginxWithOpts(dir, testenv.StartNginxOpts{Lua: *lua})
	if err != nil {
		return err
	}
	printVars(stdout, "NGINX_PREFIX", n.Prefix, "NGINX_CONF", n.Conf, "NGINX_CONF_DIR", n.ConfDir,
		"NGINX_ACCESS_LOG", n.AccessLog, "NGINX_PID", fmt.Sprint(n.PID))
	return nil
}

// nginxSignal runs "nginx-reload DIR" and "nginx-stop DIR".
func nginxSignal(cmd string, args []string) error {
	dir, err := oneArg(cmd, "DIR", args)
	if err != nil {
		return err
	}
	n, err := testenv.OpenNginx(dir)
	if err != nil {
		return err
	}
	if cmd == "nginx-reload" {
		return n.Reload()
	}
	return n.Stop()
}

// pgStart runs "pg-start DIR": it starts a PostgreSQL, keeps what pg-stop
// needs in DIR and prints its DATABASE_URL.
func pgStart(ctx context.Context, cmd string, args []string, stdout io.Writer) error {
	dir, err := oneArg(cmd, "DIR", args)
	if err != nil {
		return err
	}
	state := filepath.Join(dir, pgStateFile)
	if _, err := os.Stat(state); err == nil {
		return fmt.Errorf("start postgres: %s exists: run 'slipway-env pg-stop %s' first", state, dir)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("start postgres: %w", err)
	}
	p, err := testenv.StartPostgres(ctx)
	if err != nil {
		return err
	}
	if err := p.Save(state); err != nil {
		return errors.Join(err, p.Stop())
	}
	printVars(stdout, "DATABASE_URL", p.URL())
	return nil
}

// pgStop runs "pg-stop DIR".
func pgStop(cmd string, args []string) error {
	dir, err := oneArg(cmd, "DIR", args)
	if err != nil {
		return err
	}
	state := filepath.Join(dir, pgStateFile)
	p, err := testenv.LoadPostgres(state)
	if err != nil {
		return err
	}
	if err := p.Stop(); err != nil {
		return err
	}
	return os.Remove(state)
}

// oneArg returns the single positional argument a command takes.
func oneArg(cmd, name string, args []string) (string, error) {
	if len(args) != 1 {
		return "", fmt.Errorf("%w: %s takes one %s, got %d arguments", errUsage, cmd, name, len(args))
	}
	if strings.HasPrefix(args[0], "-") {
		return "", fmt.Errorf("%w: %s: flags come before %s, got %q", errUsage, cmd, name, args[0])
	}
	return args[0], nil
}

var envArg = regexp.MustCompile(`^([A-Za-z_][A-Za-z0-9_]*)=(.*)$`)

// parseEnv turns KEY=VALUE arguments into a map.
func parseEnv(args []string) (map[string]string, error) {
	env := make(map[string]string, len(args))
	for _, a := range args {
		m := envArg.FindStringSubmatch(a)
		if m == nil {
			return nil, fmt.Errorf("%w: %q is not KEY=VALUE", errUsage, a)
		}
		env[m[1]] = m[2]
	}
	return env, nil
}

var shellSafe = regexp.MustCompile(`^[A-Za-z0-9_/.:@%+,=-]*$`)

// printVars prints NAME=VALUE lines, single-quoting values a shell would
// otherwise split or expand.
func printVars(w io.Writer, kv ...string) {
	for i := 0; i+1 < len(kv); i += 2 {
		v := kv[i+1]
		if !shellSafe.MatchString(v) {
			v = "'" + strings.ReplaceAll(v, "'", `'\''`) + "'"
		}
		fmt.Fprintf(w, "%s=%s\n", kv[i], v)
	}
}
