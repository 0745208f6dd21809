// Package redact hides sensitive values in free text: container logs,
// check output, error messages of Docker, PostgreSQL and the programs
// slipway runs. Every masker of slipway (views, providers, checks, the
// CLI) uses it, so one rule holds everywhere.
//
// The rule: a sensitive value of at least MinLen bytes is replaced, every
// whole occurrence of it, by Mark; longer values first, so that a value
// holding another is hidden entirely and never leaves part of itself
// behind. A shorter value is never searched for: in ordinary text a
// one-character secret matches everywhere ("e" turns example/web into
// "(sensitive)xampl(sensitive)/w(sensitive)b"), which garbles the text and
// spells the secret out by where the marks fall. Such values are guessable
// anyway; keep secrets long.
//
// Structured output (plans, plan files, JSON events, records) never needs
// this package: there a value is known to be sensitive where it is, and is
// left out or written as Mark in its place. redact is only for text whose
// structure slipway does not know.
package redact
