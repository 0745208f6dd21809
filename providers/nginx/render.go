package nginx

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/slipwayhq/slipway/internal/valid"
	"github.com/slipwayhq/slipway/providers"
)

// ErrInvalidSpec is returned by Render (and so by Apply) when a RouteSpec
// cannot be rendered safely; nothing is written.
var ErrInvalidSpec = errors.New("invalid route")

// LogFormatFields names, in order, the tab-separated fields of every line a
// route writes to the access log (Options.AccessLog):
//
//	time_iso8601            local time of the request, ISO 8601
//	group                   "stable" or "candidate": the group that served it
//	status                  response status
//	request_time            seconds with millisecond resolution
//	upstream_response_time  seconds; "-" when no upstream was contacted;
//	                        one per peer tried, ", " separated, when a
//	                        connection failed and another peer answered
//	request_method          GET, POST, ...
//	request_uri             the full original URI, nginx-escaped (no tab)
//	upstream_addr           host:port of the container; "-" when none; the
//	                        peers tried in order, ", " separated, the last
//	                        the one that answered
//	route                   "<project>/<env>/<service>" (env may be empty)
//	version                 the group's version (StableVersion or CandidateVersion), "-" when unset
//
// nginx escapes '"', '\\' and control characters (tabs included) in values
// as \xNN, so splitting a line on tabs is exact. slipway's own requests
// are not logged: confirmation probes (HeaderConfirm) and the prober that
// runs while traffic moves (HeaderProbe), so analysis counts only real
// traffic.
const LogFormatFields = "time_iso8601\tgroup\tstatus\trequest_time\tupstream_response_time\trequest_method\trequest_uri\tupstream_addr\troute\tversion"

// Names of the response headers every route adds, on every response.
const (
	// HeaderRelease carries "<release>/<short checksum>" of the live file.
	HeaderRelease = "X-Slipway-Release"
	// HeaderGroup carries the group that served the request.
	HeaderGroup = "X-Slipway-Group"
	// HeaderConfirm, on a request, makes the route answer 204 at once
	// (with HeaderRelease) without contacting a container or writing the
	// access log; slipway's confirmation probe uses it.
	HeaderConfirm = "X-Slipway-Confirm"
	// HeaderProbe, on a request, with any non-empty value, keeps the
	// request out of the access log; it is proxied to the chosen group
	// like any other, so the answer still measures availability. slipway's
	// prober sends it (with ProbeValue) during an apply, so that its
	// synthetic traffic neither reaches an analysis' min_requests nor
	// dilutes the real error rate.
	HeaderProbe = "X-Slipway-Probe"
	// ProbeValue is the value slipway's prober sends in HeaderProbe.
	ProbeValue = "1"
)

// headerVar returns the nginx variable holding a request header.
func headerVar(name string) string {
	return "$http_" + strings.ToLower(strings.ReplaceAll(name, "-", "_"))
}

// writeLogMap writes the map of the variable <v>_log that access_log's
// if= parameter reads: 1 (log) for a request without HeaderConfirm and
// HeaderProbe, 0 (do not log) when either is non-empty. The two headers
// are concatenated, which is empty only when both are.
func writeLogMap(p func(format string, args ...any), v string) {
	p("# Not logged: slipway's confirmation probe (%s) and its prober (%s).", HeaderConfirm, HeaderProbe)
	p(`map "%s%s" %s_log {`, headerVar(HeaderConfirm), headerVar(HeaderProbe), v)
	p(`    "" 1;`)
	p("    default 0;")
	p("}")
	p("")
}

const headerPrefix = "# managed by slipway: "

// tagPlaceholder stands for the live tag while the body's hash is taken;
// the tag cannot be part of what it identifies.
const tagPlaceholder = "@@SLIPWAY_TAG@@"

// FileName returns the name of the route file of a service:
// slipway-<project>[-<env>]-<service>.conf.
func FileName(project, env, service string) string {
	if env == "" {
		return "slipway-" + project + "-" + service + ".conf"
	}
	return "slipway-" + project + "-" + env + "-" + service + ".conf"
}

// routeID returns the [a-z0-9_] identifier that names a route's upstreams,
// variables and log format. Names already made of [a-z0-9] are joined as
// they are; otherwise a short hash of the exact names is appended, so that
// "my-app" and "my_app" never share an identifier.
func routeID(project, env, service string) string {
	clean := true
	parts := []string{project, env, service}
	for i, p := range parts {
		var b strings.Builder
		for _, r := range p {
			switch {
			case r >= 'a' && r <= 'z', r >= '0' && r <= '9':
				b.WriteRune(r)
			case r >= 'A' && r <= 'Z':
				b.WriteRune(r - 'A' + 'a')
				clean = false
			default:
				b.WriteByte('_')
				clean = false
			}
		}
		parts[i] = b.String()
	}
	id := strings.Join(parts, "_")
	if !clean {
		sum := sha256.Sum256([]byte(project + "\x00" + env + "\x00" + service))
		id += "_" + hex.EncodeToString(sum[:3])
	}
	return id
}

// varID returns the short identifier in a route's variable names: nginx
// keeps variables in a hash whose default bucket (64 bytes) cannot hold
// names much longer than 40 characters, so readable names such as
// $slipway_<project>_<env>_<service>_connection would break real configs.
func varID(project, env, service string) string {
	sum := sha256.Sum256([]byte(project + "\x00" + env + "\x00" + service))
	return hex.EncodeToString(sum[:5])
}

// hostRe is what an upstream address's host may hold.
var hostRe = regexp.MustCompile(`^[A-Za-z0-9.*_-]+$`)

// validate checks spec with the rules config's validation uses too
// (internal/valid), so a configuration slipway validate accepts renders.
func validate(spec providers.RouteSpec) error {
	var errs []error
	bad := func(format string, args ...any) {
		errs = append(errs, fmt.Errorf(format, args...))
	}
	if err := valid.Name(spec.Project); err != nil {
		bad("project %q: %v", spec.Project, err)
	}
	if err := valid.Name(spec.Env); spec.Env != "" && err != nil {
		bad("env %q: %v", spec.Env, err)
	}
	if err := valid.Name(spec.Service); err != nil {
		bad("service %q: %v", spec.Service, err)
	}
	if spec.Release < 0 {
		bad("release %d is negative", spec.Release)
	}
	if spec.Listen < 1 || spec.Listen > 65535 {
		bad("listen port %d is not in 1-65535", spec.Listen)
	}
	if err := valid.ServerName(spec.ServerName); spec.ServerName != "" && err != nil {
		bad("server_name %q: %v", spec.ServerName, err)
	}
	if err := valid.Location(spec.Location); err != nil {
		bad("location %q: %v", spec.Location, err)
	}
	if (spec.TLSCert == "") != (spec.TLSKey == "") {
		bad("tls needs both a certificate and a key")
	}
	for _, p := range []string{spec.TLSCert, spec.TLSKey} {
		if err := valid.Quotable(p); err != nil {
			bad("tls path %q: %v", p, err)
		}
	}
	if spec.ProxyTimeout < 0 {
		bad("proxy timeout %s is negative", spec.ProxyTimeout)
	}
	if len(spec.Stable) == 0 && len(spec.Candidate) == 0 {
		bad("no upstream servers: stable and candidate are both empty")
	}
	for _, group := range [][]string{spec.Stable, spec.Candidate} {
		for _, addr := range group {
			if err := checkAddr(addr); err != nil {
				errs = append(errs, err)
			}
		}
	}
	if spec.CandidateWeight < 0 || spec.CandidateWeight > 100 {
		bad("candidate weight %d is not in 0-100", spec.CandidateWeight)
	}
	for _, v := range []string{spec.StableVersion, spec.CandidateVersion} {
		if err := valid.Quotable(v); err != nil {
			bad("version %q: %v", v, err)
		}
	}
	if err := valid.CookieName(spec.StickyCookie); spec.StickyCookie != "" && err != nil {
		bad("sticky cookie %q: %v", spec.StickyCookie, err)
	}
	if err := valid.HeaderName(spec.CanaryHeader); spec.CanaryHeader != "" && err != nil {
		bad("canary header %q: %v", spec.CanaryHeader, err)
	}
	if len(errs) == 0 {
		return nil
	}
	return fmt.Errorf("%w %s: %w", ErrInvalidSpec, spec.Project+"/"+spec.Env+"/"+spec.Service, errors.Join(errs...))
}

func checkAddr(addr string) error {
	host, port, err := net.SplitHostPort(addr)
	if err != nil || host == "" || !hostRe.MatchString(strings.ReplaceAll(host, ":", "")) {
		return fmt.Errorf("upstream %q is not host:port", addr)
	}
	if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
		return fmt.Errorf("upstream %q: port is not in 1-65535", addr)
	}
	return nil
}

// rendered is a route file ready to write.
type rendered struct {
	name     string // file name inside the config dir
	content  []byte // header line and body
	checksum string // "sha256:<hex>" of the body
	tag      string // value of HeaderRelease: "<release>/<short hash>"
	table    Table  // the live table (dynamic files only)
	shape    string // "sha256:<hex>" of everything but the table (dynamic files only)
}

// renderOptions are the parts of Options rendering depends on.
type renderOptions struct {
	AccessLog  string
	ListenHost string
	// Dynamic renders the Lua file of SwitchDynamic, whose admin socket is
	// in AdminDir.
	Dynamic  bool
	AdminDir string
}

// render is the pure rendering of spec.
func render(spec providers.RouteSpec, o renderOptions) (rendered, error) {
	if err := validate(spec); err != nil {
		return rendered{}, err
	}
	var body, shape string
	if o.Dynamic {
		if err := validateDynamic(spec); err != nil {
			return rendered{}, err
		}
		tmpl := renderDynamicBody(spec, o)
		sum := sha256.Sum256([]byte(tmpl))
		shape = "sha256:" + hex.EncodeToString(sum[:])
		text, _ := tableOf(spec, tagPlaceholder).MarshalText()
		body = strings.ReplaceAll(tmpl, shapeMarker, shape)
		body = strings.ReplaceAll(body, tableMarker, longBracket(string(text)))
	} else {
		body = renderBody(spec, o)
	}
	sum := sha256.Sum256([]byte(body))
	tag := strconv.Itoa(spec.Release) + "/" + hex.EncodeToString(sum[:6])
	body = strings.ReplaceAll(body, tagPlaceholder, tag)
	sum = sha256.Sum256([]byte(body))
	checksum := "sha256:" + hex.EncodeToString(sum[:])
	header := fmt.Sprintf("%sproject=%s env=%s service=%s release=%d checksum=%s\n",
		headerPrefix, spec.Project, spec.Env, spec.Service, spec.Release, checksum)
	return rendered{
		name:     FileName(spec.Project, spec.Env, spec.Service),
		content:  []byte(header + body),
		checksum: checksum,
		tag:      tag,
		table:    tableOf(spec, tag),
		shape:    shape,
	}, nil
}

func renderBody(spec providers.RouteSpec, o renderOptions) string {
	id := routeID(spec.Project, spec.Env, spec.Service)
	v := "$slipway_" + varID(spec.Project, spec.Env, spec.Service) // variable prefix
	up := "slipway_" + id                                          // upstream and log format prefix
	var b strings.Builder
	p := func(format string, args ...any) { fmt.Fprintf(&b, format+"\n", args...) }

	stable, candidate, weight := sides(spec)
	p("# Do not edit: slipway rewrites this file and reports any change as drift.")
	p("# Route of service %q (project %q, env %q), release %d.", spec.Service, spec.Project, spec.Env, spec.Release)
	p("# Stable %s, candidate %s on %d%% of requests.", orDash(spec.StableVersion), orDash(spec.CandidateVersion), weight)
	p("")
	for _, g := range []struct {
		name  string
		addrs []string
	}{{"stable", stable}, {"candidate", candidate}} {
		p("upstream %s_%s {", up, g.name)
		for _, a := range g.addrs {
			p("    server %s max_fails=0;", a)
		}
		p("    keepalive 16;")
		p("}")
		p("")
	}
	writeSplit(p, spec, v, weight)
	p("map %s_group %s_version {", v, v)
	p(`    candidate "%s";`, orDash(spec.CandidateVersion))
	p(`    default "%s";`, orDash(spec.StableVersion))
	p("}")
	p("")
	writeServerHead(p, spec, o, up, v)
	p(`        add_header %s "%s" always;`, HeaderRelease, tagPlaceholder)
	p("        add_header %s %s_group always;", HeaderGroup, v)
	if spec.StickyCookie != "" {
		p("        add_header Set-Cookie %s_set_cookie always;", v)
	}
	writeProxy(p, spec, up+"_"+v+"_group", v)
	p("    }")
	p("}")
	return b.String()
}

// sides returns the addresses of the stable and candidate upstreams and
// the candidate's weight: a side without replicas takes the other's
// addresses and none (or all) of the requests.
func sides(spec providers.RouteSpec) (stable, candidate []string, weight int) {
	stable, candidate = spec.Stable, spec.Candidate
	weight = spec.CandidateWeight
	switch {
	case len(candidate) == 0: // nothing to send there: all to stable
		candidate, weight = stable, 0
	case len(stable) == 0:
		stable, weight = candidate, 100
	}
	return stable, candidate, weight
}

// writeSplit writes the maps that put each request in the stable or the
// candidate group (v_group): the sticky cookie's, split_clients by weight,
// and the canary header's, which overrides the split.
func writeSplit(p func(format string, args ...any), spec providers.RouteSpec, v string, weight int) {
	both := len(spec.Stable) > 0 && len(spec.Candidate) > 0
	key := `"${request_id}"`
	if spec.StickyCookie != "" {
		// The cookie holds the request id of the client's first request;
		// hashing it keeps the client on one side, and a client in the
		// candidate share stays there as the share grows.
		p("map $cookie_%s %s_key {", spec.StickyCookie, v)
		p(`    "" $request_id;`)
		p("    default $cookie_%s;", spec.StickyCookie)
		p("}")
		p("")
		p("map $cookie_%s %s_set_cookie {", spec.StickyCookie, v)
		p(`    "" "%s=$request_id; Path=/; HttpOnly; SameSite=Lax";`, spec.StickyCookie)
		p(`    default "";`)
		p("}")
		p("")
		key = `"` + v + `_key"`
	}
	splitVar := v + "_group"
	if spec.CanaryHeader != "" && both {
		splitVar = v + "_split"
	}
	p("split_clients %s %s {", key, splitVar)
	switch weight {
	case 0:
		p("    * stable;")
	case 100:
		p("    * candidate;")
	default:
		p("    %d%% candidate;", weight)
		p("    * stable;")
	}
	p("}")
	p("")
	if spec.CanaryHeader != "" && both {
		p("# Any non-empty %s request header selects the candidate.", spec.CanaryHeader)
		p("map $http_%s %s_group {", strings.ToLower(strings.ReplaceAll(spec.CanaryHeader, "-", "_")), v)
		p(`    "" %s;`, splitVar)
		p("    default candidate;")
		p("}")
		p("")
	}
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// nginxDuration writes d in whole seconds when it is, else milliseconds.
func nginxDuration(d time.Duration) string {
	if d%time.Second == 0 {
		return strconv.FormatInt(int64(d/time.Second), 10) + "s"
	}
	return strconv.FormatInt(max(int64(d/time.Millisecond), 1), 10) + "ms"
}

// writeServerHead writes what both renderings share between their group
// choice and their location body: the upgrade and log maps, the log
// format, and the server block up to the location's access log.
func writeServerHead(p func(format string, args ...any), spec providers.RouteSpec, o renderOptions, up, v string) {
	p("map $http_upgrade %s_connection {", v)
	p("    default upgrade;")
	p(`    "" "";`)
	p("}")
	p("")
	writeLogMap(p, v)
	p("# Fields, tab separated: %s", strings.ReplaceAll(LogFormatFields, "\t", " "))
	p(`log_format %s '$time_iso8601\t%s_group\t$status\t$request_time\t$upstream_response_time\t$request_method\t$request_uri\t$upstream_addr\t%s/%s/%s\t%s_version';`,
		up, v, spec.Project, spec.Env, spec.Service, v)
	p("")

	p("server {")
	listen := strconv.Itoa(spec.Listen)
	if o.ListenHost != "" {
		listen = net.JoinHostPort(o.ListenHost, listen)
	}
	if spec.TLSCert != "" {
		p("    listen %s ssl;", listen)
	} else {
		p("    listen %s;", listen)
	}
	if spec.ServerName != "" {
		p("    server_name %s;", spec.ServerName)
	}
	if spec.TLSCert != "" {
		p(`    ssl_certificate "%s";`, spec.TLSCert)
		p(`    ssl_certificate_key "%s";`, spec.TLSKey)
	}
	p("")
	p("    location %s {", spec.Location)
	if o.AccessLog != "" {
		p(`        access_log "%s" %s if=%s_log;`, o.AccessLog, up, v)
	}
}

// writeProxy writes a location's body: the confirmation probe's answer,
// then the proxying to upstream with the forwarding headers, WebSocket
// upgrade and timeouts. upstream is the request's group alone, so a
// request whose connection to a peer failed before any answer
// (proxy_next_upstream error) is tried again on another peer of the same
// group, never on the other group; never on a timeout, which a slow
// answer or a long WebSocket read would trigger too. nginx does not send a
// non-idempotent request (POST) to a next peer once it was sent.
func writeProxy(p func(format string, args ...any), spec providers.RouteSpec, upstream, v string) {
	p("        if (%s) {", headerVar(HeaderConfirm))
	p("            return 204;")
	p("        }")
	p("")
	p("        proxy_pass http://%s;", upstream)
	p("        proxy_http_version 1.1;")
	p("        proxy_set_header Host $host;")
	p("        proxy_set_header X-Real-IP $remote_addr;")
	p("        proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;")
	p("        proxy_set_header X-Forwarded-Proto $scheme;")
	p("        proxy_set_header X-Request-ID $request_id;")
	p("        proxy_set_header Upgrade $http_upgrade;")
	p("        proxy_set_header Connection %s_connection;", v)
	p("        proxy_next_upstream error;")
	if t := spec.ProxyTimeout; t > 0 {
		p("        proxy_connect_timeout %s;", nginxDuration(min(t, 75*time.Second)))
		p("        proxy_send_timeout %s;", nginxDuration(t))
		p("        proxy_read_timeout %s;", nginxDuration(t))
	}
}
