package codeshape

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// allowed are the functions that may be longer than MaxFunctionLines, by
// the directory of their package (from the repository root) and name: the
// configuration reference is one table, read as data.
var allowed = []string{
	"config.Reference",
}

// TestNoLongFunctions walks every non-test .go file of the repository and
// fails on each function longer than MaxFunctionLines that is not
// allowed, and on each allowed one that is no longer long.
func TestNoLongFunctions(t *testing.T) {
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, "go.mod")); err != nil {
		t.Fatalf("%s is not the repository root: %v", root, err)
	}
	var long []longFunc
	files := 0
	err = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel := filepath.ToSlash(strings.TrimPrefix(path, root+string(filepath.Separator)))
		if d.IsDir() {
			if path != root && (strings.HasPrefix(d.Name(), ".") || d.Name() == "testdata" || d.Name() == "vendor") {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(rel, ".go") || strings.HasSuffix(rel, "_test.go") {
			return nil
		}
		src, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		found, err := longFuncs(rel, src, MaxFunctionLines)
		if err != nil {
			return err
		}
		files++
		long = append(long, found...)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	// The walk must see the tree it guards.
	if files < 100 {
		t.Fatalf("read only %d files under %s: is the walk looking at slipway's source?", files, root)
	}
	var bad []string
	seen := map[string]bool{}
	for _, f := range long {
		if slices.Contains(allowed, f.name) {
			seen[f.name] = true
			continue
		}
		bad = append(bad, f.String())
	}
	if len(bad) > 0 {
		t.Errorf("functions longer than %d lines; split them where their phases are:\n%s", MaxFunctionLines, strings.Join(bad, "\n"))
	}
	for _, name := range allowed {
		if !seen[name] {
			t.Errorf("%s is allowed to be long but is not (or is gone): take it off the allow-list", name)
		}
	}
}

// TestLongFuncsFindsEachKind proves the scan counts what it must: a
// function and a method one line over the limit, a function literal
// outside any function; and passes one at the limit.
func TestLongFuncsFindsEachKind(t *testing.T) {
	body := func(n int) string { return strings.Repeat("\tx++\n", n-2) }
	src := "package p\n\n" +
		"func atLimit() {\n" + body(5) + "}\n\n" +
		"func over() {\n" + body(6) + "}\n\n" +
		"func (r *T) method() {\n" + body(6) + "}\n\n" +
		"var hook = func() {\n" + body(6) + "}\n\n" +
		"func decl()\n"
	got, err := longFuncs("a/b/p.go", []byte(src), 5)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, f := range got {
		names = append(names, f.String())
	}
	want := []string{
		"a/b/p.go:9: a/b.over is 6 lines",
		"a/b/p.go:16: a/b.T.method is 6 lines",
		"a/b/p.go:23: a/b.hook is 6 lines",
	}
	if !slices.Equal(names, want) {
		t.Fatalf("found\n%s\nwant\n%s", strings.Join(names, "\n"), strings.Join(want, "\n"))
	}
}

// longFunc is a function over the limit.
type longFunc struct {
	pos   string // file:line
	name  string // package directory, then [Type.]Name
	lines int
}

func (f longFunc) String() string {
	return fmt.Sprintf("%s: %s is %d lines", f.pos, f.name, f.lines)
}

// longFuncs parses one file (rel is its path from the repository root)
// and returns its functions longer than limit lines: declared functions
// and methods, and function literals in package-level declarations.
func longFuncs(rel string, src []byte, limit int) ([]longFunc, error) {
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, rel, src, parser.SkipObjectResolution)
	if err != nil {
		return nil, err
	}
	pkg := filepath.ToSlash(filepath.Dir(rel))
	var out []longFunc
	add := func(name string, from, to token.Pos) {
		start, end := fset.Position(from), fset.Position(to)
		if n := end.Line - start.Line + 1; n > limit {
			out = append(out, longFunc{pos: fmt.Sprintf("%s:%d", rel, start.Line), name: pkg + "." + name, lines: n})
		}
	}
	for _, decl := range f.Decls {
		switch d := decl.(type) {
		case *ast.FuncDecl:
			if d.Body != nil {
				add(funcName(d), d.Pos(), d.End())
			}
		case *ast.GenDecl:
			for _, spec := range d.Specs {
				vs, ok := spec.(*ast.ValueSpec)
				if !ok {
					continue
				}
				for i, v := range vs.Values {
					if lit, ok := v.(*ast.FuncLit); ok && i < len(vs.Names) {
						add(vs.Names[i].Name, lit.Pos(), lit.End())
					}
				}
			}
		}
	}
	return out, nil
}

// funcName is Name, or Type.Name for a method.
func funcName(d *ast.FuncDecl) string {
	if d.Recv == nil || len(d.Recv.List) == 0 {
		return d.Name.Name
	}
	t := d.Recv.List[0].Type
	if s, ok := t.(*ast.StarExpr); ok {
		t = s.X
	}
	switch x := t.(type) {
	case *ast.IndexExpr: // a generic type
		t = x.X
	case *ast.IndexListExpr:
		t = x.X
	}
	if id, ok := t.(*ast.Ident); ok {
		return id.Name + "." + d.Name.Name
	}
	return d.Name.Name
}
