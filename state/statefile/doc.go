// Package statefile reads and writes slipway's state file format, kept apart
// from the model in package state.
//
// The format is one indented JSON object with "format_version" first, then
// lineage, serial, release, project, env, config_hash, updated_at, services,
// databases and secrets, in that order, with snake_case names and a trailing
// newline. Maps are written with sorted keys, so equal states give equal
// bytes. Times are written and read as UTC.
//
// Reading is strict: a version newer than FormatVersion gives an
// *UnsupportedVersionError, and anything else that is not a well-formed state
// of this version (bad JSON, unknown fields, trailing data, a secret that is
// not an HMAC) gives an error wrapping ErrCorrupt. Whatever Read accepts,
// Write can write back and Read reads back equal.
//
// The package also holds the codec of the journal (ReadJournal,
// WriteJournal), which follows the same rules.
package statefile
