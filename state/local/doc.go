// Package local stores slipway's state in a directory on the deploy host:
// the state file, its lock, snapshots of finished releases, the journal of
// the operation in progress, the key of secret HMACs, and operation records.
//
// Layout of one namespace (the state directory for the default environment,
// <dir>/env/<name>/ for -env NAME):
//
//	state.json          the state (statefile format), written atomically
//	.lock               flock(2) target; holds the holder's LockInfo as JSON
//	.write.lock         flock(2) target held during each state write
//	snapshots/<n>.json  the state after release n, immutable
//	journal.json        journal of the operation in progress, if any
//	journal-plan.json   the plan that operation runs
//	secret.key          32 random bytes keying secret HMACs; never copied into
//	                    state, snapshots or records
//	records/            operation records (package state/records)
//
// Files are created 0600 and directories 0700, lazily: Open creates nothing,
// and Read of an empty directory creates nothing. Every file is written
// through a temporary file in the same directory, fsynced, renamed (or
// hard-linked, where a file must never be replaced) into place, and followed
// by an fsync of the directory, so a crash leaves either the old or the new
// file, never a torn one.
//
// Nothing is read or written through a symbolic link. The state directory
// and every directory in it must be a real directory of the running user's
// that neither group nor others can write, below parents others cannot
// replace (internal/safedir); the lock files, which are rewritten in place,
// are opened with O_NOFOLLOW and must be regular files of the running
// user's with a single name; the state, journal, snapshot and key files are
// read with O_NOFOLLOW. A symbolic link at a name that is replaced by
// rename is replaced, never followed. A refusal says what fixes it.
//
// The state file records its project and env; ReadAs refuses one of
// another project or env (a file copied from another checkout, a state path
// two projects share) and Write never replaces one.
//
// Write is an atomic compare-and-swap on the state serial (serialised by a
// short flock on .write.lock). It does not take the state lock: callers that
// change state hold Lock around their whole operation, and the serial check
// refuses a writer that read the state before another one wrote it.
package local
