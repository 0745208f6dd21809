// Package nginx implements providers.Router on a real nginx.
//
// Each route is one file in the configured config_dir, named
// slipway-<project>[-<env>]-<service>.conf, whose first line is a
// "# managed by slipway" header carrying the project, env, service, release
// and the sha256 checksum of everything after that line. slipway writes and
// removes only its own files there and refuses to overwrite a file whose
// header names someone else.
//
// A route file holds two upstream groups per service, stable and candidate.
// split_clients on $request_id (or on a sticky cookie) chooses the group of
// each request, a canary header sends testers to the candidate, and the
// chosen group is written to a dedicated tab-separated access log (see
// LogFormatFields) so that analysis attributes every request exactly.
// proxy_next_upstream is off: a failing candidate's request is never retried
// on stable.
//
// Traffic moves through a Switcher. Reload, the one implemented here, runs
// "nginx -t" with the configured binary, prefix and conf, then
// "nginx -s reload". After a switch slipway confirms the new routing is
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
package nginx
