// Package checks runs the conditions a release must meet before, during and
// after it: the check blocks of the configuration.
//
// Each check holds one kind block (http, tcp, websocket, command, env, tls,
// git, disk, memory, postgres, redis, nginx, container, static, assert).
// The configuration decodes a kind block's attributes free-form; this
// package owns their names and types (see Attributes and Validate), so a
// misspelt or mistyped attribute fails the check with a clear message
// instead of being ignored.
//
// Run executes checks in parallel (at most Env.Parallel at once), each
// bounded by its own timeout (the kind's "timeout" attribute, default 10s),
// and returns one Result per check in input order. A Result carries the
// evidence a release record keeps: what was asked, what answered, and how
// long it took. Every sensitive value (Env.Mask, and any attribute value
// derived from a sensitive variable) is masked as "(sensitive)" in evidence
// and errors, by the rule of internal/redact: values shorter than
// redact.MinLen are not searched for.
//
// A preview check runs against the candidate before traffic moves; its
// string attributes may name the candidate as "{{candidate.url}}"
// ("http://127.0.0.1:PORT") or "{{candidate.address}}" ("127.0.0.1:PORT").
// Without a candidate (Env.Candidate empty) such a check is skipped.
//
// ExitCode turns results into the exit code of `slipway check`: 0 when all
// passed, 1 when only warning checks failed, 2 when a critical check failed
// (or, strict, any check).
package checks
