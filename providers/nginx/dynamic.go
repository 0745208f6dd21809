package nginx

import (
	"fmt"
	"net"
	"net/netip"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/slipwayhq/slipway/providers"
)

// Switch modes of Options.Switch.
const (
	// SwitchReload rewrites the route file and reloads nginx for every change.
	SwitchReload = "reload"
	// SwitchDynamic changes peers, shares, versions and the sticky and
	// canary rules through the route's admin endpoint, without a reload;
	// it reloads only when the route's shape changes. It needs nginx's Lua
	// module (Debian's libnginx-mod-http-lua, or OpenResty).
	SwitchDynamic = "dynamic"
	// SwitchAuto is SwitchDynamic when the running configuration loads the
	// Lua module, else SwitchReload.
	SwitchAuto = "auto"
)

// DefaultAdminDir is where dynamic routes put their admin sockets unless
// Options.AdminDir says otherwise.
const DefaultAdminDir = "/run/slipway/nginx"

// Markers filled in after the shape of a dynamic file is hashed.
const (
	shapeMarker = "@@SLIPWAY_SHAPE@@"
	tableMarker = "@@SLIPWAY_TABLE@@"
)

// shapePrefix starts the line of a dynamic file that names its shape.
const shapePrefix = "# slipway-shape: "

// AdminSocket returns the path of a dynamic route's admin socket in dir;
// valid.AdminDir keeps it within valid.MaxSocketPath bytes.
func AdminSocket(dir, project, env, service string) string {
	return filepath.Join(dir, varID(project, env, service)+".sock")
}

// validateDynamic checks what only the dynamic rendering needs: the Lua
// balancer takes IP addresses, not names.
func validateDynamic(spec providers.RouteSpec) error {
	var errs []string
	for _, group := range [][]string{spec.Stable, spec.Candidate} {
		for _, addr := range group {
			host, _, err := net.SplitHostPort(addr)
			if err != nil {
				continue // validate reported it
			}
			if _, err := netip.ParseAddr(host); err != nil {
				errs = append(errs, fmt.Sprintf("upstream %q: dynamic switching needs an IP address, not a name (or use switch = \"reload\")", addr))
			}
		}
	}
	if len(errs) == 0 {
		return nil
	}
	return fmt.Errorf("%w %s: %s", ErrInvalidSpec, spec.Project+"/"+spec.Env+"/"+spec.Service, strings.Join(errs, "\n"))
}

// longBracket quotes text as a Lua long string whose closing bracket text
// does not contain.
func longBracket(text string) string {
	eq := "="
	for strings.Contains(text, "]"+eq+"]") {
		eq += "="
	}
	return "[" + eq + "[\n" + text + "]" + eq + "]"
}

// shapeOf returns the shape a dynamic route file declares; ok is false for
// a reload-mode or foreign file.
func shapeOf(content []byte) (shape string, ok bool) {
	for _, line := range strings.Split(string(content), "\n") {
		if v, found := strings.CutPrefix(line, shapePrefix); found {
			return v, true
		}
		if strings.HasPrefix(line, "lua_shared_dict") || strings.HasPrefix(line, "upstream") {
			break
		}
	}
	return "", false
}

// fileTable returns the table a dynamic route file starts nginx with; ok
// is false when content holds none.
func fileTable(content []byte) (Table, bool) {
	_, rest, found := strings.Cut(string(content), "m.boot = assert(m.parse([")
	if !found {
		return Table{}, false
	}
	eq := rest[:len(rest)-len(strings.TrimLeft(rest, "="))]
	rest, found = strings.CutPrefix(rest[len(eq):], "[\n")
	if !found {
		return Table{}, false
	}
	text, _, found := strings.Cut(rest, "]"+eq+"]")
	var t Table
	if !found || t.UnmarshalText([]byte(text)) != nil {
		return Table{}, false
	}
	return t, true
}

// renderDynamicBody is the dynamic file's body with shapeMarker and
// tableMarker (and tagPlaceholder inside the table) not yet filled in.
func renderDynamicBody(spec providers.RouteSpec, o renderOptions) string {
	id := routeID(spec.Project, spec.Env, spec.Service)
	vid := varID(spec.Project, spec.Env, spec.Service)
	v := "$slipway_" + vid // variable prefix
	up := "slipway_" + id  // upstream and log format prefix
	sock := AdminSocket(o.AdminDir, spec.Project, spec.Env, spec.Service)
	module := strings.NewReplacer("VID", vid, "BOOT", tableMarker, "SHAPE", shapeMarker).Replace(luaModule)
	var b strings.Builder
	p := func(format string, args ...any) { fmt.Fprintf(&b, format+"\n", args...) }
	indent := func(prefix, code string) {
		for _, l := range strings.Split(strings.TrimSuffix(code, "\n"), "\n") {
			if l == "" {
				b.WriteString("\n")
			} else {
				b.WriteString(prefix + l + "\n")
			}
		}
	}

	p("# Do not edit: slipway rewrites this file and reports any change as drift.")
	p("# Route of service %q (project %q, env %q), switched dynamically:", spec.Service, spec.Project, spec.Env)
	p("# nginx starts with the live table below; slipway changes the live routing")
	p("# over the admin socket %s without a reload, and rewrites", sock)
	p("# this file to match, so a restarted nginx routes the same way.")
	p("%s%s", shapePrefix, shapeMarker)
	p("")
	p("lua_shared_dict slipway_%s 128k;", vid)
	p("")
	p("upstream %s {", up)
	p("    server 0.0.0.1; # a placeholder: the balancer picks every peer")
	p("    balancer_by_lua_block {")
	indent("        ", strings.NewReplacer("VID", vid, "FAILS", strconv.FormatFloat(failMemory.Seconds(), 'f', -1, 64)).Replace(luaBalancer))
	p("    }")
	p("    keepalive 32;")
	p("}")
	p("")
	writeServerHead(p, spec, o, up, v)
	p(`        set %s_tag "";`, v)
	p(`        set %s_version "-";`, v)
	p(`        set %s_set_cookie "";`, v)
	p("        # The group (and the variables above) from the live table.")
	p("        set_by_lua_block %s_group {", v)
	indent("            ", module)
	p("            return m.choose()")
	p("        }")
	p("        add_header %s %s_tag always;", HeaderRelease, v)
	p("        add_header %s %s_group always;", HeaderGroup, v)
	p("        add_header Set-Cookie %s_set_cookie always;", v)
	writeProxy(p, spec, up, v)
	p("    }")
	p("}")
	p("")
	p("# The admin endpoint: GET or PUT /table. Only root can enter %s.", o.AdminDir)
	p("server {")
	p("    listen unix:%s;", sock)
	p("    access_log off;")
	p("    client_body_buffer_size 64k;")
	p("    client_max_body_size 64k;")
	p("")
	p("    location = /table {")
	p("        content_by_lua_block {")
	indent("            ", module)
	p("            m.admin()")
	p("        }")
	p("    }")
	p("")
	p("    location / {")
	p("        return 404;")
	p("    }")
	p("}")
	return b.String()
}

// luaModule defines, once per nginx worker, the route's Lua module m:
// VID is the route's variable id, BOOT the table the file holds (a Lua long
// string). The live table lives in the shared dict slipway_VID under
// "table", as "<tag of the loaded file>\n<table text>": a table set against
// another loaded file (before a reload or a restart) is ignored, so the file
// is the truth after every load.
const luaModule = `local m = package.loaded.slipway_VID
if not m then
    m = {rr = 0}
    local bit = require "bit"
    local band, bor, bxor = bit.band, bit.bor, bit.bxor
    local lshift, rshift, tobit = bit.lshift, bit.rshift, bit.tobit
    local dict = ngx.shared.slipway_VID

    -- 32-bit multiplication modulo 2^32, exact in doubles.
    local function mul(a, b)
        return tobit(band(a, 0xffff) * b + lshift(tobit(rshift(a, 16) * b), 16))
    end

    -- nginx's ngx_murmur_hash2, which split_clients uses, as an unsigned number.
    function m.murmur(s)
        local n, M = #s, 0x5bd1e995
        local h, i = tobit(n), 1
        while n >= 4 do
            local a, b, c, d = s:byte(i, i + 3)
            local k = mul(bor(a, lshift(b, 8), lshift(c, 16), lshift(d, 24)), M)
            k = mul(bxor(k, rshift(k, 24)), M)
            h = bxor(mul(h, M), k)
            i, n = i + 4, n - 4
        end
        if n == 3 then h = bxor(h, lshift(s:byte(i + 2), 16)) end
        if n >= 2 then h = bxor(h, lshift(s:byte(i + 1), 8)) end
        if n >= 1 then h = mul(bxor(h, s:byte(i)), M) end
        h = mul(bxor(h, rshift(h, 13)), M)
        h = bxor(h, rshift(h, 15))
        if h < 0 then h = h + 4294967296 end
        return h
    end

    function m.parse(s)
        local t = {stable = {}, candidate = {}, text = s, tag = "", cookie = "", header = "",
            stable_version = "", candidate_version = ""}
        for line in s:gmatch("[^\n]+") do
            local k, v = line:match("^(%S+) ?(.*)$")
            if k == "stable" or k == "candidate" then
                for a in v:gmatch("%S+") do
                    local host, port = a:match("^(.+):(%d+)$")
                    if not host then return nil, "bad address " .. a end
                    table.insert(t[k], {host, tonumber(port), a})
                end
            elseif k == "weight" or k == "release" then
                t[k] = tonumber(v)
                if not t[k] then return nil, "bad " .. k end
            elseif k then
                t[k] = v
            end
        end
        if not t.weight or t.weight < 0 or t.weight > 100 then return nil, "bad weight" end
        if #t.stable == 0 or #t.candidate == 0 then return nil, "empty group" end
        -- split_clients: the first weight% of the hash range is the candidate's.
        t.threshold = math.floor(t.weight * 4294967295 / 100)
        if t.header ~= "" then t.hvar = "http_" .. (t.header:lower():gsub("-", "_")) end
        return t
    end

    m.boot = assert(m.parse(BOOT))

    -- get returns the live table and where it comes from: "live" (set
    -- over the admin endpoint) or "file".
    function m.get()
        local raw = dict:get("table")
        if raw == nil then return m.boot, "file" end
        if raw ~= m.raw then
            local base, text = raw:match("^([^\n]*)\n(.*)$")
            m.raw, m.cur = raw, base == m.boot.tag and m.parse(text) or false
        end
        if m.cur then return m.cur, "live" end
        return m.boot, "file"
    end

    function m.choose()
        local t = m.get()
        ngx.ctx.slipway_VID = t
        local key = ngx.var.request_id
        if t.cookie ~= "" then
            local c = ngx.var["cookie_" .. t.cookie]
            if c and c ~= "" then
                key = c
            else
                ngx.var.slipway_VID_set_cookie = t.cookie .. "=" .. key .. "; Path=/; HttpOnly; SameSite=Lax"
            end
        end
        local g = "stable"
        if t.weight >= 100 or (t.weight > 0 and m.murmur(key) < t.threshold) then g = "candidate" end
        if t.hvar then
            local h = ngx.var[t.hvar]
            if h and h ~= "" then g = "candidate" end
        end
        local v = g == "candidate" and t.candidate_version or t.stable_version
        ngx.var.slipway_VID_version = v ~= "" and v or "-"
        ngx.var.slipway_VID_tag = t.tag
        return g
    end

    function m.admin()
        local method = ngx.req.get_method()
        if method == "PUT" then
            ngx.req.read_body()
            local body = ngx.req.get_body_data()
            local t, err = m.parse(body or "")
            if not t then
                ngx.status = 400
                ngx.say("bad table: ", err)
                return
            end
            local ok, serr = dict:set("table", m.boot.tag .. "\n" .. body)
            if not ok then
                ngx.status = 500
                ngx.say("set table: ", serr)
                return
            end
        elseif method ~= "GET" then
            ngx.status = 405
            ngx.header["Allow"] = "GET, PUT"
            return
        end
        local t, source = m.get()
        ngx.header["Content-Type"] = "text/plain"
        ngx.header["X-Slipway-Source"] = source
        ngx.header["X-Slipway-Shape"] = m.shape
        ngx.print(t.text)
    end

    m.shape = "SHAPE"
    package.loaded.slipway_VID = m
end
`

// failMemory is how long, in dynamic mode, the balancer keeps choosing
// other peers of a group after a connection to one failed: long enough
// that a dead container does not cost every request a failed try, short
// enough that a restarted one gets requests again at once. nginx's own
// max_fails and fail_timeout (10 s by default) do not apply to peers a
// Lua balancer picks.
const failMemory = 2 * time.Second

// luaBalancer picks a peer of the request's group, round robin, skipping
// the peers whose connection failed within failMemory (unless every peer
// did). When a try fails before any answer (proxy_next_upstream error),
// nginx calls it again: it remembers the failed peer in the shared dict
// (under "down <host:port>", which expires by itself) and picks another
// peer of the same group that this request has not tried, so a request
// is tried at most once on each peer of its group and never on the other
// group; with none left it answers 502.
const luaBalancer = `local m = package.loaded.slipway_VID
local t = ngx.ctx.slipway_VID
if not m or not t then return ngx.exit(500) end
local balancer = require "ngx.balancer"
local dict = ngx.shared.slipway_VID
local peers = t[ngx.var.slipway_VID_group] or t.stable
local tried = ngx.ctx.slipway_VID_tried
if tried then
    -- A retry: the last peer tried failed before answering.
    dict:set("down " .. tried[#tried], true, FAILS)
else
    tried = {}
    ngx.ctx.slipway_VID_tried = tried
    if #peers > 1 then
        local ok, err = balancer.set_more_tries(#peers - 1)
        if not ok then ngx.log(ngx.WARN, "slipway: set more tries: ", err) end
    end
end
local function untried(a)
    for _, b in ipairs(tried) do
        if a == b then return false end
    end
    return true
end
m.rr = m.rr + 1
local p
for pass = 1, 2 do
    for i = 0, #peers - 1 do
        local q = peers[(m.rr + i) % #peers + 1]
        if untried(q[3]) and (pass == 2 or not dict:get("down " .. q[3])) then
            p = q
            break
        end
    end
    if p then break end
end
if not p then return ngx.exit(502) end
table.insert(tried, p[3])
local ok, err = balancer.set_current_peer(p[1], p[2])
if not ok then
    ngx.log(ngx.ERR, "slipway: set peer ", p[3], ": ", err)
    return ngx.exit(502)
end
`
