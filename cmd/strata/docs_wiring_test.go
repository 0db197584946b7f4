package main

import (
	"go/ast"
	"go/parser"
	"go/token"
	"go/types"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// wiringBlock is the Go block of docs/runtime.md's "Wiring `strata run`".
var wiringBlock = regexp.MustCompile("(?s)### Wiring `strata run`\n.*?```go\n(.*?)\n```")

// TestRuntimeDocWiring: the functions of package main that
// docs/runtime.md shows to wire strata run (main, runRun) exist with
// those signatures, and each function, type and exec name their bodies
// use is declared: the sketch may leave steps out, never show code that
// is not there.
func TestRuntimeDocWiring(t *testing.T) {
	doc, err := os.ReadFile(filepath.Join("..", "..", "docs", "runtime.md"))
	if err != nil {
		t.Fatal(err)
	}
	m := wiringBlock.FindSubmatch(doc)
	if m == nil {
		t.Fatal("docs/runtime.md: no Go block under ### Wiring `strata run`")
	}
	fset := token.NewFileSet()
	shown, err := parser.ParseFile(fset, "docs/runtime.md", "package main\n"+string(m[1]), parser.SkipObjectResolution)
	if err != nil {
		t.Fatal(err)
	}
	code := readModuleCode(t, filepath.Join("..", ".."))
	real := mainFuncs(t)
	funcs := 0
	for _, d := range shown.Decls {
		f, ok := d.(*ast.FuncDecl)
		if !ok {
			continue
		}
		funcs++
		if got, want := real[f.Name.Name], signature(f.Type); got != want {
			t.Errorf("docs/runtime.md shows func %s%s; package main has %q", f.Name.Name, strings.TrimPrefix(want, "func"), got)
		}
		ast.Inspect(f.Body, func(n ast.Node) bool {
			switch n := n.(type) {
			case *ast.SelectorExpr:
				if pkg, ok := n.X.(*ast.Ident); ok && pkg.Name == "exec" && !code.decls["exec"][n.Sel.Name] {
					t.Errorf("docs/runtime.md's %s uses exec.%s: package exec declares none", f.Name.Name, n.Sel.Name)
				}
			case *ast.CallExpr:
				if id, ok := n.Fun.(*ast.Ident); ok && types.Universe.Lookup(id.Name) == nil && !code.decls["main"][id.Name] {
					t.Errorf("docs/runtime.md's %s calls %s: package main declares none", f.Name.Name, id.Name)
				}
			case *ast.CompositeLit:
				if id, ok := n.Type.(*ast.Ident); ok && !code.decls["main"][id.Name] {
					t.Errorf("docs/runtime.md's %s makes a %s: package main declares none", f.Name.Name, id.Name)
				}
			}
			return true
		})
	}
	if funcs < 2 {
		t.Fatalf("only %d functions in the wiring block: the parser lost them", funcs)
	}
}

// mainFuncs maps the functions of package main (this directory) to their
// signatures.
func mainFuncs(t *testing.T) map[string]string {
	t.Helper()
	paths, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	fset := token.NewFileSet()
	for _, p := range paths {
		if strings.HasSuffix(p, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, p, nil, parser.SkipObjectResolution)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range f.Decls {
			if fd, ok := d.(*ast.FuncDecl); ok && fd.Recv == nil {
				out[fd.Name.Name] = signature(fd.Type)
			}
		}
	}
	return out
}

// signature is a function type with its parameter names dropped.
func signature(f *ast.FuncType) string {
	list := func(fl *ast.FieldList) string {
		if fl == nil {
			return ""
		}
		var ts []string
		for _, p := range fl.List {
			for range max(len(p.Names), 1) {
				ts = append(ts, types.ExprString(p.Type))
			}
		}
		return "(" + strings.Join(ts, ", ") + ")"
	}
	return "func" + list(f.Params) + " " + list(f.Results)
}
