// Package confgen generates whole slipway configurations for property
// tests and fuzzing: a project, an nginx block, services with routes,
// strategies, health gates and resources, analyses and notifications, and
// -var options, each value drawn from a pool of valid values or, now and
// then, from a pool of values that slipway must refuse (a wildcard nginx
// rejects, "NaN%", a billion replicas, an upper-case image name, ...).
//
// A Chooser drives every choice: a math/rand source for a seeded property
// test, or the bytes of a fuzz input (Bytes), so the fuzzer steers the
// generator. Routes plans a configuration against a world in which every
// image exists and returns the route each service would have mid-release,
// both groups populated, ready to render.
//
// The package is for tests only; nothing in slipway imports it.
package confgen
