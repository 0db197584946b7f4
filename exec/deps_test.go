package exec

import (
	"go/parser"
	"go/token"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestNoStrataImports enforces the package map: exec knows nothing of
// commits and imports no other strata package.
func TestNoStrataImports(t *testing.T) {
	files, _ := filepath.Glob("*.go")
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		af, err := parser.ParseFile(token.NewFileSet(), f, nil, parser.ImportsOnly)
		if err != nil {
			t.Fatal(err)
		}
		for _, imp := range af.Imports {
			p, _ := strconv.Unquote(imp.Path.Value)
			if strings.HasPrefix(p, "github.com/strata-sh/strata") {
				t.Errorf("%s imports %s", f, p)
			}
		}
	}
	if len(files) < 5 {
		t.Fatalf("found only %v", files)
	}
}
