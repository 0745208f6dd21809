package safedir

import (
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// mkdir makes dir with exactly mode (chmod, past the umask).
func mkdir(t *testing.T, dir string, mode os.FileMode) string {
	t.Helper()
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dir, mode); err != nil {
		t.Fatal(err)
	}
	return dir
}

// needRoot skips a test that must chown to another user or make root-owned
// directories.
func needRoot(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root to make directories of other owners")
	}
}

// pretend makes the checks run as uid for the rest of the test.
func pretend(t *testing.T, uid int) {
	old := me
	me = func() int { return uid }
	t.Cleanup(func() { me = old })
}

func wantUnsafe(t *testing.T, err error, want string) {
	t.Helper()
	if !errors.Is(err, ErrUnsafe) {
		t.Fatalf("error = %v, want an unsafe-directory error", err)
	}
	if err.Error() != want {
		t.Fatalf("error =\n  %s\nwant\n  %s", err, want)
	}
}

func TestMakeCreates(t *testing.T) {
	base := t.TempDir()
	dir := filepath.Join(base, "a", "b", "c")
	if err := Make(dir, "state directory"); err != nil {
		t.Fatal(err)
	}
	for _, d := range []string{"a", "a/b", "a/b/c"} {
		fi, err := os.Lstat(filepath.Join(base, d))
		if err != nil || !fi.IsDir() || fi.Mode().Perm() != 0o700 {
			t.Fatalf("%s: %v, %v; want a 0700 directory", d, fi.Mode(), err)
		}
	}
	// Again, on what exists: the same answer, nothing changed.
	if err := Make(dir, "state directory"); err != nil {
		t.Fatal(err)
	}
	if err := Check(dir, "state directory"); err != nil {
		t.Fatal(err)
	}
}

func TestMakeRefusesOwnDirectory(t *testing.T) {
	base := t.TempDir()
	real := mkdir(t, filepath.Join(base, "real"), 0o700)
	link := filepath.Join(base, "link")
	if err := os.Symlink(real, link); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(base, "file")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		dir    string
		want   string
		parent string // the error of a directory to make in it, if any
	}{
		{"symbolic link", link, "state directory " + link + " is a symbolic link to " + real + ": name " + real + " itself in the configuration, or replace the link with a directory", ""},
		{"file", file, "state directory " + file + " is not a directory: move it away", ""},
		{"group writable", mkdir(t, filepath.Join(base, "g"), 0o770),
			"state directory " + base + "/g is writable by group: run 'chmod 700 " + base + "/g'",
			"state directory " + base + "/g/sub: its parent " + base + "/g is writable by group: run 'chmod g-w " + base + "/g'"},
		{"others writable", mkdir(t, filepath.Join(base, "o"), 0o707),
			"state directory " + base + "/o is writable by others: run 'chmod 700 " + base + "/o'",
			"state directory " + base + "/o/sub: its parent " + base + "/o is writable by others: run 'chmod o-w " + base + "/o'"},
		{"both writable", mkdir(t, filepath.Join(base, "go"), 0o777),
			"state directory " + base + "/go is writable by group and others: run 'chmod 700 " + base + "/go'",
			"state directory " + base + "/go/sub: its parent " + base + "/go is writable by group and others: run 'chmod go-w " + base + "/go'"},
		{"sticky is not enough for our own", mkdir(t, filepath.Join(base, "s"), os.ModeSticky|0o777),
			"state directory " + base + "/s is writable by group and others: run 'chmod 700 " + base + "/s'", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			wantUnsafe(t, Make(tt.dir, "state directory"), tt.want)
			wantUnsafe(t, Check(tt.dir, "state directory"), tt.want)
			if tt.parent != "" {
				wantUnsafe(t, Make(filepath.Join(tt.dir, "sub"), "state directory"), tt.parent)
				if _, err := os.Lstat(filepath.Join(tt.dir, "sub")); !errors.Is(err, os.ErrNotExist) {
					t.Fatalf("a directory was made in an unsafe one: %v", err)
				}
			}
		})
	}
	if entries, _ := os.ReadDir(real); len(entries) != 0 {
		t.Fatalf("the link's target holds %v, want nothing", entries)
	}
}

func TestMakeRefusesOtherOwner(t *testing.T) {
	needRoot(t)
	base := t.TempDir()
	dir := mkdir(t, filepath.Join(base, "theirs"), 0o700)
	if err := os.Chown(dir, 65534, 65534); err != nil {
		t.Fatal(err)
	}
	err := Make(dir, "backup directory")
	if !errors.Is(err, ErrUnsafe) || !strings.Contains(err.Error(), "backup directory "+dir+" is owned by ") ||
		!strings.HasSuffix(err.Error(), "not by root, who runs slipway: run 'chown root "+dir+"'") {
		t.Fatalf("error = %v", err)
	}
}

func TestParents(t *testing.T) {
	needRoot(t)
	base := t.TempDir()
	open := mkdir(t, filepath.Join(base, "open"), 0o777)
	sticky := mkdir(t, filepath.Join(base, "sticky"), os.ModeSticky|0o777)
	theirs := mkdir(t, filepath.Join(base, "theirs"), 0o755)
	if err := os.Chown(theirs, 65534, 65534); err != nil {
		t.Fatal(err)
	}
	theirsSticky := mkdir(t, filepath.Join(base, "theirs-sticky"), os.ModeSticky|0o777)
	if err := os.Chown(theirsSticky, 65534, 65534); err != nil {
		t.Fatal(err)
	}

	wantUnsafe(t, Make(filepath.Join(open, ".slipway"), "state directory"),
		"state directory "+open+"/.slipway: its parent "+open+" is writable by group and others: run 'chmod go-w "+open+"'")
	wantUnsafe(t, Check(filepath.Join(open, "a", "b"), "backup directory"),
		"backup directory "+open+"/a/b: its parent "+open+" is writable by group and others: run 'chmod go-w "+open+"'")
	if _, err := os.Lstat(filepath.Join(open, ".slipway")); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("the state directory was made in an unsafe parent: %v", err)
	}
	err := Make(filepath.Join(theirs, ".slipway"), "state directory")
	if !errors.Is(err, ErrUnsafe) || !regexp.MustCompile(`: its parent `+regexp.QuoteMeta(theirs)+` is owned by (nobody|uid 65534), not by root, who runs slipway, and (nobody|uid 65534) could replace what it holds: run 'chown root `+regexp.QuoteMeta(theirs)+`', or choose a directory elsewhere$`).MatchString(err.Error()) {
		t.Fatalf("parent of another owner: %v", err)
	}
	if err := Make(filepath.Join(theirsSticky, ".slipway"), "state directory"); !errors.Is(err, ErrUnsafe) {
		t.Fatalf("sticky parent of another owner: %v, want refused", err)
	}
	// A root-owned sticky parent, such as /tmp, is fine.
	if err := Make(filepath.Join(sticky, ".slipway"), "state directory"); err != nil {
		t.Fatalf("root-owned sticky parent: %v", err)
	}
	// A link among the parents is followed and the real directory checked.
	link := filepath.Join(base, "link")
	if err := os.Symlink(open, link); err != nil {
		t.Fatal(err)
	}
	wantUnsafe(t, Make(filepath.Join(link, ".slipway"), "state directory"),
		"state directory "+link+"/.slipway: its parent "+open+" is writable by group and others: run 'chmod go-w "+open+"'")
}

// TestParentsStopAtOwn shows, for a user other than root, that the walk
// goes through root-owned parents and stops after the first of the user's
// own.
func TestParentsStopAtOwn(t *testing.T) {
	needRoot(t)
	const alice = 4242
	base := t.TempDir()
	shared := mkdir(t, filepath.Join(base, "shared"), 0o777)
	system := mkdir(t, filepath.Join(shared, "system"), 0o755)
	home := mkdir(t, filepath.Join(system, "home"), 0o755)
	if err := os.Chown(home, alice, alice); err != nil {
		t.Fatal(err)
	}
	state := mkdir(t, filepath.Join(home, ".slipway"), 0o700)
	if err := os.Chown(state, alice, alice); err != nil {
		t.Fatal(err)
	}
	pretend(t, alice)
	// home is alice's: shared above it is not looked at.
	if err := Make(state, "state directory"); err != nil {
		t.Fatal(err)
	}
	// system is root's: the walk goes on to shared.
	wantUnsafe(t, Check(filepath.Join(system, "x"), "state directory"),
		"state directory "+system+"/x: its parent "+shared+" is writable by group and others: run 'chmod go-w "+shared+"'")
	// A directory of our own must be ours: one that root made is not.
	if err := os.Chmod(shared, 0o755); err != nil {
		t.Fatal(err)
	}
	err := Make(filepath.Join(system, "rootmade"), "state directory")
	if !errors.Is(err, ErrUnsafe) || !strings.Contains(err.Error(), " is owned by root, not by uid 4242, who runs slipway: run 'chown 4242 ") {
		t.Fatalf("directory made by another user: %v", err)
	}
}

func TestCheckShared(t *testing.T) {
	base := t.TempDir()
	good := mkdir(t, filepath.Join(base, "conf.d"), 0o755)
	if err := CheckShared(good, "nginx config_dir"); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(base, "link")
	if err := os.Symlink(good, link); err != nil {
		t.Fatal(err)
	}
	if err := CheckShared(link, "nginx config_dir"); err != nil {
		t.Fatalf("a link to a good directory: %v", err)
	}
	open := mkdir(t, filepath.Join(base, "open"), 0o775)
	wantUnsafe(t, CheckShared(open, "nginx config_dir"),
		"nginx config_dir "+open+" is writable by group: run 'chmod g-w "+open+"'")
	stickyOpen := mkdir(t, filepath.Join(base, "sticky"), os.ModeSticky|0o777)
	wantUnsafe(t, CheckShared(stickyOpen, "nginx config_dir"),
		"nginx config_dir "+stickyOpen+" is writable by group and others: run 'chmod go-w "+stickyOpen+"'")
	if err := CheckShared(filepath.Join(base, "missing"), "nginx config_dir"); err == nil || errors.Is(err, ErrUnsafe) {
		t.Fatalf("missing directory: %v, want a not-found error", err)
	}
	if os.Geteuid() == 0 {
		theirs := mkdir(t, filepath.Join(base, "theirs"), 0o755)
		if err := os.Chown(theirs, 65534, 65534); err != nil {
			t.Fatal(err)
		}
		if err := CheckShared(theirs, "nginx config_dir"); !errors.Is(err, ErrUnsafe) {
			t.Fatalf("directory of another user: %v, want refused", err)
		}
	}
}
