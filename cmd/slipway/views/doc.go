// Package views renders what slipway shows people and tools: plans as
// text (Terraform-like symbols and a summary line), markdown (for pull
// request comments) and JSON (a documented, versioned schema, see
// docs/json.md), and the progress of an apply as text lines or JSON lines
// through hooks that implement executor.Hook.
//
// Views never print a sensitive value. A plan carries sensitivity as data:
// a container environment value is flagged sensitive where it is and never
// rendered, and no other string of a plan can hold a sensitive value (the
// configuration refuses one anywhere else), so plan renderings are never
// searched for secrets. Only free text, the progress messages and errors
// the hooks write, is masked with internal/redact, which leaves values
// shorter than redact.MinLen alone.
package views
