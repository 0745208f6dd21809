package config

import (
	"fmt"
	"net/url"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/convert"
	"github.com/zclconf/go-cty/cty/gocty"

	"github.com/slipwayhq/slipway/internal/valid"
)

// decodeProject decodes the project block.
func (d *decoder) decodeProject(blk *hcl.Block, s *BlockSchema) *Project {
	b := d.decodeBody(blk.Body, s, blk.DefRange)
	p := &Project{Name: blk.Labels[0], Keep: d.int(b, "keep"), DeclRange: blk.DefRange}
	if st := b.first("state"); st != nil {
		p.StatePath = d.str(st.body, "path")
		if p.StatePath == "" {
			d.errorf(st.body.subject("path"), "Empty State Path", "The state path must not be empty; remove the state block to use the default .slipway/ directory.")
		}
	}
	return p
}

// decodeDocker decodes the docker block.
func (d *decoder) decodeDocker(blk *hcl.Block, s *BlockSchema) *Docker {
	b := d.decodeBody(blk.Body, s, blk.DefRange)
	return &Docker{Host: d.str(b, "host"), DeclRange: blk.DefRange}
}

// decodeNginx decodes the nginx block.
func (d *decoder) decodeNginx(blk *hcl.Block, s *BlockSchema) *Nginx {
	b := d.decodeBody(blk.Body, s, blk.DefRange)
	n := &Nginx{
		ConfigDir:  d.str(b, "config_dir"),
		AccessLog:  d.str(b, "access_log"),
		Binary:     d.str(b, "binary"),
		Prefix:     d.str(b, "prefix"),
		Conf:       d.str(b, "conf"),
		Switch:     d.enum(b, "switch", "reload", "dynamic", "auto"),
		AdminDir:   d.str(b, "admin_dir"),
		ListenHost: d.str(b, "listen_host"),
		DeclRange:  blk.DefRange,
	}
	for _, name := range []string{"config_dir", "access_log", "binary"} {
		if b.set(name) && d.str(b, name) == "" {
			d.errorf(b.subject(name), "Empty Value", "The argument %q must not be empty; remove it to use the default.", name)
		}
	}
	if err := valid.Quotable(n.AccessLog); err != nil {
		d.invalid(b, "access_log", "Invalid Access Log", "The access log path", n.AccessLog, err)
	}
	if err := valid.ListenHost(n.ListenHost); n.ListenHost != "" && err != nil {
		d.invalid(b, "listen_host", "Invalid Listen Host", "The listen host", n.ListenHost, err)
	}
	if err := valid.AdminDir(n.AdminDir); b.get("admin_dir").ok && err != nil {
		d.invalid(b, "admin_dir", "Invalid Admin Directory", "The admin directory", n.AdminDir, err)
	}
	return n
}

// decodePostgres decodes a postgres block.
func (d *decoder) decodePostgres(blk *hcl.Block, s *BlockSchema) *Postgres {
	b := d.decodeBody(blk.Body, s, blk.DefRange)
	p := &Postgres{
		Name:       blk.Labels[0],
		URL:        d.secret(b, "url", true),
		Migrations: d.str(b, "migrations"),
		Restore:    d.bool(b, "restore_on_failure"),
		BinDir:     d.str(b, "bin_dir"),
		DeclRange:  blk.DefRange,
	}
	if m := b.first("migrate"); m != nil {
		p.Migrate = &AppMigrate{Service: d.str(m.body, "service"), Command: d.strs(m.body, "command"), DeclRange: m.hcl.DefRange}
	}
	if bk := b.first("backup"); bk != nil {
		p.Backup = &Backup{
			Dir:  d.str(bk.body, "dir"),
			Keep: d.int(bk.body, "keep"),
			When: d.enum(bk.body, "when", "migrations", "always", "never"),
		}
		if b := bk.body; b.set("dir") && p.Backup.Dir == "" {
			d.errorf(b.subject("dir"), "Empty Value", "The backup directory must not be empty.")
		}
	}
	return p
}

// decodeService decodes a service block.
func (d *decoder) decodeService(blk *hcl.Block, s *BlockSchema) *Service {
	b := d.decodeBody(blk.Body, s, blk.DefRange)
	svc := &Service{
		Name:        blk.Labels[0],
		Image:       d.str(b, "image"),
		Replicas:    d.int(b, "replicas"),
		Port:        d.int(b, "port"),
		Env:         d.env(b),
		Command:     d.strs(b, "command"),
		Volumes:     d.strs(b, "volumes"),
		Networks:    d.strs(b, "networks"),
		ExtraHosts:  d.strs(b, "extra_hosts"),
		Memory:      d.str(b, "memory"),
		CPUs:        d.float(b, "cpus"),
		Restart:     d.enum(b, "restart", "no", "always", "unless-stopped", "on-failure"),
		StopTimeout: d.dur(b, "stop_timeout"),
		HostIP:      d.str(b, "host_ip"),
		Migrate:     d.enum(b, "migrate", "before", "after"),
		Pull:        d.enum(b, "pull", "missing", "always", "never"),
		DeclRange:   blk.DefRange,
	}
	d.checkService(b, svc)
	if bb := b.first("build"); bb != nil {
		svc.Build = d.decodeBuild(bb)
		if b.set("pull") {
			d.errorf(b.subject("pull"), "Pull With Build", "Service %q builds its image (build block), so nothing is pulled for it; remove pull, or the build block to take the image from its registry.", svc.Name)
		}
	}
	svc.Health = &Health{Path: "/health", Interval: time.Second, Timeout: time.Second, Deadline: time.Minute, HealthyThreshold: 2, DeclRange: blk.DefRange}
	if h := b.first("health"); h != nil {
		svc.Health = d.decodeHealth(h)
	}
	if r := b.first("route"); r != nil {
		svc.Route = d.decodeRoute(r)
	}
	d.decodeStrategy(b, svc)
	if w := b.first("watch"); w != nil {
		svc.Watch = d.decodeWatch(w, svc)
	}
	return svc
}

// checkService reports the service's image, limits, host IP, extra hosts
// and volumes that are not valid.
func (d *decoder) checkService(b *body, svc *Service) {
	if b.get("image").ok && strings.TrimSpace(svc.Image) == "" {
		d.errorf(b.subject("image"), "Empty Image", "The service %q needs an image reference such as \"myapp/backend:1.2.3\".", svc.Name)
	} else if err := valid.Image(svc.Image); b.get("image").ok && err != nil {
		d.invalid(b, "image", "Invalid Image Reference", "The image", svc.Image, err)
	}
	if _, err := valid.Memory(svc.Memory); svc.Memory != "" && err != nil {
		d.invalid(b, "memory", "Invalid Memory Limit", "The memory limit", svc.Memory, err)
	}
	if err := valid.CPUs(svc.CPUs); err != nil {
		d.invalid(b, "cpus", "Invalid CPU Limit", "The CPU limit", strconv.FormatFloat(svc.CPUs, 'g', -1, 64), err)
	}
	if err := valid.HostIP(svc.HostIP); b.get("host_ip").ok && err != nil {
		d.invalid(b, "host_ip", "Invalid Host IP", "The host_ip", svc.HostIP, err)
	}
	for _, h := range svc.ExtraHosts {
		if err := valid.ExtraHost(h); err != nil {
			d.invalid(b, "extra_hosts", "Invalid Extra Host", "The extra host", h, err)
		}
	}
	for _, v := range svc.Volumes {
		if err := valid.Volume(v); err != nil {
			d.invalid(b, "volumes", "Invalid Volume", "The volume", v, err)
		}
	}
}

// decodeBuild decodes service.build.
func (d *decoder) decodeBuild(blk *block) *Build {
	b := blk.body
	bd := &Build{Context: d.str(b, "context"), Dockerfile: d.str(b, "dockerfile"), Args: d.strMap(b, "args"), Target: d.str(b, "target"), DeclRange: blk.hcl.DefRange}
	if b.set("context") && strings.TrimSpace(bd.Context) == "" {
		d.errorf(b.subject("context"), "Empty Value", "The build context must not be empty; use \".\" for the configuration's directory.")
	}
	if df := bd.Dockerfile; b.set("dockerfile") && (df == "" || filepath.IsAbs(df) || df == ".." || strings.HasPrefix(filepath.ToSlash(filepath.Clean(df)), "../")) {
		d.errorf(b.subject("dockerfile"), "Dockerfile Outside Context", "The Dockerfile %q must be a path inside the build context, such as \"Dockerfile\" or \"docker/web.Dockerfile\".", df)
	}
	return bd
}

// decodeStrategy decodes the service's strategy block; a service without
// one is blue-green, keeping the previous release running.
func (d *decoder) decodeStrategy(b *body, svc *Service) {
	svc.Strategy = "blue_green"
	svc.BlueGreen = &BlueGreen{KeepPrevious: "running", DeclRange: svc.DeclRange}
	for _, nb := range b.blocks {
		if nb.schema.OneOf != "strategy" {
			continue
		}
		svc.Strategy, svc.BlueGreen = nb.hcl.Type, nil
		switch nb.hcl.Type {
		case "blue_green":
			svc.BlueGreen = &BlueGreen{KeepPrevious: d.enum(nb.body, "keep_previous", "running", "stopped", "removed"), DeclRange: nb.hcl.DefRange}
		case "canary":
			svc.Canary = d.decodeCanary(nb)
		case "rolling":
			svc.Rolling = d.decodeRolling(nb)
			if svc.Replicas > 0 && svc.Rolling.BatchSize > svc.Replicas {
				d.errorf(nb.body.subject("batch_size"), "Batch Larger Than Replicas", "The rolling batch of service %q replaces %d replicas at once, but the service runs %d; make batch_size at most replicas.", svc.Name, svc.Rolling.BatchSize, svc.Replicas)
			}
		case "hotfix":
			svc.Hotfix = &Hotfix{Reason: d.str(nb.body, "reason"), DeclRange: nb.hcl.DefRange}
			if nb.body.get("reason").ok && strings.TrimSpace(svc.Hotfix.Reason) == "" {
				d.errorf(nb.body.subject("reason"), "Empty Hotfix Reason", "A hotfix needs a reason; it is recorded in the release record.")
			}
		}
	}
}

// decodeWatch decodes service.watch; svc's strategy is already decoded,
// for the default analysis.
func (d *decoder) decodeWatch(blk *block, svc *Service) *Watch {
	b := blk.body
	w := &Watch{Duration: d.dur(b, "duration"), Analysis: d.str(b, "analysis"), DeclRange: blk.hcl.DefRange}
	if a := b.get("duration"); a.ok && a.dur == 0 {
		d.errorf(b.subject("duration"), "Invalid Duration", "The watch duration must be longer than zero.")
	}
	if w.Analysis == "" && svc.Canary != nil {
		w.Analysis = svc.Canary.Analysis
	}
	if w.Analysis == "" {
		d.errorf(blk.hcl.DefRange.Ptr(), "Missing Watch Analysis", "The watch of service %q needs an analysis: set analysis = \"NAME\" in the watch block, or use a canary whose analysis it takes.", svc.Name)
	} else {
		d.refs = append(d.refs, analysisRef{name: w.Analysis, subject: b.subject("analysis")})
	}
	prev := time.Duration(-1)
	for _, sb := range b.blocks {
		if sb.hcl.Type != "stage" {
			continue
		}
		st := WatchStage{After: d.dur(sb.body, "after"), Analysis: d.str(sb.body, "analysis"), DeclRange: sb.hcl.DefRange}
		switch {
		case !sb.body.get("after").ok:
		case st.After <= prev:
			d.errorf(sb.body.subject("after"), "Watch Stages Not Increasing", "Watch stages must start in increasing order; %s follows %s.", st.After, prev)
		case w.Duration > 0 && st.After >= w.Duration:
			d.errorf(sb.body.subject("after"), "Watch Stage Too Late", "A watch stage must start before the watch ends (duration %s); %s does not.", w.Duration, st.After)
		}
		prev = st.After
		if st.Analysis != "" {
			d.refs = append(d.refs, analysisRef{name: st.Analysis, subject: sb.body.subject("analysis")})
		}
		w.Stages = append(w.Stages, st)
	}
	return w
}

// env decodes service.env into EnvVars sorted by name, one Sensitive flag
// per value.
func (d *decoder) env(b *body) []EnvVar {
	a := b.get("env")
	if !a.ok {
		return nil
	}
	raw, topMarks := a.raw.Unmark()
	if len(topMarks) > 0 {
		// HCL marks a whole object when a key is marked: a name is derived
		// from a secret, or the whole map is one.
		d.errorf(a.subject(b.rng), "Sensitive Environment Name",
			"The names of a service's environment variables are shown in plans and kept in plan files, state and container labels, so they cannot come from a sensitive value, and here a name (or the whole env map) does. Keep the names literal and mark only the values, such as env = { TOKEN = var.token }.")
		return nil
	}
	var out []EnvVar
	for it := a.val.ElementIterator(); it.Next(); {
		k, v := it.Element()
		name := k.AsString()
		if v.IsNull() {
			d.errorf(a.subject(b.rng), "Null Environment Value", "The environment variable %q has a null value; give it a string.", name)
			continue
		}
		sensitive := false
		if raw.Type().IsObjectType() || raw.Type().IsMapType() {
			var orig cty.Value
			if raw.Type().IsObjectType() {
				orig = raw.GetAttr(name)
			} else {
				orig = raw.Index(k)
			}
			sensitive = orig.ContainsMarked()
		}
		if err := valid.EnvName(name); err != nil {
			shown := fmt.Sprintf(" %q", name)
			if len(topMarks) > 0 {
				shown = "" // the map itself is sensitive, names included
			}
			d.errorf(a.subject(b.rng), "Invalid Environment Name", "The environment variable name%s is not valid: %s.%s", shown, err, a.origin())
			continue
		}
		out = append(out, EnvVar{Name: name, Value: v.AsString(), Sensitive: sensitive})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// decodeHealth decodes service.health.
func (d *decoder) decodeHealth(blk *block) *Health {
	b := blk.body
	h := &Health{
		Path:             d.str(b, "path"),
		Interval:         d.dur(b, "interval"),
		Timeout:          d.dur(b, "timeout"),
		Deadline:         d.dur(b, "deadline"),
		HealthyThreshold: d.int(b, "healthy_threshold"),
		DeclRange:        blk.hcl.DefRange,
	}
	if !strings.HasPrefix(h.Path, "/") || strings.IndexFunc(h.Path, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }) >= 0 {
		d.errorf(b.subject("path"), "Invalid Health Path", "The health path must start with \"/\" and hold no whitespace or control characters; %q does not.", h.Path)
	}
	for _, name := range []string{"interval", "timeout", "deadline"} {
		if a := b.get(name); a.ok && a.dur == 0 {
			d.errorf(b.subject(name), "Invalid Duration", "The argument %q must be longer than zero.", name)
		}
	}
	if h.Timeout > h.Interval && h.Interval > 0 {
		d.diags = append(d.diags, &hcl.Diagnostic{
			Severity: hcl.DiagWarning,
			Summary:  "Health Timeout Longer Than Interval",
			Detail:   fmt.Sprintf("A probe may take %s but probes start every %s, so a slow container is probed again before the last probe gave up; make timeout at most interval.", h.Timeout, h.Interval),
			Subject:  b.subject("timeout"),
		})
	}
	return h
}

// decodeRoute decodes service.route, refusing values that would inject
// nginx syntax.
func (d *decoder) decodeRoute(blk *block) *Route {
	b := blk.body
	r := &Route{
		Listen:       d.int(b, "listen"),
		ServerName:   d.str(b, "server_name"),
		Location:     d.str(b, "location"),
		TLSCert:      d.str(b, "tls_cert"),
		TLSKey:       d.str(b, "tls_key"),
		ProxyTimeout: d.dur(b, "proxy_timeout"),
		DeclRange:    blk.hcl.DefRange,
	}
	if err := valid.ServerName(r.ServerName); b.get("server_name").ok && err != nil {
		d.invalid(b, "server_name", "Invalid Server Name", "The server_name", r.ServerName, err)
	}
	if err := valid.Location(r.Location); b.get("location").ok && err != nil {
		d.invalid(b, "location", "Invalid Location", "The location", r.Location, err)
	}
	for _, name := range []string{"tls_cert", "tls_key"} {
		v := d.str(b, name)
		if err := valid.Quotable(v); err != nil {
			d.invalid(b, name, "Invalid TLS File", "The "+name+" path", v, err)
		}
	}
	if (r.TLSCert == "") != (r.TLSKey == "") {
		d.errorf(blk.hcl.DefRange.Ptr(), "Incomplete TLS Settings", "A route serving TLS needs both tls_cert and tls_key; set both or neither.")
	}
	return r
}

// decodeCanary decodes service.canary.
func (d *decoder) decodeCanary(blk *block) *Canary {
	b := blk.body
	c := &Canary{
		Pause:        d.dur(b, "pause"),
		Analysis:     d.str(b, "analysis"),
		StickyCookie: d.str(b, "sticky_cookie"),
		Header:       d.str(b, "header"),
		DeclRange:    blk.hcl.DefRange,
	}
	if err := valid.CookieName(c.StickyCookie); c.StickyCookie != "" && err != nil {
		d.invalid(b, "sticky_cookie", "Invalid Cookie Name", "The cookie name", c.StickyCookie, err)
	}
	if err := valid.HeaderName(c.Header); b.get("header").ok && err != nil {
		d.invalid(b, "header", "Invalid Header Name", "The header name", c.Header, err)
	}
	if c.Analysis != "" {
		d.refs = append(d.refs, analysisRef{name: c.Analysis, subject: b.subject("analysis")})
	}
	a := b.get("steps")
	if !a.ok {
		return c
	}
	rng := a.subject(b.rng)
	if a.sensitive {
		d.noSecret(b, "steps")
		return c
	}
	ty := a.val.Type()
	if !ty.IsListType() && !ty.IsTupleType() && !ty.IsSetType() || a.val.LengthInt() == 0 {
		d.errorf(rng, "Invalid Canary Steps", "The steps must be a non-empty list of percentages, or of objects { percent, pause, approve }.")
		return c
	}
	prev, invalid := -1, false
	for it := a.val.ElementIterator(); it.Next(); {
		_, ev := it.Element()
		step, ok := d.canaryStep(ev, rng)
		if !ok {
			invalid = true
			continue
		}
		if step.Percent < 0 || step.Percent > 100 {
			invalid = true
			d.errorf(rng, "Invalid Percentage", "A canary step is a percentage between 0 and 100; %d is not.", step.Percent)
		} else if step.Percent <= prev {
			d.errorf(rng, "Canary Steps Not Increasing", "Canary steps must strictly increase; %d follows %d.", step.Percent, prev)
		}
		prev = step.Percent
		c.Steps = append(c.Steps, step)
	}
	if !invalid && len(c.Steps) > 0 && c.Steps[len(c.Steps)-1].Percent != 100 {
		d.errorf(rng, "Canary Does Not Finish", "The last canary step must be 100, so that the release completes; it is %d.", c.Steps[len(c.Steps)-1].Percent)
	}
	return c
}

// canaryStep decodes one element of canary.steps: a number, or an object
// { percent, pause, approve }.
func (d *decoder) canaryStep(v cty.Value, rng *hcl.Range) (CanaryStep, bool) {
	var step CanaryStep
	if v.IsNull() {
		d.errorf(rng, "Invalid Canary Steps", "A canary step must not be null.")
		return step, false
	}
	if v.Type() == cty.Number {
		if err := gocty.FromCtyValue(v, &step.Percent); err != nil {
			d.errorf(rng, "Invalid Percentage", "A canary step must be a whole percentage; %s is not.", v.AsBigFloat().Text('g', -1))
			return step, false
		}
		return step, true
	}
	if !v.Type().IsObjectType() && !v.Type().IsMapType() {
		d.errorf(rng, "Invalid Canary Steps", "A canary step must be a percentage or an object { percent, pause, approve }.")
		return step, false
	}
	ok := true
	for it := v.ElementIterator(); it.Next(); {
		k, ev := it.Element()
		key := k.AsString()
		var err error
		switch key {
		case "percent":
			err = fromCty(ev, cty.Number, &step.Percent)
		case "approve":
			err = fromCty(ev, cty.Bool, &step.Approve)
		case "pause":
			var s string
			if err = fromCty(ev, cty.String, &s); err == nil {
				step.Pause, err = time.ParseDuration(s)
				if err == nil && step.Pause < 0 {
					err = fmt.Errorf("a negative duration")
				}
				if err == nil && step.Pause > maxPause {
					err = fmt.Errorf("longer than %s", formatDuration(maxPause))
				}
			}
		default:
			d.errorf(rng, "Unsupported Canary Step Attribute", "A canary step object takes percent, pause and approve; %q is not one of them.", key)
			ok = false
			continue
		}
		if err != nil {
			d.errorf(rng, "Invalid Canary Steps", "The %s of a canary step is invalid: %s.", key, err)
			ok = false
		}
	}
	if !ok {
		return step, false
	}
	if pv := v.Type(); (pv.IsObjectType() && !pv.HasAttribute("percent")) || (pv.IsMapType() && !v.HasIndex(cty.StringVal("percent")).True()) {
		d.errorf(rng, "Invalid Canary Steps", "A canary step object needs a percent.")
		return step, false
	}
	return step, true
}

// fromCty converts v to ty, then into the Go value at dst.
func fromCty(v cty.Value, ty cty.Type, dst any) error {
	if v.IsNull() {
		return fmt.Errorf("null is not allowed")
	}
	cv, err := convert.Convert(v, ty)
	if err != nil {
		return err
	}
	return gocty.FromCtyValue(cv, dst)
}

// decodeRolling decodes service.rolling.
func (d *decoder) decodeRolling(blk *block) *Rolling {
	b := blk.body
	r := &Rolling{
		BatchSize:      d.int(b, "batch_size"),
		MaxUnavailable: d.int(b, "max_unavailable"),
		Drain:          d.dur(b, "drain"),
		Pause:          d.dur(b, "pause"),
		DeclRange:      blk.hcl.DefRange,
	}
	return r
}

// decodeAnalysis decodes an analysis block.
func (d *decoder) decodeAnalysis(blk *hcl.Block, s *BlockSchema) *Analysis {
	b := d.decodeBody(blk.Body, s, blk.DefRange)
	an := &Analysis{
		Name:        blk.Labels[0],
		Source:      d.enum(b, "source", "nginx", "prometheus", "probe"),
		Interval:    d.dur(b, "interval"),
		MinRequests: d.int(b, "min_requests"),
		DeclRange:   blk.DefRange,
	}
	if a := b.get("interval"); a.ok && a.dur == 0 {
		d.errorf(b.subject("interval"), "Invalid Duration", "The analysis interval must be longer than zero.")
	}
	an.QueryErrorLimit = d.int(b, "query_error_limit")
	if t := b.first("error_rate"); t != nil {
		an.ErrorRate = d.threshold(t, func(a *attr) float64 { return a.num / 100 })
	}
	if t := b.first("latency_p95"); t != nil {
		an.LatencyP95 = d.threshold(t, func(a *attr) float64 { return a.dur.Seconds() })
	}
	if pb := b.first("prometheus"); pb != nil {
		an.Prometheus = d.decodePrometheus(pb)
		if an.Source != "prometheus" {
			d.diags = append(d.diags, &hcl.Diagnostic{
				Severity: hcl.DiagWarning,
				Summary:  "Unused Prometheus Block",
				Detail:   fmt.Sprintf("The analysis %q reads from the %q source, so its prometheus block is not used; set source = \"prometheus\" to use it.", an.Name, an.Source),
				Subject:  pb.hcl.DefRange.Ptr(),
			})
		}
	} else if an.Source == "prometheus" {
		d.errorf(b.subject("source"), "Missing Prometheus Block", "The analysis %q reads from Prometheus, so it needs a prometheus block with the API's url and the requests and errors queries.", an.Name)
	}
	if an.Prometheus != nil && an.LatencyP95 != nil && an.Prometheus.P95 == "" && an.Source == "prometheus" {
		d.errorf(b.first("latency_p95").hcl.DefRange.Ptr(), "Missing P95 Query", "The analysis %q judges latency_p95, so its prometheus block needs a p95 query.", an.Name)
	}
	return an
}

// promPlaceholders are the placeholders that tell the versions apart in a
// Prometheus query.
var promPlaceholders = []string{"{{version}}", "{{release}}"}

// decodePrometheus decodes analysis.prometheus.
func (d *decoder) decodePrometheus(blk *block) *Prometheus {
	b := blk.body
	p := &Prometheus{
		URL:       d.str(b, "url"),
		Requests:  d.str(b, "requests"),
		Errors:    d.str(b, "errors"),
		P50:       d.str(b, "p50"),
		P95:       d.str(b, "p95"),
		P99:       d.str(b, "p99"),
		DeclRange: blk.hcl.DefRange,
	}
	if b.get("url").ok && p.URL != "" {
		u, err := url.Parse(p.URL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			d.errorf(b.subject("url"), "Invalid Prometheus URL", "The url must be the Prometheus HTTP API's base URL, http(s)://host[:port][/prefix], such as \"http://127.0.0.1:9090\"; %q is not.", p.URL)
		}
	} else if b.get("url").ok {
		d.errorf(b.subject("url"), "Empty Value", "The Prometheus url must not be empty.")
	}
	for _, name := range []string{"requests", "errors", "p50", "p95", "p99"} {
		q := d.str(b, name)
		switch {
		case !b.set(name):
		case strings.TrimSpace(q) == "" && (name == "requests" || name == "errors"):
			d.errorf(b.subject(name), "Empty Value", "The %s query must not be empty.", name)
		case strings.TrimSpace(q) != "" && !containsAny(q, promPlaceholders):
			d.diags = append(d.diags, &hcl.Diagnostic{
				Severity: hcl.DiagWarning,
				Summary:  "Query Reads Both Versions Alike",
				Detail:   fmt.Sprintf("The %s query has neither {{version}} nor {{release}}, so stable and candidate read the same numbers and the canary is not compared with stable.", name),
				Subject:  b.subject(name),
			})
		}
	}
	return p
}

// containsAny reports whether s contains any of subs.
func containsAny(s string, subs []string) bool {
	for _, sub := range subs {
		if strings.Contains(s, sub) {
			return true
		}
	}
	return false
}

// threshold decodes error_rate or latency_p95; level reads warn and fail.
func (d *decoder) threshold(blk *block, level func(*attr) float64) *Threshold {
	b := blk.body
	t := &Threshold{WarnFor: d.dur(b, "warn_for"), DeclRange: blk.hcl.DefRange}
	if a := b.get("warn"); a.ok && d.noSecret(b, "warn") {
		t.Warn = level(a)
	}
	if a := b.get("relative"); a.ok && d.noSecret(b, "relative") {
		t.Relative = level(a)
	}
	if a := b.get("fail"); a.ok && d.noSecret(b, "fail") {
		t.Fail = level(a)
	}
	if b.get("warn").ok && b.get("fail").ok && t.Warn >= t.Fail {
		d.errorf(b.subject("warn"), "Warn Threshold Not Below Fail", "The warn level must be below the fail level, or a reading would fail before it warns.")
	}
	return t
}

// decodeCheck decodes a check block; its kind block's attributes are kept
// as evaluated, marks included.
func (d *decoder) decodeCheck(blk *hcl.Block, s *BlockSchema) *Check {
	b := d.decodeBody(blk.Body, s, blk.DefRange)
	c := &Check{
		Name:      blk.Labels[0],
		Phase:     d.enum(b, "phase", "pre", "preview", "post"),
		Severity:  d.enum(b, "severity", "critical", "warning"),
		Tags:      d.strs(b, "tags"),
		DeclRange: blk.DefRange,
	}
	for _, nb := range b.blocks {
		if nb.schema.OneOf != "kind" {
			continue
		}
		c.Kind = nb.hcl.Type
		c.Attrs = map[string]cty.Value{}
		for name, a := range nb.body.attrs {
			if a.hasRaw {
				c.Attrs[name] = a.raw
			}
		}
	}
	if c.Kind == "" {
		d.errorf(blk.DefRange.Ptr(), "Missing Check Kind", "The check %q needs exactly one kind block, one of: %s.", c.Name, strings.Join(CheckKinds(), ", "))
	}
	return c
}

// decodeNotify decodes a notify block.
func (d *decoder) decodeNotify(blk *hcl.Block, s *BlockSchema) *Notify {
	b := d.decodeBody(blk.Body, s, blk.DefRange)
	n := &Notify{
		Name:      blk.Labels[0],
		Webhook:   d.secret(b, "webhook", true),
		On:        d.strs(b, "on"),
		Format:    d.enum(b, "format", "json", "slack"),
		DeclRange: blk.DefRange,
	}
	if !b.get("on").ok {
		n.On = Events()
	}
	known := Events()
	for _, ev := range n.On {
		found := false
		for _, k := range known {
			found = found || ev == k
		}
		if !found {
			d.errorf(b.subject("on"), "Unknown Event", "The event %q is not one of %s.", ev, quoteList(known))
		}
	}
	if err := valid.WebhookURL(n.Webhook.Value); n.Webhook.Value != "" && err != nil {
		d.errorf(b.subject("webhook"), "Invalid Webhook URL", "The webhook of notify %q is not valid: %s; it is not shown, as a webhook is treated as a secret.%s", n.Name, err, b.get("webhook").origin())
	}
	if b.get("webhook").ok && n.Webhook.Value == "" {
		d.diags = append(d.diags, &hcl.Diagnostic{
			Severity: hcl.DiagWarning,
			Summary:  "Empty Webhook",
			Detail:   fmt.Sprintf("The webhook of notify %q is empty, so it will not be called; when it comes from env(), is the environment variable set?", n.Name),
			Subject:  b.subject("webhook"),
		})
	}
	return n
}
