// Package testenv runs the real services slipway's tests and demo need,
// privately and on loopback only: demo images built FROM scratch around
// examples/demoapp through the Docker API, a private nginx instance under its
// own prefix, and a private PostgreSQL 15 server owned by the postgres user.
//
// Nothing here touches system services: nginx runs with -p/-c/-e on files
// under a directory the caller owns, PostgreSQL in a fresh directory under
// /tmp on a free 127.0.0.1 port. Every Start has a Stop that waits for the
// processes to exit; callers register it with t.Cleanup.
//
// Tests that need a component call the matching Available function and pass
// its error to Require, which skips the test when the component is missing,
// except under CI=true, where a missing component fails the test.
package testenv
