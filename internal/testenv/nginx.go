package testenv

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Errors of the nginx helpers.
var (
	// ErrNoNginx means no nginx binary was found.
	ErrNoNginx = errors.New("nginx not found: install nginx: apt-get install -y nginx-light")
	// ErrNoLua means the Lua module (and its NDK dependency) was not found.
	ErrNoLua = errors.New("nginx lua module not found: install it: apt-get install -y libnginx-mod-http-lua")
	// ErrNginxRunning means the directory already has a live nginx.
	ErrNginxRunning = errors.New("nginx already running")
)

// nginxStopWait bounds each phase of Stop (graceful quit, then fast stop).
const nginxStopWait = 10 * time.Second

// Nginx is a private nginx instance living entirely under Prefix: its
// nginx.conf (Conf) includes ConfDir/*.conf inside the http block, and it
// listens nowhere until a file there adds a server. The master runs as a
// daemon; workers run as root when the caller is root, so they can read
// anything the test wrote.
type Nginx struct {
	// Prefix is the instance directory (absolute), passed as nginx -p.
	Prefix string
	// Conf is Prefix/nginx.conf, passed as nginx -c.
	Conf string
	// ConfDir is Prefix/conf.d, where routes put their *.conf files.
	ConfDir string
	// AccessLog is Prefix/logs/access.log: the file routes should log to.
	// The instance's own default access log is Prefix/logs/default.access.log.
	AccessLog string
	// ErrorLog is Prefix/logs/error.log.
	ErrorLog string
	// PIDFile is Prefix/logs/nginx.pid, written by the master.
	PIDFile string
	// Binary is the nginx executable used.
	Binary string
	// PID is the master's process id.
	PID int
	// Lua reports whether the configuration loads the Lua module.
	Lua bool
}

// StartNginxOpts are the options of StartNginxWithOpts.
type StartNginxOpts struct {
	// Lua loads ndk_http_module and ngx_http_lua_module; Start fails with
	// ErrNoLua when they are not installed.
	Lua bool
}

// NginxAvailable reports, as an error, why no nginx can be started; nil when
// a binary is found.
func NginxAvailable() error {
	_, err := findNginx()
	return err
}

// LuaAvailable reports, as an error, why nginx cannot load the Lua module.
func LuaAvailable() error {
	bin, err := findNginx()
	if err != nil {
		return err
	}
	_, err = luaModules(bin)
	return err
}

// StartNginx starts a private nginx under dir without the Lua module.
func StartNginx(dir string) (*Nginx, error) {
	return StartNginxWithOpts(dir, StartNginxOpts{})
}

// StartNginxWithOpts creates dir's layout (conf.d, logs, tmp), writes
// nginx.conf, validates it with nginx -t and starts the master, returning once
// its pid file names a live master with a worker. Files already in conf.d are kept and
// loaded.
func StartNginxWithOpts(dir string, opts StartNginxOpts) (*Nginx, error) {
	n, err := nginxLayout(dir)
	if err != nil {
		return nil, fmt.Errorf("start nginx in %q: %w", dir, err)
	}
	if pid, err := readPID(n.PIDFile); err == nil && processAlive(pid) {
		return nil, fmt.Errorf("start nginx in %q: %w (pid %d)", dir, ErrNginxRunning, pid)
	}
	var modules []string
	if opts.Lua {
		if modules, err = luaModules(n.Binary); err != nil {
			return nil, fmt.Errorf("start nginx in %q: %w", dir, err)
		}
		n.Lua = true
	}
	for _, d := range []string{n.ConfDir, filepath.Join(n.Prefix, "logs"), filepath.Join(n.Prefix, "tmp")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return nil, fmt.Errorf("start nginx in %q: %w", dir, err)
		}
	}
	conf := nginxConf(n, modules, os.Geteuid() == 0)
	if err := os.WriteFile(n.Conf, []byte(conf), 0o644); err != nil {
		return nil, fmt.Errorf("start nginx in %q: %w", dir, err)
	}
	if err := n.test(); err != nil {
		return nil, fmt.Errorf("start nginx in %q: %w", dir, err)
	}
	_ = os.Remove(n.PIDFile)
	if _, err := runOutput(n.command()); err != nil {
		return nil, fmt.Errorf("start nginx in %q: %w", dir, err)
	}
	// The daemonized master writes its pid file after the launcher exits,
	// then forks its worker; Reload needs that worker to tell old from new.
	deadline := time.Now().Add(10 * time.Second)
	for {
		pid, err := readPID(n.PIDFile)
		if err == nil && processAlive(pid) && len(childPIDs(pid)) > 0 {
			n.PID = pid
			return n, nil
		}
		if time.Now().After(deadline) {
			if err == nil {
				_ = (&Nginx{Prefix: n.Prefix, PID: pid}).Stop()
			}
			return nil, fmt.Errorf("start nginx in %q: no live master and worker after 10s (see %s)", dir, n.ErrorLog)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// OpenNginx finds the instance a StartNginx call left running in dir (for
// instance one started by another process), by its pid file.
func OpenNginx(dir string) (*Nginx, error) {
	n, err := nginxLayout(dir)
	if err != nil {
		return nil, fmt.Errorf("open nginx in %q: %w", dir, err)
	}
	if n.PID, err = readPID(n.PIDFile); err != nil {
		return nil, fmt.Errorf("open nginx in %q: %w", dir, err)
	}
	conf, err := os.ReadFile(n.Conf)
	if err != nil {
		return nil, fmt.Errorf("open nginx in %q: %w", dir, err)
	}
	n.Lua = strings.Contains(string(conf), "ngx_http_lua_module")
	return n, nil
}

// Reload validates the configuration with nginx -t (returning its output on
// failure, the running configuration untouched), signals the master, and
// waits until a worker started after the signal runs and every older worker
// has exited or is shutting down: when Reload returns nil, every new
// connection gets the new configuration. Connections kept alive from before
// finish on the old workers.
func (n *Nginx) Reload() error {
	if err := n.test(); err != nil {
		return fmt.Errorf("reload nginx %q: %w", n.Prefix, err)
	}
	before := childPIDs(n.PID)
	if err := syscall.Kill(n.PID, syscall.SIGHUP); err != nil {
		return fmt.Errorf("reload nginx %q: signal master %d: %w", n.Prefix, n.PID, err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if reloaded(before, childPIDs(n.PID)) {
			return nil
		}
		time.Sleep(10 * time.Millisecond)
	}
	return fmt.Errorf("reload nginx %q: no new worker after 10s (see %s)", n.Prefix, n.ErrorLog)
}

// reloaded reports whether the master's children show a finished reload: a
// worker that was not there before, and every old worker gone or shutting
// down (nginx retitles it "worker process is shutting down"), so that no old
// worker accepts connections any more.
func reloaded(before, now map[int]bool) bool {
	fresh := false
	for pid := range now {
		if !before[pid] {
			fresh = true
			continue
		}
		cmdline, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/cmdline")
		if err == nil && strings.Contains(string(cmdline), "worker process") && !strings.Contains(string(cmdline), "shutting down") {
			return false
		}
	}
	return fresh
}

// Stop asks the master to quit gracefully (SIGQUIT), then to stop at once
// (SIGTERM) and finally kills it, waiting up to 10 seconds for each, and
// returns once the master has exited. Stopping a stopped instance is not an
// error.
func (n *Nginx) Stop() error {
	if n.PID <= 0 || !processAlive(n.PID) {
		return nil
	}
	for _, sig := range []syscall.Signal{syscall.SIGQUIT, syscall.SIGTERM, syscall.SIGKILL} {
		if err := syscall.Kill(n.PID, sig); err != nil && !errors.Is(err, syscall.ESRCH) {
			return fmt.Errorf("stop nginx %q: signal master %d: %w", n.Prefix, n.PID, err)
		}
		if waitExit(n.PID, nginxStopWait) {
			return nil
		}
	}
	return fmt.Errorf("stop nginx %q: master %d survived SIGKILL", n.Prefix, n.PID)
}

// test runs nginx -t on the instance's configuration.
func (n *Nginx) test() error {
	if _, err := runOutput(n.command("-t", "-q")); err != nil {
		return fmt.Errorf("check configuration: %w", err)
	}
	return nil
}

// command is nginx with the instance's prefix, configuration and error log.
func (n *Nginx) command(args ...string) *exec.Cmd {
	base := []string{"-p", n.Prefix + "/", "-c", n.Conf, "-e", n.ErrorLog}
	cmd := exec.Command(n.Binary, append(base, args...)...)
	cmd.Dir = n.Prefix
	return cmd
}

// nginxLayout fills in the paths of an instance under dir.
func nginxLayout(dir string) (*Nginx, error) {
	bin, err := findNginx()
	if err != nil {
		return nil, err
	}
	prefix, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	logs := filepath.Join(prefix, "logs")
	return &Nginx{
		Prefix:    prefix,
		Conf:      filepath.Join(prefix, "nginx.conf"),
		ConfDir:   filepath.Join(prefix, "conf.d"),
		AccessLog: filepath.Join(logs, "access.log"),
		ErrorLog:  filepath.Join(logs, "error.log"),
		PIDFile:   filepath.Join(logs, "nginx.pid"),
		Binary:    bin,
	}, nil
}

// nginxConf renders the instance's nginx.conf.
func nginxConf(n *Nginx, modules []string, root bool) string {
	var b strings.Builder
	b.WriteString("# Private nginx for slipway tests; written by internal/testenv.\n")
	for _, m := range modules {
		fmt.Fprintf(&b, "load_module %s;\n", m)
	}
	if root {
		b.WriteString("user root;\n")
	}
	logs := filepath.Join(n.Prefix, "logs")
	tmp := filepath.Join(n.Prefix, "tmp")
	fmt.Fprintf(&b, `daemon on;
master_process on;
worker_processes 1;
pid %s;
error_log %s notice;

events {
    worker_connections 1024;
}

http {
    default_type application/octet-stream;
    sendfile on;
    keepalive_timeout 65;
    access_log %s;
    client_body_temp_path %s;
    proxy_temp_path %s;
    fastcgi_temp_path %s;
    uwsgi_temp_path %s;
    scgi_temp_path %s;

    include %s/*.conf;
}
`, n.PIDFile, n.ErrorLog, filepath.Join(logs, "default.access.log"),
		filepath.Join(tmp, "client_body"), filepath.Join(tmp, "proxy"), filepath.Join(tmp, "fastcgi"),
		filepath.Join(tmp, "uwsgi"), filepath.Join(tmp, "scgi"), n.ConfDir)
	return b.String()
}

// findNginx looks for nginx on PATH, then in /usr/sbin.
func findNginx() (string, error) {
	if p, err := exec.LookPath("nginx"); err == nil {
		return p, nil
	}
	for _, p := range []string{"/usr/sbin/nginx", "/usr/local/sbin/nginx", "/usr/local/nginx/sbin/nginx"} {
		if fi, err := os.Stat(p); err == nil && fi.Mode()&0o111 != 0 {
			return p, nil
		}
	}
	return "", ErrNoNginx
}

var modulesPathFlag = regexp.MustCompile(`--modules-path=(\S+)`)

// luaModules returns the module files to load, NDK first, looking in the
// binary's --modules-path and the usual distribution directories.
func luaModules(bin string) ([]string, error) {
	dirs := []string{"/usr/lib/nginx/modules", "/usr/lib64/nginx/modules", "/usr/share/nginx/modules", "/usr/local/nginx/modules"}
	if out, err := runOutput(exec.Command(bin, "-V")); err == nil {
		if m := modulesPathFlag.FindStringSubmatch(out); m != nil {
			dirs = append([]string{m[1]}, dirs...)
		}
	}
	for _, d := range dirs {
		ndk := filepath.Join(d, "ndk_http_module.so")
		lua := filepath.Join(d, "ngx_http_lua_module.so")
		if fileExists(ndk) && fileExists(lua) {
			return []string{ndk, lua}, nil
		}
	}
	return nil, ErrNoLua
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

// readPID reads a pid file.
func readPID(path string) (int, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, fmt.Errorf("read pid file: %w", err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil || pid <= 0 {
		return 0, fmt.Errorf("read pid file %q: no pid in %q", path, b)
	}
	return pid, nil
}

// processAlive reports whether pid exists and is not a zombie (a daemon's
// zombie lingers when the container's init does not reap it).
func processAlive(pid int) bool {
	if err := syscall.Kill(pid, 0); err != nil && !errors.Is(err, syscall.EPERM) {
		return false
	}
	state, _, ok := procStat(pid)
	return ok && state != 'Z' && state != 'X'
}

// waitExit polls until pid is gone or timeout passes.
func waitExit(pid int, timeout time.Duration) bool {
	deadline := time.Now().Add(timeout)
	for processAlive(pid) {
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(10 * time.Millisecond)
	}
	return true
}

// procStat reads a process's state letter and parent pid from /proc.
func procStat(pid int) (state byte, ppid int, ok bool) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0, 0, false
	}
	// The command name is in parentheses and may hold spaces: parse after it.
	i := strings.LastIndexByte(string(b), ')')
	if i < 0 {
		return 0, 0, false
	}
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 2 || len(f[0]) != 1 {
		return 0, 0, false
	}
	ppid, err = strconv.Atoi(f[1])
	return f[0][0], ppid, err == nil
}

// childPIDs lists the live children of parent.
func childPIDs(parent int) map[int]bool {
	kids := map[int]bool{}
	ents, err := os.ReadDir("/proc")
	if err != nil {
		return kids
	}
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if state, ppid, ok := procStat(pid); ok && ppid == parent && state != 'Z' {
			kids[pid] = true
		}
	}
	return kids
}
