// Package prober sends keep-alive HTTP GET requests to a route and counts
// what comes back: answers that pass, answers that do not (non-2xx, or
// rejected by a caller's check), and transport errors (refused, reset,
// closed, timed out), separately.
//
// It serves two purposes. During an apply, slipway's own Prober sends
// requests through nginx while traffic moves, and its counts go into the
// operation record and the apply output. In tests and benchmarks, a Load
// drives a short burst of traffic across a switch or a rollback.
//
// Requests go through a minimal HTTP/1.1 client written over net.Conn, not
// net/http, because net/http silently retries some idempotent requests that
// fail on a reused connection and would hide exactly the failures a strict
// client must see. Two modes exist: Strict never retries; Retrying retries a
// GET once when it failed on a reused keep-alive connection before any byte
// of the response arrived, as browsers do.
//
// Only plain http:// URLs are supported.
package prober
