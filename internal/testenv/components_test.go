package testenv

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// essential are the programs every Debian machine with Go has (packages of
// priority required, and the Go toolchain); tests may run them, and the
// slipway* programs the script tests' binary provides, without a Component.
var essential = map[string]bool{
	"go": true, "sh": true, "grep": true, "find": true, "ln": true, "ls": true,
	"sed": true, "sleep": true, "mount": true, "umount": true, "cat": true,
	"chmod": true, "chown": true, "stat": true, "kill": true, "mkdir": true,
	"rm": true, "cp": true, "mv": true, "touch": true, "test": true,
}

// providedBy names the component that brings a program tests run by name.
var providedBy = map[string]string{
	"psql":          "postgres",
	"pg_dump":       "postgres",
	"pg_restore":    "postgres",
	"pg_basebackup": "postgres",
}

// TestDepsListsEveryComponent keeps scripts/deps.sh and the tests in step:
// deps.sh --list prints exactly Components, and every component or program
// a test requires by name (Require, RequireProgram, the script tests' need,
// exec.LookPath and exec.Command in test code, exec and [exec:] in scripts)
// is one of them. A fresh CI machine after 'make deps' then has all a test
// needs, and no test skips silently.
func TestDepsListsEveryComponent(t *testing.T) {
	root, err := FindRepoRoot(".")
	if err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(filepath.Join(root, "scripts", "deps.sh"), "--list").Output()
	if err != nil {
		t.Fatalf("scripts/deps.sh --list: %v", err)
	}
	listed := strings.Fields(string(out))
	if !slices.Equal(sortedCopy(listed), sortedCopy(Components)) {
		t.Errorf("scripts/deps.sh --list = %v, testenv.Components = %v: keep them the same", listed, Components)
	}

	used := map[string][]string{} // program or component -> where
	err = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if name := d.Name(); path != root && (strings.HasPrefix(name, ".") || name == "demo" || name == "bin") {
				return filepath.SkipDir
			}
			return nil
		}
		rel, _ := filepath.Rel(root, path)
		switch {
		case strings.HasSuffix(path, ".go"):
			for name, where := range goRequirements(t, path, rel) {
				used[name] = append(used[name], where...)
			}
		case strings.HasSuffix(path, ".txtar"):
			for name, where := range scriptRequirements(t, path, rel) {
				used[name] = append(used[name], where...)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(used) == 0 {
		t.Fatal("found no requirement at all: the scan is broken")
	}
	for name, where := range used {
		if essential[name] || strings.HasPrefix(name, "slipway") {
			continue
		}
		comp := name
		if c, ok := providedBy[name]; ok {
			comp = c
		}
		if !slices.Contains(listed, comp) {
			t.Errorf("%s is required by %s but scripts/deps.sh --list does not hold it: add it to deps.sh and testenv.Components", name, strings.Join(where, ", "))
		}
	}
}

func sortedCopy(s []string) []string {
	c := slices.Clone(s)
	slices.Sort(c)
	return c
}

// goRequirements finds, in one Go file, the string literals passed as a
// component to Require, RequireProgram and need, and, in test files and in
// this package, the programs passed to exec.LookPath, exec.Command and
// exec.CommandContext.
func goRequirements(t *testing.T, path, rel string) map[string][]string {
	t.Helper()
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, path, nil, parser.SkipObjectResolution)
	if err != nil {
		t.Fatalf("parse %s: %v", rel, err)
	}
	testCode := strings.HasSuffix(path, "_test.go") || strings.HasPrefix(filepath.ToSlash(rel), "internal/testenv/")
	found := map[string][]string{}
	ast.Inspect(f, func(n ast.Node) bool {
		call, ok := n.(*ast.CallExpr)
		if !ok {
			return true
		}
		var fn string
		switch f := call.Fun.(type) {
		case *ast.Ident:
			fn = f.Name
		case *ast.SelectorExpr:
			fn = f.Sel.Name
			if x, ok := f.X.(*ast.Ident); ok && x.Name == "exec" {
				fn = "exec." + fn
			}
		}
		arg := -1
		switch fn {
		case "Require", "RequireProgram":
			arg = 1
		case "need":
			arg = 0
		case "exec.LookPath", "exec.Command":
			if testCode {
				arg = 0
			}
		case "exec.CommandContext":
			if testCode {
				arg = 1
			}
		}
		if arg < 0 || arg >= len(call.Args) {
			return true
		}
		lit, ok := call.Args[arg].(*ast.BasicLit)
		if !ok || lit.Kind != token.STRING {
			return true
		}
		name, err := strconv.Unquote(lit.Value)
		if err != nil {
			return true
		}
		found[name] = append(found[name], rel+":"+strconv.Itoa(fset.Position(lit.Pos()).Line))
		return true
	})
	return found
}

var (
	scriptExec = regexp.MustCompile(`(?m)^\s*(?:\[[^\]]*\]\s*)*!?\s*exec\s+([A-Za-z0-9_.-]+)`)
	scriptCond = regexp.MustCompile(`\[!?exec:([A-Za-z0-9_.-]+)\]`)
)

// scriptRequirements finds the programs a testscript runs with exec or
// tests for with [exec:NAME], in its script part (before the first file).
func scriptRequirements(t *testing.T, path, rel string) map[string][]string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	script := string(b)
	if i := strings.Index(script, "\n-- "); i >= 0 {
		script = script[:i]
	}
	found := map[string][]string{}
	for _, re := range []*regexp.Regexp{scriptExec, scriptCond} {
		for _, m := range re.FindAllStringSubmatch(script, -1) {
			found[m[1]] = append(found[m[1]], rel)
		}
	}
	return found
}

// TestRequireRefusesUnknownComponents proves a new component cannot slip
// past the list: Require fails a test that names one not in Components.
func TestRequireRefusesUnknownComponents(t *testing.T) {
	if Known("frobnicator") || !Known("redis-server") {
		t.Fatal("Known disagrees with Components")
	}
	ft := &fatalRecorder{TB: t}
	func() {
		defer func() { _ = recover() }()
		unknown := "frobnicator"
		Require(ft, unknown, nil)
	}()
	if !strings.Contains(ft.msg, "not in testenv.Components") {
		t.Fatalf("Require of an unknown component said %q", ft.msg)
	}
}

// fatalRecorder records Fatalf instead of failing, and stops the caller as
// a real Fatalf would.
type fatalRecorder struct {
	testing.TB
	msg string
}

func (f *fatalRecorder) Helper() {}

func (f *fatalRecorder) Fatalf(format string, args ...any) {
	f.msg = fmt.Sprintf(format, args...)
	panic("fatal")
}
