package postgres

import (
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/slipwayhq/slipway/providers"
)

// TestMigrationsAbility: without a directory the database lists nothing
// and says so; with one it lists its files and compares them as Pending
// does.
func TestMigrationsAbility(t *testing.T) {
	p, err := New(Options{URL: "postgres://app@127.0.0.1:1/db"})
	if err != nil {
		t.Fatal(err)
	}
	if files, ok, err := p.Migrations(); ok || err != nil || files != nil {
		t.Errorf("without a directory: %v, %v, %v", files, ok, err)
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "0001_init.sql"), []byte("CREATE TABLE t (id int);\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	var ml providers.MigrationLister
	if ml, err = New(Options{URL: "postgres://app@127.0.0.1:1/db", Migrations: dir}); err != nil {
		t.Fatal(err)
	}
	files, ok, err := ml.Migrations()
	if !ok || err != nil || len(files) != 1 || files[0].Name != "0001_init.sql" {
		t.Fatalf("with a directory: %v, %v, %v", files, ok, err)
	}
	pending, err := ml.Pending(files, nil)
	if err != nil || !reflect.DeepEqual(pending, files) {
		t.Errorf("Pending = %v, %v", pending, err)
	}
	if _, err := ml.Pending(nil, []providers.AppliedMigration{{Version: "0001", Name: "0001_init.sql"}}); err == nil {
		t.Error("a vanished file is not refused")
	}
}

// TestPruneBackupsAbility prunes the backups of its own block only.
func TestPruneBackupsAbility(t *testing.T) {
	base := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	dir := t.TempDir()
	names := []string{BackupName("p", "main", 1, base), BackupName("p", "main", 2, base.Add(time.Hour)), BackupName("p", "other", 1, base)}
	for _, n := range names {
		if err := os.WriteFile(filepath.Join(dir, n), []byte("x"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	var bp providers.BackupPruner
	bp, err := New(Options{URL: "postgres://app@127.0.0.1:1/db", Name: "main"})
	if err != nil {
		t.Fatal(err)
	}
	removed, err := bp.PruneBackups(dir, "p", 1)
	if err != nil || !reflect.DeepEqual(removed, []string{filepath.Join(dir, names[0])}) {
		t.Errorf("PruneBackups = %v, %v", removed, err)
	}
	if _, err := os.Stat(filepath.Join(dir, names[2])); err != nil {
		t.Errorf("another block's backup went: %v", err)
	}
}
