package config

import (
	"path/filepath"
	"testing"
)

func TestRelAndResolvePaths(t *testing.T) {
	c := &Config{Dir: "deploy", Postgres: []*Postgres{{Name: "main", Migrations: "migrations", Backup: &Backup{Dir: "backups"}}, {Name: "abs", Migrations: "/m"}}}
	for in, want := range map[string]string{"": "", "/etc/x": "/etc/x", "conf.d": filepath.Join("deploy", "conf.d")} {
		if got := c.Rel(in); got != want {
			t.Errorf("Rel(%q) = %q, want %q", in, got, want)
		}
	}
	c.ResolvePaths()
	abs, err := filepath.Abs(filepath.Join("deploy", "backups"))
	if err != nil {
		t.Fatal(err)
	}
	if db := c.Postgres[0]; db.Migrations != filepath.Join("deploy", "migrations") || db.Backup.Dir != abs {
		t.Errorf("resolved %q and %q", db.Migrations, db.Backup.Dir)
	}
	if db := c.Postgres[1]; db.Migrations != "/m" || db.Backup != nil {
		t.Errorf("an absolute path changed: %+v", db)
	}
}
