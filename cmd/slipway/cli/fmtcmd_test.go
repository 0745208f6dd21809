package cli

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// runMain runs slipway with args as the binary would and returns the exit
// code and both streams.
func runMain(args ...string) (int, string, string) {
	var stdout, stderr bytes.Buffer
	code := Main(append([]string{"slipway"}, args...), strings.NewReader(""), &stdout, &stderr)
	return code, stdout.String(), stderr.String()
}

// TestFmtNeverWritesUnparsable runs fmt and fmt -check on each of the 30
// kinds of broken file in testdata/fmt-broken (an open block comment, a
// byte order mark before an unclosed block, invalid UTF-8, CRLF, HTML,
// JSON, ...), beside a file that needs formatting. hclwrite works on tokens
// and rewrote 9 of them (an open comment became "/ * open comment") and
// fmt exited 0. Now the broken file keeps every byte, its errors are
// printed, the good file is still formatted by fmt (not by -check), and
// both exit 1.
func TestFmtNeverWritesUnparsable(t *testing.T) {
	paths, _ := filepath.Glob("testdata/fmt-broken/*.hcl")
	if len(paths) != 30 {
		t.Fatalf("%d broken files in testdata/fmt-broken, want 30", len(paths))
	}
	for _, p := range paths {
		src, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		for _, check := range []bool{false, true} {
			name := strings.TrimSuffix(filepath.Base(p), ".hcl")
			if check {
				name += "/check"
			}
			t.Run(name, func(t *testing.T) {
				dir := t.TempDir()
				broken := filepath.Join(dir, "broken.hcl")
				good := filepath.Join(dir, "good.hcl")
				if err := os.WriteFile(broken, src, 0o644); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(good, []byte("a=1\n"), 0o644); err != nil {
					t.Fatal(err)
				}
				args := []string{"-chdir", dir, "fmt"}
				if check {
					args = append(args, "-check")
				}
				code, stdout, stderr := runMain(args...)
				if code != 1 {
					t.Errorf("exit %d, want 1\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
				}
				if got, _ := os.ReadFile(broken); !bytes.Equal(got, src) {
					t.Errorf("the broken file changed:\n%q\nwas\n%q", got, src)
				}
				if !strings.Contains(stderr, "Error: ") || !strings.Contains(stderr, "on broken.hcl line ") ||
					!strings.Contains(stderr, "slipway: error: files that do not parse were left unchanged: broken.hcl\n") {
					t.Errorf("stderr does not name the broken file's errors:\n%s", stderr)
				}
				wantGood := "a = 1\n"
				if check {
					wantGood = "a=1\n"
				}
				if got, _ := os.ReadFile(good); string(got) != wantGood || !strings.Contains(stdout, "good.hcl") {
					t.Errorf("good.hcl = %q (stdout %q), want %q", got, stdout, wantGood)
				}
			})
		}
	}
}

// TestFmtHidesValueFileLines: a value file may hold secrets; fmt names
// its file and line, never shows the line.
func TestFmtHidesValueFileLines(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "secrets.auto.vars.hcl"), []byte("db_password = \"Top-Secret-7\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	code, _, stderr := runMain("-chdir", dir, "fmt")
	if code != 1 || !strings.Contains(stderr, "on secrets.auto.vars.hcl line 1:") || strings.Contains(stderr, "Top-Secret") {
		t.Errorf("exit %d, stderr:\n%s", code, stderr)
	}
}
