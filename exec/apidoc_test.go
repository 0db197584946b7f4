package exec

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

// apiBlock is the Go block that opens docs/runtime.md's API section.
var apiBlock = regexp.MustCompile("(?s)## API\n+```go\n(.*?)\n```")

// TestRuntimeDocAPI: the API that docs/runtime.md lists is the
// package's: each Spec field it shows has that type in Spec, each
// function and method it shows has that signature (parameter names
// aside), each constant exists; and each field of Spec is named in the
// chapter. So a changed signature or a new field cannot leave the
// chapter behind.
func TestRuntimeDocAPI(t *testing.T) {
	doc, err := os.ReadFile(filepath.Join("..", "docs", "runtime.md"))
	if err != nil {
		t.Fatal(err)
	}
	m := apiBlock.FindSubmatch(doc)
	if m == nil {
		t.Fatal("docs/runtime.md: no Go block under ## API")
	}
	shown := apiDecls(t, "docs/runtime.md", "package exec\n"+string(m[1]))
	real := apiDecls(t, "", "")
	if len(shown) < 20 {
		t.Fatalf("only %d declarations in the API block: the parser lost them", len(shown))
	}
	for name, sig := range shown {
		switch got, ok := real[name]; {
		case !ok:
			t.Errorf("docs/runtime.md shows %s: package exec has none", name)
		case got != sig && !strings.HasPrefix(name, "const "):
			t.Errorf("docs/runtime.md shows %s as %s; package exec has %s", name, sig, got)
		}
	}
	for name := range real {
		field, ok := strings.CutPrefix(name, "Spec.")
		if ok && !strings.Contains(string(doc), field) {
			t.Errorf("docs/runtime.md never names %s", name)
		}
	}
}

// apiDecls maps the exported functions, methods, constants and Spec
// fields of src (or, with src "", of the package's files) to their types.
func apiDecls(t *testing.T, name, src string) map[string]string {
	t.Helper()
	fset := token.NewFileSet()
	var files []*ast.File
	if src != "" {
		f, err := parser.ParseFile(fset, name, src, parser.SkipObjectResolution)
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, f)
	} else {
		paths, _ := filepath.Glob("*.go")
		for _, p := range paths {
			if strings.HasSuffix(p, "_test.go") {
				continue
			}
			f, err := parser.ParseFile(fset, p, nil, parser.SkipObjectResolution)
			if err != nil {
				t.Fatal(err)
			}
			files = append(files, f)
		}
	}
	out := map[string]string{}
	for _, f := range files {
		for _, d := range f.Decls {
			switch d := d.(type) {
			case *ast.FuncDecl:
				if !d.Name.IsExported() {
					continue
				}
				key := d.Name.Name
				if d.Recv != nil {
					key = types.ExprString(d.Recv.List[0].Type) + "." + key
				}
				out[key] = funcSignature(d.Type)
			case *ast.GenDecl:
				for _, s := range d.Specs {
					switch s := s.(type) {
					case *ast.ValueSpec:
						for _, id := range s.Names {
							if d.Tok == token.CONST && id.IsExported() {
								out["const "+id.Name] = ""
							}
						}
					case *ast.TypeSpec:
						st, ok := s.Type.(*ast.StructType)
						if !ok || s.Name.Name != "Spec" {
							continue
						}
						for _, fl := range st.Fields.List {
							for _, id := range fl.Names {
								out["Spec."+id.Name] = typeString(fl.Type)
							}
						}
					}
				}
			}
		}
	}
	return out
}

// typeString is t as Go writes it, a function type without its
// parameter names.
func typeString(t ast.Expr) string {
	if f, ok := t.(*ast.FuncType); ok {
		return funcSignature(f)
	}
	return types.ExprString(t)
}

// funcSignature is a function type with its parameter names dropped.
func funcSignature(f *ast.FuncType) string {
	list := func(fl *ast.FieldList) string {
		if fl == nil {
			return ""
		}
		var ts []string
		for _, p := range fl.List {
			n := max(len(p.Names), 1)
			for range n {
				ts = append(ts, typeString(p.Type))
			}
		}
		return "(" + strings.Join(ts, ", ") + ")"
	}
	return "func" + list(f.Params) + " " + list(f.Results)
}
