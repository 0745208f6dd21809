// Package state is slipway's model of what it last did: the lineage and
// serial of the state, the number of the last finished release, and per
// service and database what that release left behind (images, colors or
// traffic weights, containers, route files, applied migrations, backups).
//
// The live world (container labels, nginx files, the migrations table) is the
// truth for what runs; State is slipway's memory of intent and history, which
// the planner reconciles with observations. Sensitive values are never held
// here, only their HMACs (see Secrets).
//
// This package holds the model only and does no I/O: the file format lives in
// state/statefile and storage in state/local. The Journal of an operation in
// progress is modelled here too, beside the state it leads to.
package state
