// Package safedir checks the directories slipway writes into before it
// writes there, as ssh checks the directories of its keys: a file created
// beside its target and renamed into place (or opened with O_NOFOLLOW) is
// safe from a symbolic link at its own name, but not from a directory on
// its path that someone else can replace.
//
// A directory slipway owns (the state directory and everything in it, a
// backup directory) must be a real directory, not a symbolic link, owned
// by the running user, that neither group nor others can write. Make
// creates a missing one, and its missing parents, with mode 0700.
//
// A directory slipway shares with others (nginx's config_dir) must be owned
// by the running user or by root and must not be writable by group or
// others. A symbolic link to such a directory is followed, and the
// directory it leads to is checked.
//
// The parents of either kind are checked on their real path (symbolic links
// resolved), from the nearest upwards, and must be owned by the running
// user or by root and not writable by group or others; a root-owned
// directory with the sticky bit, such as /tmp, is accepted, since no one
// else can rename or remove what it holds. The walk stops after the first
// parent owned by the running user: what lies above a directory of one's
// own is the system's, as ssh stops at the home directory.
//
// The errors say what is wrong and the command that fixes it, and match
// ErrUnsafe.
package safedir
