// Package analysis reads per-version metrics while a canary step runs and
// turns them into verdicts.
//
// A Source returns a Window: for one interval, a Reading of the stable and
// of the candidate group (request count, 5xx count and rate, p50, p95 and
// p99 of the response time) read in the same window, so the candidate is
// always compared with stable under the same load. Three sources exist:
//
//   - Nginx tails the access log slipway's routes write (the tab-separated
//     format of providers/nginx.LogFormatFields), attributes each line to
//     stable or candidate by the logged group, and follows rotation
//     (rename and a new file) and truncation (copytruncate).
//   - Prometheus runs instant queries over the HTTP API, one per metric and
//     version; a query that fails is counted in Window.QueryErrors, apart
//     from failed requests.
//   - Probe sends slipway's own requests at a set rate to each group, for
//     services too quiet to judge from their own traffic.
//
// A Judge turns each Window into a Verdict: NoData when either version saw
// fewer than min_requests (never a pass), Fail when the candidate crosses a
// fail threshold, is worse than stable by more than a relative margin, has
// warned for longer than warn_for, or when query errors persist past a
// limit; Warn when it crosses a warn threshold; Pass otherwise.
//
// One engine serves canary steps and watches. Open opens the source a
// plan.Analysis names (the planner resolves it for a canary step; a watch
// resolves one for the live release), one loop reads and judges windows
// back to back, and the judge's reasons are used as they are:
//
//   - A Gate runs one canary step's analysis: windows for the step's
//     duration, failing at the first failing window. Analyzer runs the
//     analyse steps of a plan through it.
//   - A Watch judges the live version alone (JudgeOptions.Live) for a
//     watch's duration, switching analyses at the watch's stages.
package analysis
