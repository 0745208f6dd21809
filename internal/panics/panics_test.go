package panics

import (
	"bufio"
	"bytes"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestRecoverHandsThePanicToCatch(t *testing.T) {
	first, stop := Catch()
	defer stop()
	finished := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer close(finished)
		defer wg.Done()
		defer Recover()
		panic("boom")
	}()
	select {
	case p := <-first:
		if p.Value != "boom" || p.Error() != "boom" {
			t.Fatalf("caught %v, want boom", p.Value)
		}
		if !bytes.Contains(p.Stack, []byte("panics_test.go")) {
			t.Fatalf("the stack does not show where it panicked:\n%s", p.Stack)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("the panic never reached Catch")
	}
	// The goroutine never returns: who waits for it never takes its
	// missing result for a success.
	select {
	case <-finished:
		t.Fatal("the goroutine returned after its panic")
	case <-time.After(100 * time.Millisecond):
	}
}

func TestRecoverWithoutCatchPanicsAgain(t *testing.T) {
	defer func() {
		if v := recover(); v != "boom" {
			t.Fatalf("recovered %v, want the panic itself (boom)", v)
		}
	}()
	func() {
		defer Recover()
		panic("boom")
	}()
	t.Fatal("Recover without a Catch swallowed the panic")
}

func TestRecoverWithoutPanicReturns(t *testing.T) {
	_, stop := Catch()
	defer stop()
	done := make(chan struct{})
	go func() {
		defer close(done)
		defer Recover()
	}()
	<-done
}

// TestEveryGoroutineRecovers proves that every goroutine slipway starts
// (a go statement, or a WaitGroup's Go, in the non-test files of every
// package linked into cmd/slipway, whatever their build tags) is a function
// literal whose first statements are defers ending with
// `defer panics.Recover()`: a panic there reaches Main, never Go's exit 2.
func TestEveryGoroutineRecovers(t *testing.T) {
	root := filepath.Join("..", "..")
	cmd := exec.Command("go", "list", "-deps", "-f", "{{.ImportPath}}\t{{.Dir}}", "./cmd/slipway")
	cmd.Dir = root
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	var bad []string
	goroutines := 0
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		path, dir, _ := strings.Cut(sc.Text(), "\t")
		if !strings.HasPrefix(path, "github.com/slipwayhq/slipway/") {
			continue
		}
		files, err := filepath.Glob(filepath.Join(dir, "*.go"))
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range files {
			if strings.HasSuffix(f, "_test.go") {
				continue
			}
			src, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			n, b := unrecovered(t, f, src)
			goroutines += n
			bad = append(bad, b...)
		}
	}
	if len(bad) > 0 {
		t.Fatalf("goroutines that do not start with `defer panics.Recover()` (after any other defers):\n%s", strings.Join(bad, "\n"))
	}
	// The scan must see the goroutines it guards (the executor's, the
	// prober's, the live progress's...).
	if goroutines < 10 {
		t.Fatalf("found only %d goroutines: is the scan looking at slipway's packages?", goroutines)
	}
}

// TestUnrecoveredFindsEachKind proves the scan rejects what it must.
func TestUnrecoveredFindsEachKind(t *testing.T) {
	src := `package x

func f(wg *sync.WaitGroup, c chan int) {
	go func() { defer wg.Done(); defer panics.Recover(); work() }() // ok
	go work()                                                       // not a literal
	go func() { work(); defer panics.Recover() }()                  // work before it
	go func() { defer wg.Done(); work() }()                         // none
	wg.Go(func() { defer panics.Recover(); work() })                // ok
	wg.Go(func() { work() })                                        // none
	go func() { defer func() { panics.Recover() }() }()             // not deferred directly
}
`
	n, bad := unrecovered(t, "x.go", []byte(src))
	if n != 7 || len(bad) != 5 {
		t.Fatalf("found %d goroutines, %d bad (want 7, 5): %q", n, len(bad), bad)
	}
	for i, line := range []string{":5:", ":6:", ":7:", ":9:", ":10:"} {
		if !strings.Contains(bad[i], line) {
			t.Errorf("bad[%d] = %q, want line %s", i, bad[i], line)
		}
	}
}

// unrecovered parses one file and returns how many goroutines it starts
// and the positions of those that do not defer panics.Recover first.
func unrecovered(t *testing.T, name string, src []byte) (int, []string) {
	t.Helper()
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, name, src, 0)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	var bad []string
	check := func(pos token.Pos, fn ast.Expr) {
		n++
		if lit, ok := fn.(*ast.FuncLit); !ok || !recoversFirst(lit.Body) {
			bad = append(bad, fset.Position(pos).String())
		}
	}
	ast.Inspect(f, func(node ast.Node) bool {
		switch x := node.(type) {
		case *ast.GoStmt:
			check(x.Pos(), x.Call.Fun)
		case *ast.CallExpr:
			if sel, ok := x.Fun.(*ast.SelectorExpr); ok && sel.Sel.Name == "Go" && len(x.Args) == 1 {
				check(x.Pos(), x.Args[0])
			}
		}
		return true
	})
	return n, bad
}

// recoversFirst reports whether body opens with defer statements, one of
// them `defer panics.Recover()`.
func recoversFirst(body *ast.BlockStmt) bool {
	for _, st := range body.List {
		d, ok := st.(*ast.DeferStmt)
		if !ok {
			return false
		}
		if sel, ok := d.Call.Fun.(*ast.SelectorExpr); ok && sel.Sel.Name == "Recover" {
			if id, ok := sel.X.(*ast.Ident); ok && id.Name == "panics" {
				return true
			}
		}
	}
	return false
}
