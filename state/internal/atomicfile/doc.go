// Package atomicfile writes files so that a crash leaves either the old or
// the new content, never a torn file: a 0600 temporary file in the target's
// directory, fsync, then rename (Replace) or hard link (Create, which never
// replaces), then an fsync of the directory.
package atomicfile
