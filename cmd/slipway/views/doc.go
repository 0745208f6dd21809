// Package views renders what slipway shows people and tools: plans as
// text (Terraform-like symbols and a summary line), markdown (for pull
// request comments) and JSON (a documented, versioned schema, see
// docs/json.md), and the progress of an apply as text lines or JSON lines
// through hooks that implement executor.Hook.
//
// Views never print a sensitive value: container environment values are
// never rendered, and any sensitive value found in the plan is masked as
// "(sensitive)" wherever else it would appear.
package views
