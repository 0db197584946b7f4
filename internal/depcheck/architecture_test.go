package depcheck

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// mapLine is a line of the package map in docs/architecture.md: tree
// drawing, then a package path, then what it does.
var mapLine = regexp.MustCompile(`^[\s│├└─]*([a-z][a-z/-]*[a-z])\s`)

// TestArchitectureMap holds docs/architecture.md to the module: every
// package of the map exists, each imports only packages drawn below it
// (the map says dependencies point from top to bottom), and every
// package of the module is named in the chapter, as every internal
// package the chapter names is one of the module.
func TestArchitectureMap(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("..", "..", "docs", "architecture.md"))
	if err != nil {
		t.Fatal(err)
	}
	doc := string(b)
	blocks := strings.Split(doc, "```")
	if len(blocks) < 2 {
		t.Fatal("docs/architecture.md has no package map")
	}
	var order []string
	for _, line := range strings.Split(blocks[1], "\n") {
		if m := mapLine.FindStringSubmatch(line + " "); m != nil {
			order = append(order, m[1])
		}
	}
	out, err := exec.Command("go", "list", "-f", `{{.ImportPath}} {{join .Imports " "}}`, module+"...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	imports := map[string][]string{}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		fields := strings.Fields(line)
		pkg := strings.TrimPrefix(fields[0], module)
		imports[pkg] = []string{}
		for _, imp := range fields[1:] {
			if strings.HasPrefix(imp, module) {
				imports[pkg] = append(imports[pkg], strings.TrimPrefix(imp, module))
			}
		}
	}
	for i, pkg := range order {
		deps, ok := imports[pkg]
		if !ok {
			t.Errorf("the map of docs/architecture.md names %s: no such package", pkg)
			continue
		}
		for _, dep := range deps {
			if j := slices.Index(order, dep); j >= 0 && j < i {
				t.Errorf("%s imports %s, drawn above it in the map of docs/architecture.md", pkg, dep)
			}
		}
	}
	for pkg := range imports {
		if !slices.Contains(order, pkg) && !strings.Contains(doc, "`"+pkg+"`") {
			t.Errorf("docs/architecture.md does not name package %s", pkg)
		}
	}
	for _, m := range namedInternal.FindAllStringSubmatch(doc, -1) {
		if _, ok := imports[m[1]]; !ok {
			t.Errorf("docs/architecture.md names %s: no such package", m[1])
		}
	}
}

// namedInternal is a shared helper package named in the chapter's text,
// which must exist as the map's packages must: a package removed left
// its paragraph behind.
var namedInternal = regexp.MustCompile("`(internal/[a-z0-9/]+)`")

// sizeClaim is "`pkg` about N,NNN" in the chapter's Sizes paragraph.
var sizeClaim = regexp.MustCompile("`([a-z/]+)` about ([0-9,]+)")

// TestArchitectureSizes: the sizes docs/architecture.md gives its
// largest packages are within a quarter of their non-test lines, so
// that the reasons it gives for them are about the code as it is.
func TestArchitectureSizes(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("..", "..", "docs", "architecture.md"))
	if err != nil {
		t.Fatal(err)
	}
	_, para, ok := strings.Cut(string(b), "\nSizes (")
	if !ok {
		t.Fatal("docs/architecture.md has no Sizes paragraph")
	}
	para, _, _ = strings.Cut(para, "\n\n")
	claims := sizeClaim.FindAllStringSubmatch(para, -1)
	if len(claims) == 0 {
		t.Fatal("the Sizes paragraph gives no size")
	}
	for _, c := range claims {
		claimed, err := strconv.Atoi(strings.ReplaceAll(c[2], ",", ""))
		if err != nil {
			t.Fatal(err)
		}
		files, err := filepath.Glob(filepath.Join("..", "..", c[1], "*.go"))
		if err != nil {
			t.Fatal(err)
		}
		lines := 0
		for _, f := range files {
			if strings.HasSuffix(f, "_test.go") {
				continue
			}
			src, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			lines += strings.Count(string(src), "\n")
		}
		if lines*4 < claimed*3 || lines*4 > claimed*5 {
			t.Errorf("docs/architecture.md says %s is about %d lines; it has %d", c[1], claimed, lines)
		}
	}
}

// TestArchitectureNamesEveryDependency: every module go.mod requires
// directly has a row in the Dependencies table of docs/architecture.md
// (named without its host: `spf13/cobra`), so that a dependency cannot
// come in without saying why.
func TestArchitectureNamesEveryDependency(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("..", "..", "docs", "architecture.md"))
	if err != nil {
		t.Fatal(err)
	}
	_, table, ok := strings.Cut(string(b), "\n## Dependencies and why each pays for itself\n")
	if !ok {
		t.Fatal("docs/architecture.md has no Dependencies section")
	}
	table, _, _ = strings.Cut(table, "\n## ")
	out, err := exec.Command("go", "list", "-m", "-f", `{{if not .Indirect}}{{.Path}}{{end}}`, "all").Output()
	if err != nil {
		t.Fatalf("go list -m: %v", err)
	}
	for _, mod := range strings.Fields(string(out)) {
		if mod+"/" == module {
			continue
		}
		host, name, _ := strings.Cut(mod, "/")
		if host == "github.com" {
			mod = name
		}
		mod = strings.TrimSuffix(mod, "/v2")
		mod = strings.TrimSuffix(mod, "/v5")
		if !strings.Contains(table, "`"+mod) {
			t.Errorf("the Dependencies table of docs/architecture.md has no row for %s", mod)
		}
	}
}

// TestArchitectureStatesTheRules: each rule of forbidden is stated in
// docs/architecture.md's rules, "`pkg` never imports `a`, `b` or `c`"
// (objects and refs: "import none of the others"), so that the chapter
// and the test keep the same rules.
func TestArchitectureStatesTheRules(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("..", "..", "docs", "architecture.md"))
	if err != nil {
		t.Fatal(err)
	}
	_, rules, ok := strings.Cut(string(b), "\nRules the map keeps")
	if !ok {
		t.Fatal("docs/architecture.md states no rules")
	}
	rules, _, _ = strings.Cut(rules, "\n\n")
	rules = strings.Join(strings.Fields(rules), " ")
	for pkg, never := range forbidden {
		if pkg == "objects" || pkg == "refs" {
			if !strings.Contains(rules, "`objects` and `refs` import none of the others") {
				t.Errorf("the rules do not say that objects and refs import none of the others")
			}
			continue
		}
		_, clause, ok := strings.Cut(rules, "`"+pkg+"` never imports ")
		if !ok {
			t.Errorf("the rules do not say what %s never imports", pkg)
			continue
		}
		clause, _, _ = strings.Cut(clause, ";")
		clause, _, _ = strings.Cut(clause, "(")
		for _, dep := range never {
			if !strings.Contains(clause, "`"+dep+"`") {
				t.Errorf("the rules do not say that %s never imports %s", pkg, dep)
			}
		}
	}
}
