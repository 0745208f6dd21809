package nginx

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/slipwayhq/slipway/internal/atomicfile"
	"github.com/slipwayhq/slipway/internal/clock"
	"github.com/slipwayhq/slipway/internal/valid"
	"github.com/slipwayhq/slipway/providers"
)

// ErrNotConfirmed is wrapped by Apply and Remove when nginx did not start
// serving the new routing within Options.ConfirmTimeout; the previous file
// has been restored.
var ErrNotConfirmed = errors.New("routing not confirmed")

// ErrNotManaged is returned when the route file's path holds a file that
// slipway did not write for this service (no header, or another service's
// header); the file is left alone.
var ErrNotManaged = errors.New("file not managed by slipway for this service")

// Options configures an Nginx router.
type Options struct {
	// ConfigDir is the directory the nginx configuration includes
	// (include <ConfigDir>/*.conf, in the http context). Required.
	ConfigDir string
	// AccessLog, when set, is where every route logs its requests in the
	// LogFormatFields format.
	AccessLog string
	// Binary is the nginx executable, default "nginx".
	Binary string
	// Prefix and Conf are passed to the binary as -p and -c when set.
	Prefix, Conf string
	// ListenHost, when set, is the address routes listen on
	// ("listen <ListenHost>:<port>"); default all addresses.
	ListenHost string
	// ConfirmTimeout bounds how long Apply waits for the new routing to
	// answer after a switch, default 5s.
	ConfirmTimeout time.Duration
	// Switcher makes files live by reloading; default Reload with Binary,
	// Prefix, Conf. In dynamic mode it serves the changes of a route's shape.
	Switcher Switcher
	// Switch says how traffic changes go live: SwitchReload (the default
	// when empty), SwitchDynamic, or SwitchAuto (dynamic when the nginx
	// configuration loads the Lua module, found out once, on first use).
	Switch string
	// AdminDir holds the admin sockets of dynamic routes, default
	// DefaultAdminDir. slipway creates it with mode 0700 and refuses one
	// that another user owns or that is not a directory.
	AdminDir string
}

// Nginx is the router on a real nginx. Its methods are safe for
// concurrent use; changes are serialised.
type Nginx struct {
	opts     Options
	switcher Switcher
	mu       sync.Mutex    // serialises writes, switches and restores
	poll     time.Duration // between confirmation probes
	settle   time.Duration // how long the new routing must answer alone after a reload

	detect   func(ctx context.Context) (bool, error) // does nginx load the Lua module?
	modeMu   sync.Mutex
	resolved string // SwitchAuto's answer, once found

	pidOnce sync.Once
	pidFile string // the master's pid file, found on first use; "" when unknown
}

// New returns a router for o, after checking o; it touches nothing.
func New(o Options) (*Nginx, error) {
	if o.ConfigDir == "" {
		return nil, errors.New("new nginx router: config_dir is required")
	}
	if err := valid.Quotable(o.AccessLog); err != nil {
		return nil, fmt.Errorf("new nginx router: access log %q: %w", o.AccessLog, err)
	}
	if err := valid.ListenHost(o.ListenHost); o.ListenHost != "" && err != nil {
		return nil, fmt.Errorf("new nginx router: listen host %q: %w", o.ListenHost, err)
	}
	if o.Binary == "" {
		o.Binary = "nginx"
	}
	if o.ConfirmTimeout <= 0 {
		o.ConfirmTimeout = 5 * time.Second
	}
	switch o.Switch {
	case "":
		o.Switch = SwitchReload
	case SwitchReload, SwitchDynamic, SwitchAuto:
	default:
		return nil, fmt.Errorf("new nginx router: switch %q: want %q, %q or %q", o.Switch, SwitchReload, SwitchDynamic, SwitchAuto)
	}
	if o.AdminDir == "" {
		o.AdminDir = DefaultAdminDir
	}
	o.AdminDir = filepath.Clean(o.AdminDir)
	if err := valid.AdminDir(o.AdminDir); err != nil {
		return nil, fmt.Errorf("new nginx router: admin directory %q: %w", o.AdminDir, err)
	}
	sw := o.Switcher
	if sw == nil {
		sw = &Reload{Binary: o.Binary, Prefix: o.Prefix, Conf: o.Conf}
	}
	n := &Nginx{opts: o, switcher: sw, poll: 50 * time.Millisecond, settle: 300 * time.Millisecond}
	n.detect = func(ctx context.Context) (bool, error) {
		return detectLua(ctx, &Reload{Binary: o.Binary, Prefix: o.Prefix, Conf: o.Conf})
	}
	return n, nil
}

// Mode names how changes go live: "dynamic", or the reload switcher's name
// ("reload"). With SwitchAuto the first call (of Mode, Render, PlanSwitch
// or Apply) asks nginx whether it loads the Lua module; an answer is kept
// for the router's life, a failure to find out means "reload" this time.
func (n *Nginx) Mode() string {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	return n.mode(ctx)
}

func (n *Nginx) mode(ctx context.Context) string {
	switch n.opts.Switch {
	case SwitchDynamic:
		return SwitchDynamic
	case SwitchAuto:
		n.modeMu.Lock()
		defer n.modeMu.Unlock()
		if n.resolved == "" {
			lua, err := n.detect(ctx)
			if err != nil {
				return n.switcher.Name()
			}
			n.resolved = SwitchReload
			if lua {
				n.resolved = SwitchDynamic
			}
		}
		if n.resolved == SwitchDynamic {
			return SwitchDynamic
		}
	}
	return n.switcher.Name()
}

// Render returns the route file for spec, header line included, or an
// error wrapping ErrInvalidSpec. It touches nothing.
func (n *Nginx) Render(spec providers.RouteSpec) ([]byte, error) {
	r, err := render(spec, n.renderOptions(n.Mode() == SwitchDynamic))
	return r.content, err
}

func (n *Nginx) renderOptions(dynamic bool) renderOptions {
	return renderOptions{AccessLog: n.opts.AccessLog, ListenHost: n.opts.ListenHost, Dynamic: dynamic, AdminDir: n.opts.AdminDir}
}

// Observe lists the route files in ConfigDir whose header names project
// and env. A slipway-*.conf file of the project whose header was damaged
// is listed too, named after its file, with an empty Checksum (so Edited
// reports true). Each file comes with the peers it routes to and what
// nginx serves for it now: the live table of a dynamic route, else the
// file's peers when the release tag that answers is the file's (see
// Serving); it asks nginx once per route and changes nothing.
func (n *Nginx) Observe(ctx context.Context, project, env string) ([]providers.RouteFile, error) {
	paths, err := filepath.Glob(filepath.Join(n.opts.ConfigDir, "slipway-*.conf"))
	if err != nil {
		return nil, fmt.Errorf("list route files in %q: %w", n.opts.ConfigDir, err)
	}
	if err := checkConfigDir(n.opts.ConfigDir); err != nil {
		return nil, fmt.Errorf("list route files in %q: %w", n.opts.ConfigDir, err)
	}
	prefix := strings.TrimSuffix(FileName(project, env, ""), ".conf")
	var files []providers.RouteFile
	for _, p := range paths {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		svc, isProject := strings.CutPrefix(strings.TrimSuffix(filepath.Base(p), ".conf"), prefix)
		if fi, err := os.Lstat(p); err == nil && !fi.Mode().IsRegular() {
			if isProject && svc != "" {
				return nil, notRegular(p, fi)
			}
			continue // not a file slipway wrote
		}
		content, err := os.ReadFile(p)
		if errors.Is(err, fs.ErrNotExist) {
			continue // removed while listing
		}
		if err != nil {
			return nil, fmt.Errorf("read route file %q: %w", p, err)
		}
		f, ok := parseFile(content)
		f.Path = p
		if !ok {
			if !isProject || svc == "" {
				continue
			}
			f.Project, f.Env, f.Service, f.Release, f.Checksum = project, env, svc, 0, ""
		}
		if f.Project != project || f.Env != env {
			continue
		}
		f.Peers = filePeers(content)
		f.Serving = n.serving(ctx, f, content, f.Peers)
		files = append(files, f)
	}
	return files, nil
}

// Apply renders spec into its file and makes it live, then confirms that
// responses carry the new X-Slipway-Release. On any failure the previous
// file is restored (or the new one removed), made live again, and the
// error carries nginx's message. A file that is already right and live is
// left alone.
//
// In reload mode the file is written atomically, validated and reloaded by
// the switcher. In dynamic mode, when nginx has this route's shape loaded
// (its admin endpoint says so), the file is written atomically for the
// next start, the new table is set over the admin endpoint and read back,
// and no reload happens; otherwise (a new route, a new listen port, server
// name, location, TLS files, timeouts) it goes the reload way and the
// table nginx then reports is checked too.
func (n *Nginx) Apply(ctx context.Context, spec providers.RouteSpec) (providers.RouteFile, error) {
	dynamic := n.mode(ctx) == SwitchDynamic
	r, err := render(spec, n.renderOptions(dynamic))
	if err != nil {
		return providers.RouteFile{}, err
	}
	path := filepath.Join(n.opts.ConfigDir, r.name)
	result := providers.RouteFile{
		Project: spec.Project, Env: spec.Env, Service: spec.Service, Path: path,
		Release: spec.Release, Checksum: r.checksum, Actual: r.checksum,
	}

	n.mu.Lock()
	defer n.mu.Unlock()
	if err := checkConfigDir(n.opts.ConfigDir); err != nil {
		return providers.RouteFile{}, fmt.Errorf("apply route %q: %w", path, err)
	}
	prev, mode, err := n.readOwn(path, spec.Project, spec.Env, spec.Service)
	if err != nil {
		return providers.RouteFile{}, err
	}
	probe := n.probeFor(spec)
	if dynamic {
		err = n.applyDynamic(ctx, spec, r, path, prev, mode, probe)
	} else {
		if bytes.Equal(prev, r.content) {
			if tag, _ := probe.get(ctx); tag == r.tag {
				return result, nil
			}
		}
		err = n.applyReload(ctx, spec, r, path, prev, mode, probe, nil)
	}
	if err != nil {
		return providers.RouteFile{}, err
	}
	return result, nil
}

// applyReload writes r (unless prev already is r), validates and reloads
// through the switcher, confirms the new tag answers, then runs verify
// when set. On any failure it restores prev.
func (n *Nginx) applyReload(ctx context.Context, spec providers.RouteSpec, r rendered, path string, prev []byte, mode fs.FileMode, probe probe, verify func(context.Context) error) error {
	if bytes.Equal(prev, r.content) {
		// Right file, not live (a crash between write and switch?): switch.
		reloaded := time.Now()
		if err := n.switcher.Activate(ctx); err != nil {
			return n.withLogError(ctx, reloaded, fmt.Errorf("activate route %q: %w", path, err))
		}
		if err := n.confirm(ctx, probe, r.tag, spec.Release, n.settle, reloaded); err != nil {
			return fmt.Errorf("activate route %q: %w", path, err)
		}
		if verify != nil {
			if err := verify(ctx); err != nil {
				return fmt.Errorf("activate route %q: %w", path, err)
			}
		}
		return nil
	}

	if err := writeRouteFile(path, r.content, mode); err != nil {
		return err
	}
	fail := func(cause error) error {
		return n.restore(ctx, path, prev, mode, cause)
	}
	if err := n.checkConflict(ctx, spec); err != nil {
		return fail(fmt.Errorf("apply route %q: %w", path, err))
	}
	reloaded := time.Now()
	if err := n.switcher.Activate(ctx); err != nil {
		return fail(n.withLogError(ctx, reloaded, fmt.Errorf("apply route %q: %w", path, err)))
	}
	if err := n.confirm(ctx, probe, r.tag, spec.Release, n.settle, reloaded); err != nil {
		return fail(fmt.Errorf("apply route %q: %w", path, err))
	}
	if verify != nil {
		if err := verify(ctx); err != nil {
			return fail(fmt.Errorf("apply route %q: %w", path, err))
		}
	}
	return nil
}

// Remove deletes the service's route file and makes that live; on failure
// the file is restored. Removing a missing route succeeds.
func (n *Nginx) Remove(ctx context.Context, project, env, service string) error {
	path := filepath.Join(n.opts.ConfigDir, FileName(project, env, service))
	n.mu.Lock()
	defer n.mu.Unlock()
	if err := checkConfigDir(n.opts.ConfigDir); err != nil {
		return fmt.Errorf("remove route %q: %w", path, err)
	}
	prev, mode, err := n.readOwn(path, project, env, service)
	if err != nil {
		return err
	}
	if prev == nil {
		return nil
	}
	if err := os.Remove(path); err != nil {
		return fmt.Errorf("remove route %q: %w", path, err)
	}
	if err := atomicfile.SyncDir(filepath.Dir(path)); err != nil {
		return n.restore(ctx, path, prev, mode, fmt.Errorf("remove route %q: %w", path, err))
	}
	reloaded := time.Now()
	if err := n.switcher.Activate(ctx); err != nil {
		return n.restore(ctx, path, prev, mode, n.withLogError(ctx, reloaded, fmt.Errorf("remove route %q: %w", path, err)))
	}
	// Confirm the old routing no longer answers: responses stop carrying
	// its tag (another server, a 404, or a closed port).
	if spec, tag, ok := liveOf(prev); ok {
		if err := n.waitGone(ctx, n.probeFor(spec), tag, reloaded); err != nil {
			return n.restore(ctx, path, prev, mode, fmt.Errorf("remove route %q: %w", path, err))
		}
	}
	return nil
}

// readOwn returns the current content and mode of path (nil when absent),
// or ErrNotManaged when it is not this service's slipway file, a symbolic
// link among them.
func (n *Nginx) readOwn(path, project, env, service string) ([]byte, fs.FileMode, error) {
	if fi, err := os.Lstat(path); err == nil && !fi.Mode().IsRegular() {
		return nil, 0, notRegular(path, fi)
	}
	content, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, 0o644, nil
	}
	if err != nil {
		return nil, 0, fmt.Errorf("read route file %q: %w", path, err)
	}
	info, err := os.Stat(path)
	if err != nil {
		return nil, 0, fmt.Errorf("read route file %q: %w", path, err)
	}
	f, ok := parseFile(content)
	if !ok {
		// A damaged header of our own file name is still ours when the
		// body is recognisably slipway's (hand edits of the header).
		if !bytes.Contains(content, []byte("upstream slipway_"+routeID(project, env, service)+"_stable")) {
			return nil, 0, fmt.Errorf("%w: %q has no slipway header; move it away or remove it", ErrNotManaged, path)
		}
	} else if f.Project != project || f.Env != env || f.Service != service {
		return nil, 0, fmt.Errorf("%w: %q belongs to project=%s env=%s service=%s", ErrNotManaged, path, f.Project, f.Env, f.Service)
	}
	return content, info.Mode().Perm(), nil
}

// restore puts prev back at path (or removes path when prev is nil), makes
// it live again and returns cause joined with any failure to do so. It
// runs even when ctx is cancelled.
func (n *Nginx) restore(ctx context.Context, path string, prev []byte, mode fs.FileMode, cause error) error {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), n.opts.ConfirmTimeout+30*time.Second)
	defer cancel()
	var err error
	if prev == nil {
		err = atomicfile.Remove(path)
	} else {
		err = writeRouteFile(path, prev, mode)
	}
	if err != nil {
		return errors.Join(cause, fmt.Errorf("restore previous route file %q: %w", path, err))
	}
	if errors.Is(cause, ErrRejected) {
		return cause // nginx never loaded the bad file
	}
	if err := n.switcher.Activate(ctx); err != nil {
		return errors.Join(cause, fmt.Errorf("reload restored route file %q: %w", path, err))
	}
	return cause
}

// probe asks one route which release answers.
type probe struct {
	url    string
	host   string
	client *http.Client
}

func (n *Nginx) probeFor(spec providers.RouteSpec) probe {
	host := "127.0.0.1"
	if h := n.opts.ListenHost; h != "" && h != "0.0.0.0" && h != "::" && h != "*" && h != "[::]" {
		host = strings.Trim(h, "[]")
	}
	scheme := "http"
	tr := &http.Transport{DisableKeepAlives: true, Proxy: nil}
	name := spec.ServerName
	switch {
	case name == "" || name == "_":
		name = ""
	case strings.HasPrefix(name, "*."):
		name = "slipway-confirm" + name[1:]
	case strings.HasPrefix(name, "."):
		name = name[1:]
	case strings.HasSuffix(name, ".*"):
		name = strings.TrimSuffix(name, "*") + "invalid"
	}
	if spec.TLSCert != "" {
		scheme = "https"
		// The probe talks to our own nginx on a local address and reads
		// one header; the certificate names the public host, not this
		// address, so it is not verified here.
		tr.TLSClientConfig = &tls.Config{InsecureSkipVerify: true, ServerName: name} //nolint:gosec
	}
	path := strings.TrimPrefix(spec.Location, "= ")
	return probe{
		url:    scheme + "://" + net.JoinHostPort(host, strconv.Itoa(spec.Listen)) + path,
		host:   name,
		client: &http.Client{Transport: tr, Timeout: 2 * time.Second},
	}
}

// get returns the X-Slipway-Release of one confirmation request, "" when
// absent.
func (p probe) get(ctx context.Context) (string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, p.url, nil)
	if err != nil {
		return "", err
	}
	if p.host != "" {
		req.Host = p.host
	}
	req.Header.Set(HeaderConfirm, "1")
	resp, err := p.client.Do(req)
	if err != nil {
		return "", err
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<16))
	_ = resp.Body.Close()
	return resp.Header.Get(HeaderRelease), nil
}

// confirm polls the route until it answers with tag, and keeps answering
// with it for settle (n.settle after a reload, 0 after a table change,
// which every request sees at once): after a reload nginx's master starts the new
// workers, waits (100ms in nginx's source) and only then tells the old
// workers to stop accepting connections, so the first new answer does not
// yet mean that every new connection gets the new routing. reloaded is
// when the reload began (zero when there was none): a failure then quotes
// the error nginx logged since, such as a bind() that failed.
func (n *Nginx) confirm(ctx context.Context, p probe, tag string, release int, settle time.Duration, reloaded time.Time) error {
	ctx, cancel := context.WithTimeout(ctx, n.opts.ConfirmTimeout)
	defer cancel()
	last := ""
	var lastErr error
	var since time.Time // start of the current run of new answers
	everNew := false
	for {
		got, err := p.get(ctx)
		switch {
		case err == nil && got == tag:
			everNew = true
			if since.IsZero() {
				since = time.Now()
			}
			if time.Since(since) >= settle {
				return nil
			}
		case err == nil:
			since, last, lastErr = time.Time{}, got, nil
		case ctx.Err() == nil:
			since, lastErr = time.Time{}, err
		}
		if !n.sleep(ctx) {
			break
		}
	}
	if err := context.Cause(ctx); err != nil && !errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	logged, _ := n.logError(ctx, reloaded)
	if everNew {
		why := "is another nginx listening on the port?"
		if logged != "" {
			why = logged
		}
		return fmt.Errorf("%w: nginx served release %d (%s) at %s but the old routing still answered within %s (last answer: %s); %s",
			ErrNotConfirmed, release, tag, p.url, n.opts.ConfirmTimeout, answer(last, lastErr), why)
	}
	if err := context.Cause(ctx); err != nil && !errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	seen := answer(last, lastErr)
	if logged != "" {
		// nginx said why: its own words, not a guess.
		return fmt.Errorf("%w: nginx did not start serving release %d (%s) within %s at %s (last answer: %s); %s",
			ErrNotConfirmed, release, tag, n.opts.ConfirmTimeout, p.url, seen, logged)
	}
	hint := ""
	if w := n.warnings(ctx); w != "" {
		hint = "\nnginx -t says:\n" + w
	}
	return fmt.Errorf("%w: nginx did not start serving release %d (%s) within %s at %s (last answer: %s); is the reload command doing anything, and does the nginx configuration include %s/*.conf?%s",
		ErrNotConfirmed, release, tag, n.opts.ConfirmTimeout, p.url, seen, n.opts.ConfigDir, hint)
}

func answer(tag string, err error) string {
	switch {
	case err != nil:
		return err.Error()
	case tag == "":
		return "no " + HeaderRelease + " header"
	}
	return HeaderRelease + ": " + tag
}

// waitGone polls the route until responses stop carrying tag, for
// n.settle in a row (see confirm, also for reloaded).
func (n *Nginx) waitGone(ctx context.Context, p probe, tag string, reloaded time.Time) error {
	ctx, cancel := context.WithTimeout(ctx, n.opts.ConfirmTimeout)
	defer cancel()
	var since time.Time
	for {
		got, err := p.get(ctx)
		if ctx.Err() != nil {
			break
		}
		if err != nil || got != tag {
			if since.IsZero() {
				since = time.Now()
			}
			if time.Since(since) >= n.settle {
				return nil
			}
		} else {
			since = time.Time{}
		}
		if !n.sleep(ctx) {
			break
		}
	}
	if err := context.Cause(ctx); err != nil && !errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	why := "is the reload command doing anything?"
	if logged, _ := n.logError(ctx, reloaded); logged != "" {
		why = logged
	}
	return fmt.Errorf("%w: nginx still serves %s at %s after %s; %s", ErrNotConfirmed, tag, p.url, n.opts.ConfirmTimeout, why)
}

// sleep waits one poll interval and reports whether ctx is still running.
func (n *Nginx) sleep(ctx context.Context) bool {
	return clock.SleepUntil(ctx, time.Now().Add(n.poll)) == nil
}

// tester is a switcher that can show nginx's validation output.
type tester interface {
	Test(ctx context.Context) (string, error)
}

// checkConflict fails, wrapping ErrRejected, when "nginx -t" warns that
// another server block has the route's server name on its port: nginx
// would serve only one of them, and a new file can silently take over a
// route that is live (its name may sort first). It needs a switcher that
// can test; others are trusted.
func (n *Nginx) checkConflict(ctx context.Context, spec providers.RouteSpec) error {
	t, ok := n.switcher.(tester)
	if !ok {
		return nil
	}
	out, err := t.Test(ctx)
	if err != nil {
		return err
	}
	name := fmt.Sprintf("conflicting server name %q on ", spec.ServerName)
	port := ":" + strconv.Itoa(spec.Listen) + ","
	for _, line := range strings.Split(out, "\n") {
		if strings.Contains(line, name) && strings.Contains(line, port) {
			return fmt.Errorf("%w: another server block answers server_name %q on port %d, and nginx serves only one of them (give each service its own server_name or port)\n%s",
				ErrRejected, spec.ServerName, spec.Listen, line)
		}
	}
	return nil
}

// warnings returns the [warn] lines of "nginx -t" (such as a conflicting
// server name that hides the route), to explain a failed confirmation.
func (n *Nginx) warnings(ctx context.Context) string {
	t, ok := n.switcher.(tester)
	if !ok {
		return ""
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	out, _ := t.Test(ctx)
	var lines []string
	for _, l := range strings.Split(out, "\n") {
		if strings.Contains(l, "[warn]") || strings.Contains(l, "[emerg]") {
			lines = append(lines, l)
		}
	}
	return strings.Join(lines, "\n")
}

var _ providers.Router = (*Nginx)(nil)
