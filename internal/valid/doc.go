// Package valid holds the rules a value must follow to reach nginx or
// Docker: names, server names, locations, header and cookie names, paths
// written into nginx files, listen and host addresses, image references,
// environment variable names, memory and CPU limits, volumes, extra hosts
// and webhook URLs.
//
// It is the one rule set shared by config's validation (so that
// `slipway validate` and plan report a bad value at its file and line) and
// by the providers' own last-line checks (providers/nginx refuses to render
// what breaks nginx), so the two cannot disagree: a value validate accepts
// renders, and a value the renderer refuses never passes validate.
//
// Each rule is a pure function that returns nil or an error whose lower
// case message says what a good value looks like. The message never
// repeats the value: callers quote it where it is not sensitive.
package valid
