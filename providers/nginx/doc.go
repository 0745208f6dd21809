// Package nginx implements providers.Router on a real nginx.
//
// Each route is one file in the configured config_dir, named
// slipway-<project>[-<env>]-<service>.conf, whose first line is a
// "# managed by slipway" header carrying the project, env, service, release
// and the sha256 checksum of everything after that line. slipway writes and
// removes only its own files there and refuses to overwrite a file whose
// header names someone else, or a symbolic link at a route file's name. It
// refuses a config_dir that is not owned by the running user or root, or
// that group or others can write (see internal/safedir.CheckShared).
//
// A route file holds two upstream groups per service, stable and candidate.
// split_clients on $request_id (or on a sticky cookie) chooses the group of
// each request, a canary header sends testers to the candidate, and the
// chosen group is written to a dedicated tab-separated access log (see
// LogFormatFields) so that analysis attributes every request exactly.
// A request whose connection to a peer failed before any answer (a
// container that died, a port no longer published) is tried again on
// another peer of the same group (proxy_next_upstream error, never
// timeout): a failing candidate's request is never retried on stable, so
// attribution stays exact, and upstream_addr lists every peer tried, the
// one that answered last. nginx never sends a non-idempotent request
// (POST) to a next peer once it went out.
//
// Options.Switch chooses how traffic changes go live: "reload" (the
// default), "dynamic", or "auto" (dynamic when "nginx -T" shows the Lua
// module loaded, else reload; Mode says which).
//
// In reload mode traffic moves through a Switcher. Reload, the one
// implemented here, runs "nginx -t" with the configured binary, prefix and
// conf, then "nginx -s reload". Every reload makes nginx's old workers
// close their idle keep-alive connections, and a request a client sends on
// one at that moment is lost.
//
// In dynamic mode (nginx's Lua module: Debian's libnginx-mod-http-lua, or
// OpenResty) the route file still holds the whole routing, as a Table of
// peers, weight, versions, sticky cookie and canary header that the Lua
// code starts from, so a started or restarted nginx routes right. A
// lua_shared_dict holds the live table; each request's group is chosen
// from it exactly as split_clients would (MurmurHash2 of $request_id or of
// the sticky cookie, the canary header wins), written to the same access
// log variable, and balancer_by_lua picks a peer of that group, round
// robin. The balancer allows one try per peer of the group, never tries a
// peer twice for one request, and skips for 2 s a peer whose connection
// failed (nginx's max_fails does not apply to peers a Lua balancer
// picks), unless every peer of the group failed. Each route
// has an admin endpoint, "GET|PUT /table" on a unix socket in
// Options.AdminDir, a directory slipway keeps 0700 (nginx makes its sockets
// world-writable; the directory keeps other users out). Apply writes the
// file for the next start, sets the table over the socket, reads it back
// and confirms the new tag answers: no reload, no connection closed. Only
// a change of the route's shape (listen port, server name, location, TLS
// files, timeouts, access log) reloads; PlanSwitch says which will happen
// and Live reports the table nginx uses. A table set over the socket is
// tied to the file nginx loaded: after a reload or a restart the file is
// the truth. nginx leaves the socket file behind when its master is killed
// with SIGKILL, and then refuses to start ("bind() ... Address already in
// use") until it is removed: clear AdminDir/*.sock before starting nginx
// (AdminDir defaults to /run/slipway/nginx, which a reboot empties). Apply
// removes such a stale socket itself before it reloads.
//
// After a switch slipway confirms the new routing is
// live: every response of the route carries an X-Slipway-Release header
// naming "<release>/<short checksum>", and Apply polls it until it names the
// new file. On any failure the previous file is restored byte for byte and
// the error carries nginx's own message.
//
// "Live" means every new connection gets the new routing: after a reload
// nginx's old workers accept for a short while (about 100ms), so the new tag
// must answer alone for a settle period. Old workers still finish the
// requests they hold, on the old routing; stop old containers only after a
// drain. A route whose listen port and server_name another server block
// already serves is rejected before the reload (nginx would serve only one
// of them); routes of one host therefore need distinct names or ports.
//
// A reload whose new configuration nginx cannot load (a listen port
// another program holds: "bind() ... Address already in use") leaves the
// old configuration serving while the reload command succeeds. When a
// reload fails or does not take effect, the error quotes the newest
// [emerg] or [alert] line nginx wrote to its error log since (the main
// configuration's error_log, or the compiled-in default). CheckListen
// tells beforehand who holds a route's port: nobody, nginx itself (the
// configured master, found by its pid file, holds the listening socket),
// or another program, named by pid and command when /proc shows it.
//
// Observe reports, with each route file, the peers it names and what nginx
// serves for it now, which an interrupted switch can leave different: the
// live table of a dynamic route, else the file's peers when the release tag
// that answers is the file's; another tag is a routing that cannot be read
// back (providers.Serving.Known is false). It changes nothing.
package nginx
