package config

import "path/filepath"

// Rel resolves a path of the configuration against its directory (Dir),
// wherever slipway runs from; "" and absolute paths are returned as they
// are.
func (c *Config) Rel(p string) string {
	if p == "" || filepath.IsAbs(p) {
		return p
	}
	return filepath.Join(c.Dir, p)
}

// ResolvePaths rewrites the paths of the postgres blocks that later
// phases keep: each migration directory against Dir (Rel), each backup
// directory to an absolute path, so that the state can name a backup that
// a later rollback -restore-db finds from any directory. Call it once,
// after Load; the other paths are resolved where they are used (Rel).
func (c *Config) ResolvePaths() {
	for _, db := range c.Postgres {
		db.Migrations = c.Rel(db.Migrations)
		if db.Backup != nil {
			if abs, err := filepath.Abs(c.Rel(db.Backup.Dir)); err == nil {
				db.Backup.Dir = abs
			}
		}
	}
}
