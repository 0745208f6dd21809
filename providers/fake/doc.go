// Package fake is a world of fake providers: a container runtime and a
// router that keep what they run as records, so that tests drive a whole
// operation without Docker or nginx. Nothing runs: a started container
// is a record with an address no one listens on, a route is a record,
// every health gate passes unless a test says otherwise.
//
// The executor's tests drive a World directly, reading the log of calls
// it keeps (Events) and checking, through Before, that the journal was
// written before each call that changes the world. The test binary of
// cmd/slipway opens one on a file (Open), which every slipway process of
// a script reads and writes, and hands it to the operation as its
// operation.World; the shipped binary has no way to choose it.
//
// A World has no databases of its own: Database builds the real one the
// configuration declares, so that a script can keep a private PostgreSQL
// while the containers and routes are fake.
package fake
