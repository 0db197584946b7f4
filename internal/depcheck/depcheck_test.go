package depcheck

import (
	"os/exec"
	"strings"
	"testing"
)

const module = "github.com/strata-sh/strata/"

// allowed lists, for each package, the strata packages it may import
// (directly or not). A package missing here may import none.
var allowed = map[string][]string{
	"objects/layer": {"internal/asyncwrite"},
	"objects":       {"internal/asyncwrite", "internal/atomicfile", "objects/layer"},
	"refs":          {"internal/atomicfile"},
	"exec":          {},
	"repo":          {"internal/asyncwrite", "internal/atomicfile", "objects", "objects/layer", "refs"},
	"tree":          {"internal/asyncwrite", "internal/atomicfile", "objects", "objects/layer"},
	"snapshot":      {"internal/asyncwrite", "internal/atomicfile", "objects", "objects/layer"},
	"worktree":      {"internal/asyncwrite", "internal/atomicfile", "repo", "objects", "objects/layer", "refs", "tree", "snapshot"},
	"image":         {"internal/asyncwrite", "internal/atomicfile", "repo", "objects", "objects/layer", "refs"},
	"remote":        {"internal/asyncwrite", "internal/atomicfile", "repo", "objects", "objects/layer", "refs"},
}

func TestPackageMap(t *testing.T) {
	out, err := exec.Command("go", "list", "-f", `{{.ImportPath}} {{join .Deps " "}}`, "github.com/strata-sh/strata/...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	seen := 0
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		fields := strings.Fields(line)
		pkg := strings.TrimPrefix(fields[0], module)
		ok, checked := allowed[pkg]
		if !checked {
			continue
		}
		seen++
		allow := map[string]bool{}
		for _, p := range ok {
			allow[p] = true
		}
		for _, dep := range fields[1:] {
			if !strings.HasPrefix(dep, module) || strings.Contains(dep, "/internal/") && strings.HasPrefix(strings.TrimPrefix(dep, module), pkg+"/") {
				continue
			}
			if d := strings.TrimPrefix(dep, module); !allow[d] {
				t.Errorf("%s depends on %s, which the package map forbids", pkg, d)
			}
		}
	}
	if seen != len(allowed) {
		t.Fatalf("checked %d of %d packages: is the list stale?", seen, len(allowed))
	}
}
