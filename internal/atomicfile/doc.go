// Package atomicfile is the one way slipway writes a file that must never
// be seen half-written or be written through a symbolic link: the state and
// its journal, snapshots, records and archives, the secret key, saved plans,
// nginx route files and database backups.
//
// Every write goes to a new temporary file beside the target, created
// exclusively (O_EXCL) under a random name that starts with a dot and ends
// in digits, so that nothing planted there in advance is written through
// and no include of *.conf reads it. The file is fsynced, then renamed over
// the target (Replace, Pending.Commit), which replaces a symbolic link at
// the target and never writes to what it points at, or hard-linked to the
// target (Create), which fails with ErrExists when anything is there, a
// link among them; last the directory is fsynced so that the new name
// survives a crash. A crash leaves the old content or the new, never a torn
// file; a failure leaves no temporary file behind.
//
// Files are mode 0600 unless Mode says otherwise. Pending is the streaming
// form, for content that is written in parts or by another program (pg_dump
// writes a backup to Pending.Name), as google/renameio's PendingFile.
//
// The package checks files, not directories: whoever writes into a
// directory others could change checks it first (internal/safedir).
package atomicfile
