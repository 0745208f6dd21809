// Package records holds operation records: one per apply, rollback,
// promote or abort, saying who ran it, when, from which config commit, the
// plan, every step with its start, end and outcome, check evidence,
// analysis readings, prober counts and the result. The executor fills a
// Record from the start of an operation and writes it as it goes; Write
// stores it as JSON (the data) and markdown (a readable report). Every
// rollback, automatic or manual, gets an incident report in the markdown
// (see IncidentReport): the trigger, a timeline, what was restored, where
// logs were archived, and the runbook's post-incident review questions.
//
// Records hold no secrets: the plan they embed is already secret-free, and
// the key of secret HMACs never enters them.
package records
