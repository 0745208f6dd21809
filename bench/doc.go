// Package bench holds slipway's benchmarks against the real world: a private
// nginx, demo images built FROM scratch, and the slipway binary itself. They
// produce the numbers in docs/benchmarks.md (`make bench`).
//
// The benchmarks skip when Docker or nginx is missing, except under CI=true,
// where a missing component fails them. Each one cleans up what it started:
// its containers (by the io.slipway.project label), its nginx and its
// temporary directories. They measure; they never assert a wall-clock time.
package bench
