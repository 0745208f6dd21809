// Package notify tells a team about release events through webhooks: one
// POST per notify block whose "on" list holds the event, with a JSON body
// (the documented payload of docs/notify.md) or, with format = "slack", a
// Slack-compatible {"text": "..."} body.
//
// Notifications are best effort: every try has a timeout, failed tries are
// retried with a doubling backoff, and a webhook that still fails gives a
// warning for the operation record, never an error that fails a release.
// The webhook URL is a secret (it usually holds a token): no warning ever
// contains it, nor its host or path.
package notify
