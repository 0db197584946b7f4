package main

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestReadmeListsEveryDoc: the README's documentation list names every
// chapter in docs/, so a new chapter cannot be left unlinked.
func TestReadmeListsEveryDoc(t *testing.T) {
	readme, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	docs, err := filepath.Glob(filepath.Join("..", "..", "docs", "*.md"))
	if err != nil || len(docs) == 0 {
		t.Fatalf("no docs found: %v", err)
	}
	for _, d := range docs {
		link := "(docs/" + filepath.Base(d) + ")"
		if !strings.Contains(string(readme), link) {
			t.Errorf("README.md does not link %s", link)
		}
	}
	for _, want := range []string{"debootstrap", "strata clone"} {
		if !strings.Contains(string(readme), want) {
			t.Errorf("README.md never says how to get a rootfs with %q", want)
		}
	}
}

// docsForeign are names the docs give of other projects' code.
var docsForeign = map[string]bool{
	"daemon/monitor.go": true, // docker's
}

var (
	docGoFile   = regexp.MustCompile("`([A-Za-z0-9_/]+\\.go)`")
	docTest     = regexp.MustCompile(`\b((?:Test|Benchmark)[A-Z][A-Za-z0-9_]*)(\*?)`)
	docStory    = regexp.MustCompile(`\b([a-z0-9_]+\.txtar)\b`)
	docGoSymbol = regexp.MustCompile("`([a-z][a-z0-9]*)((?:\\.[A-Z][A-Za-z0-9]*)+)`")
)

// TestDocsNameWhatExists: the Go files, tests, stories and identifiers
// of this module that docs/ names exist, so that a move or a rename
// cannot leave a chapter pointing at nothing.
func TestDocsNameWhatExists(t *testing.T) {
	root := filepath.Join("..", "..")
	code := readModuleCode(t, root)
	docs, err := filepath.Glob(filepath.Join(root, "docs", "*.md"))
	if err != nil || len(docs) == 0 {
		t.Fatalf("no docs found: %v", err)
	}
	for _, d := range docs {
		b, err := os.ReadFile(d)
		if err != nil {
			t.Fatal(err)
		}
		name, text := "docs/"+filepath.Base(d), string(b)
		for _, m := range docGoFile.FindAllStringSubmatch(text, -1) {
			if !docsForeign[m[1]] && !code.hasFile(m[1]) {
				t.Errorf("%s names %s: no such file", name, m[1])
			}
		}
		for _, m := range docTest.FindAllStringSubmatch(text, -1) {
			if !code.hasTest(m[1], m[2] == "*") {
				t.Errorf("%s names %s%s: no such test", name, m[1], m[2])
			}
		}
		for _, m := range docStory.FindAllStringSubmatch(text, -1) {
			if !code.hasFile(m[1]) {
				t.Errorf("%s names %s: no such story", name, m[1])
			}
		}
		for _, m := range docGoSymbol.FindAllStringSubmatch(text, -1) {
			decls, ours := code.decls[m[1]]
			if !ours {
				continue // the standard library's, or another module's
			}
			for _, part := range strings.Split(m[2][1:], ".") {
				if !decls[part] {
					t.Errorf("%s names %s%s: package %s declares no %s", name, m[1], m[2], m[1], part)
				}
			}
		}
	}
}

// moduleCode is what the module's Go files hold: their paths, test
// functions, and the names each package declares.
type moduleCode struct {
	files []string
	tests map[string]bool
	decls map[string]map[string]bool // by package name
}

func (c *moduleCode) hasFile(name string) bool {
	for _, f := range c.files {
		if f == name || strings.HasSuffix(f, "/"+name) {
			return true
		}
	}
	return false
}

func (c *moduleCode) hasTest(name string, prefix bool) bool {
	if !prefix {
		return c.tests[name]
	}
	for t := range c.tests {
		if strings.HasPrefix(t, name) {
			return true
		}
	}
	return false
}

func readModuleCode(t *testing.T, root string) *moduleCode {
	t.Helper()
	c := &moduleCode{tests: map[string]bool{}, decls: map[string]map[string]bool{}}
	fset := token.NewFileSet()
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, path)
		if d.IsDir() {
			if strings.HasPrefix(d.Name(), ".") && rel != "." || rel == "third_party" {
				return filepath.SkipDir
			}
			return nil
		}
		c.files = append(c.files, filepath.ToSlash(rel))
		if !strings.HasSuffix(path, ".go") || strings.Contains(rel, "testdata") {
			return nil
		}
		f, err := parser.ParseFile(fset, path, nil, parser.SkipObjectResolution)
		if err != nil {
			return err
		}
		c.addDecls(f, strings.HasSuffix(path, "_test.go"))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// addDecls records f's top-level names, methods and struct fields.
func (c *moduleCode) addDecls(f *ast.File, test bool) {
	names := c.decls[f.Name.Name]
	if names == nil {
		names = map[string]bool{}
		c.decls[f.Name.Name] = names
	}
	ast.Inspect(f, func(n ast.Node) bool {
		switch n := n.(type) {
		case *ast.FuncDecl:
			names[n.Name.Name] = true
			if test && n.Recv == nil {
				c.tests[n.Name.Name] = true
			}
		case *ast.TypeSpec:
			names[n.Name.Name] = true
		case *ast.ValueSpec:
			for _, id := range n.Names {
				names[id.Name] = true
			}
		case *ast.Field:
			for _, id := range n.Names {
				names[id.Name] = true
			}
		}
		return true
	})
}
