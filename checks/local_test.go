package checks

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/slipwayhq/slipway/internal/testenv"
	"github.com/zclconf/go-cty/cty"
)

func TestCommand(t *testing.T) {
	const pw = "s3cret-value-7781"
	dir := t.TempDir()
	if err := os.Mkdir(filepath.Join(dir, "sub"), 0o755); err != nil {
		t.Fatal(err)
	}
	env := Env{Dir: dir, Environ: []string{"PATH=" + os.Getenv("PATH"), "FROM_PARENT=yes"}}
	tests := []struct {
		name     string
		attrs    []any
		status   string
		err      string
		evidence string
	}{
		{"exit 0", []any{"argv", list(str("echo"), str("all good"))}, StatusPass, "", "echo exited 0"},
		{"last line in evidence", []any{"argv", list(str("sh"), str("-c"), str("echo one; echo two"))}, StatusPass, "", ": two"},
		{"exit 3 with tail", []any{"argv", list(str("sh"), str("-c"), str("for i in $(seq 1 30); do echo line$i; done; exit 3"))}, StatusFail, "sh exited 3", "line30"},
		{"no shell without sh", []any{"argv", list(str("echo"), str("$HOME;"), str("exit 1"))}, StatusPass, "", "$HOME; exit 1"},
		{"dir", []any{"argv", list(str("pwd")), "dir", str("sub")}, StatusPass, "", filepath.Join(dir, "sub")},
		{"default dir", []any{"argv", list(str("pwd"))}, StatusPass, "", ": " + dir},
		{"env added", []any{"argv", list(str("sh"), str("-c"), str(`test "$FROM_PARENT/$EXTRA" = yes/1`)), "env", obj("EXTRA", num(1))}, StatusPass, "", ""},
		{"missing program", []any{"argv", list(str("/nonexistent/program"))}, StatusFail, "run /nonexistent/program", ""},
		{"timeout kills the group", []any{"argv", list(str("sh"), str("-c"), str("sleep 30 & sleep 30; echo never")), "timeout", str("200ms")}, StatusFail, "timed out", ""},
		{"secret in argv masked", []any{"argv", list(str("sh"), str("-c"), str("echo password is $1; exit 1"), str("sh"), secret(pw))}, StatusFail, "sh exited 1", "password is (sensitive)"},
		{"secret in env masked", []any{"argv", list(str("sh"), str("-c"), str(`echo "token=$TOKEN"`)), "env", obj("TOKEN", secret(pw))}, StatusPass, "", "token=(sensitive)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := run1(t, ck(tt.name, "command", tt.attrs...), env)
			want(t, r, tt.status, tt.err)
			if !strings.Contains(r.Evidence, tt.evidence) {
				t.Errorf("evidence %q lacks %q", r.Evidence, tt.evidence)
			}
			if strings.Contains(r.Evidence+r.Err, pw) {
				t.Errorf("secret shown: %q %q", r.Evidence, r.Err)
			}
		})
	}
}

// TestCommandShortSecretNotMasked: an attribute value derived from a
// sensitive variable but shorter than redact.MinLen is not searched for in
// the output, which it would garble.
func TestCommandShortSecretNotMasked(t *testing.T) {
	r := run1(t, ck("c", "command", "argv", list(str("echo"), str("example/web")), "env", obj("TOKEN", secret("e"))), Env{})
	want(t, r, StatusPass, "")
	if !strings.Contains(r.Evidence, "example/web") {
		t.Errorf("evidence %q", r.Evidence)
	}
}

func TestCommandTailIsBounded(t *testing.T) {
	r := run1(t, ck("c", "command", "argv", list(str("sh"), str("-c"), str("seq 1 100; exit 1"))), Env{})
	want(t, r, StatusFail, "exited 1")
	if strings.Contains(r.Evidence, "\n80\n") || !strings.Contains(r.Evidence, "\n81\n") || !strings.HasSuffix(r.Evidence, "\n100") {
		t.Errorf("evidence does not hold exactly the last %d lines: %q", tailLines, r.Evidence)
	}
}

func TestCommandOutputMaskedByEnv(t *testing.T) {
	const v = "env-level-secret-1"
	r := run1(t, ck("c", "command", "argv", list(str("printenv"), str("APP_SECRET"))), Env{
		Environ: []string{"APP_SECRET=" + v},
		Mask:    func(s string) string { return strings.ReplaceAll(s, v, "(sensitive)") },
	})
	want(t, r, StatusPass, "")
	if strings.Contains(r.Evidence, v) || !strings.Contains(r.Evidence, "(sensitive)") {
		t.Errorf("evidence %q", r.Evidence)
	}
}

func TestEnv(t *testing.T) {
	env := Env{Environ: []string{
		"SECRET_KEY=" + strings.Repeat("k", 60),
		"SHORT=abc",
		"PLACEHOLDER= ChangeMe ",
		"EMPTY=",
		"OTHER=1",
	}}
	tests := []struct {
		name   string
		attrs  []any
		status string
		err    []string
	}{
		{"set", []any{"names", list(str("SECRET_KEY"), str("OTHER"))}, StatusPass, nil},
		{"single name", []any{"names", str("OTHER")}, StatusPass, nil},
		{"missing", []any{"names", list(str("SECRET_KEY"), str("DATABASE_URL"))}, StatusFail, []string{"DATABASE_URL is not set"}},
		{"empty", []any{"names", list(str("EMPTY"))}, StatusFail, []string{"EMPTY is empty"}},
		{"min length", []any{"names", list(str("SECRET_KEY"), str("SHORT")), "min_length", num(50)}, StatusFail, []string{"SHORT has 3 characters, fewer than min_length 50"}},
		{"forbidden", []any{"names", list(str("PLACEHOLDER")), "forbidden", list(str("changeme"), str("secret"))}, StatusFail, []string{"PLACEHOLDER holds a forbidden placeholder value"}},
		{"all problems at once", []any{"names", list(str("NOPE"), str("SHORT")), "min_length", num(10)}, StatusFail, []string{"NOPE is not set", "SHORT has 3"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := run1(t, ck(tt.name, "env", tt.attrs...), env)
			want(t, r, tt.status, "")
			for _, e := range tt.err {
				if !strings.Contains(r.Err, e) {
					t.Errorf("error %q lacks %q", r.Err, e)
				}
			}
			for _, v := range []string{"kkkk", "abc", "ChangeMe"} {
				if strings.Contains(r.Evidence+r.Err, v) {
					t.Errorf("a value is shown: %q %q", r.Evidence, r.Err)
				}
			}
		})
	}
}

func git(t *testing.T, dir string, args ...string) {
	t.Helper()
	cmd := exec.Command("git", append([]string{"-C", dir}, args...)...)
	cmd.Env = append(os.Environ(), "GIT_AUTHOR_NAME=t", "GIT_AUTHOR_EMAIL=t@example.com", "GIT_COMMITTER_NAME=t", "GIT_COMMITTER_EMAIL=t@example.com", "GIT_CONFIG_GLOBAL=/dev/null")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("git %v: %v\n%s", args, err, out)
	}
}

func TestGit(t *testing.T) {
	testenv.RequireProgram(t, "git")
	dir := t.TempDir()
	git(t, dir, "init", "-q", "-b", "main")
	if err := os.WriteFile(filepath.Join(dir, "main.hcl"), []byte("project \"p\" {}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, ".gitignore"), []byte(".slipway/\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	git(t, dir, "add", ".")
	git(t, dir, "commit", "-q", "-m", "initial")
	if err := os.MkdirAll(filepath.Join(dir, ".slipway"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, ".slipway", "state.json"), []byte("{}"), 0o600); err != nil {
		t.Fatal(err)
	}
	env := Env{Dir: dir, Environ: os.Environ()}
	check := func(name, status, errPart string, attrs ...any) {
		t.Helper()
		want(t, run1(t, ck(name, "git", attrs...), env), status, errPart)
	}

	check("clean, ignored files do not count", StatusPass, "")
	check("branch", StatusPass, "", "branch", str("main"))
	check("wrong branch", StatusFail, `on branch "main", want "release"`, "branch", str("release"))

	if err := os.WriteFile(filepath.Join(dir, "notes.txt"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	check("untracked", StatusFail, "untracked files: notes.txt")
	check("untracked allowed", StatusPass, "", "untracked", cty.True)

	if err := os.WriteFile(filepath.Join(dir, "main.hcl"), []byte("project \"q\" {}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	check("uncommitted", StatusFail, "uncommitted changes: main.hcl", "untracked", cty.True)
	check("dirty allowed", StatusPass, "", "clean", cty.False, "untracked", cty.True)

	check("not a repository", StatusFail, "git rev-parse", "dir", str(t.TempDir()))
}

func TestDisk(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name   string
		attrs  []any
		status string
		err    string
	}{
		{"some bytes", []any{"min_free", str("1KB")}, StatusPass, ""},
		{"zero percent", []any{"path", str("."), "min_free", str("0%")}, StatusPass, ""},
		{"everything", []any{"min_free", str("100%")}, StatusFail, "is below min_free 100%"},
		{"an exabyte", []any{"path", str(dir), "min_free", str("1000000TB")}, StatusFail, "is below min_free"},
		{"missing path", []any{"path", str("nope"), "min_free", str("1B")}, StatusFail, "statfs"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := run1(t, ck(tt.name, "disk", tt.attrs...), Env{Dir: dir})
			want(t, r, tt.status, tt.err)
			if tt.name != "missing path" && !strings.Contains(r.Evidence, " free of ") {
				t.Errorf("evidence %q", r.Evidence)
			}
		})
	}
}

func TestMemory(t *testing.T) {
	dir := t.TempDir()
	info := filepath.Join(dir, "meminfo")
	// 8 GiB total, 2 GiB available: 6 GiB (75%) in use.
	if err := os.WriteFile(info, []byte("MemTotal:        8388608 kB\nMemFree:          100000 kB\nMemAvailable:    2097152 kB\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		max     string
		wantErr bool
	}{
		{"80%", false},
		{"75%", false},
		{"70%", true},
		{"7GiB", false},
		{"5GiB", true},
	}
	for _, tt := range tests {
		t.Run(tt.max, func(t *testing.T) {
			m, err := parseAmount(tt.max)
			if err != nil {
				t.Fatal(err)
			}
			ev, err := memorySpec{maxUsed: m, meminfo: info}.run(ctxDone(), nil)
			if (err != nil) != tt.wantErr {
				t.Errorf("max_used %s: err %v, want error %v", tt.max, err, tt.wantErr)
			}
			if !strings.Contains(ev, "(75.0%)") {
				t.Errorf("evidence %q", ev)
			}
		})
	}
	// The real /proc/meminfo.
	want(t, run1(t, ck("real", "memory", "max_used", str("100%")), Env{}), StatusPass, "")
	if _, err := (memorySpec{meminfo: filepath.Join(dir, "none")}).run(ctxDone(), nil); err == nil {
		t.Error("a missing meminfo passes")
	}
}
