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
	"objects/layer":   {"internal/asyncwrite", "internal/mapfile", "internal/pagewrite"},
	"objects":         {"internal/asyncwrite", "internal/atomicfile", "internal/mapfile", "internal/pagewrite", "internal/pathquote", "objects/layer"},
	"refs":            {"internal/atomicfile", "internal/lockfile", "internal/pagewrite", "internal/regfile"},
	"exec":            {},
	"bisect":          {}, // the midpoint over a graph the caller reads
	"repo":            {"internal/asyncwrite", "internal/atomicfile", "internal/gitdate", "internal/kmount", "internal/lockfile", "internal/mapfile", "internal/pagewrite", "internal/mountopt", "internal/pathquote", "internal/regfile", "objects", "objects/layer", "refs"},
	"tree":            {"internal/asyncwrite", "internal/atomicfile", "internal/mapfile", "internal/pagewrite", "internal/pathquote", "internal/xdiff", "objects", "objects/layer"},
	"snapshot":        {"internal/asyncwrite", "internal/atomicfile", "internal/kmount", "internal/mapfile", "internal/pagewrite", "internal/mountopt", "internal/pathquote", "internal/stagedir", "objects", "objects/layer"},
	"worktree":        {"internal/asyncwrite", "internal/atomicfile", "internal/epoch", "internal/gitdate", "internal/kmount", "internal/lockfile", "internal/mapfile", "internal/pagewrite", "internal/mountopt", "internal/pathquote", "internal/xdiff", "internal/regfile", "internal/stagedir", "repo", "objects", "objects/layer", "refs", "tree", "tree/changeset", "fold", "snapshot", "merge", "merge/textmerge"},
	"tree/changeset":  {"internal/asyncwrite", "internal/atomicfile", "internal/mapfile", "internal/pagewrite", "internal/pathquote", "internal/xdiff", "objects", "objects/layer", "tree"},
	"fold":            {"internal/asyncwrite", "internal/atomicfile", "internal/mapfile", "internal/pagewrite", "internal/pathquote", "internal/xdiff", "objects", "objects/layer", "tree", "tree/changeset"},
	"merge":           {"internal/asyncwrite", "internal/atomicfile", "internal/mapfile", "internal/pagewrite", "internal/pathquote", "internal/xdiff", "objects", "objects/layer", "tree"},
	"merge/textmerge": {"internal/xdiff"},
	"image":           {"internal/asyncwrite", "internal/atomicfile", "internal/mapfile", "internal/pagewrite", "internal/pathquote", "objects", "objects/layer"},
	"image/change":    {"exec"}, // --change: exec's port and signal readers, apart from image, which remote imports
	"remote":          {"internal/asyncwrite", "internal/atomicfile", "internal/gitdate", "internal/kmount", "internal/lockfile", "internal/mapfile", "internal/pagewrite", "internal/mountopt", "internal/pathquote", "internal/regfile", "internal/treepath", "repo", "objects", "objects/layer", "refs", "image"},
	"build":           {"internal/asyncwrite", "internal/atomicfile", "internal/buildcache", "internal/gitdate", "internal/kmount", "internal/lockfile", "internal/mapfile", "internal/pagewrite", "internal/mountopt", "internal/pathquote", "internal/xdiff", "internal/regfile", "internal/stagedir", "internal/tarcompress", "repo", "objects", "objects/layer", "refs", "snapshot", "exec", "fold", "tree", "tree/changeset"},
}

// forbidden states the map's load-bearing rules on their own, so that
// widening an allowed list above cannot quietly break one of them.
var forbidden = map[string][]string{
	"tree":     {"snapshot", "worktree"},         // trees are read from indexes, never mounted
	"merge":    {"snapshot", "worktree", "refs"}, // a merge is decided from trees: no mounts, no ref moves
	"snapshot": {"tree", "worktree"},             // a snapshotter knows layers, not revisions
	"remote":   {"worktree", "snapshot", "tree"}, // transfers move blobs and refs only
	"image":    {"remote", "worktree"},           // import and export move no bytes over a network
	"build":    {"worktree", "remote"},           // a build mounts commits itself (it reads trees only to fold); the CLI fetches bases
	"fold":     {"snapshot", "worktree", "refs"}, // a fold is written from indexes and layers: no mounts, no ref moves
	"objects":  {"refs", "repo", "tree", "snapshot", "worktree", "image", "remote", "exec"},
	"refs":     {"objects", "repo", "tree", "snapshot", "worktree", "image", "remote", "exec"},
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
			d := strings.TrimPrefix(dep, module)
			if !allow[d] {
				t.Errorf("%s depends on %s, which the package map forbids", pkg, d)
			}
			for _, f := range forbidden[pkg] {
				if d == f {
					t.Errorf("%s depends on %s: a rule of the package map", pkg, d)
				}
			}
		}
	}
	if seen != len(allowed) {
		t.Fatalf("checked %d of %d packages: is the list stale?", seen, len(allowed))
	}
}

// frontShell is the one package of buildkit's the front build links:
// Dockerfile's shell lexer, which commit --change expands words with as
// docker's does (image/change). It initialises nothing and imports
// nothing but the standard library and github.com/pkg/errors.
const frontShell = "github.com/moby/buildkit/frontend/dockerfile/shell"

// TestFrontLeavesOut: the front build of the CLI (cmd/strata/front.go),
// the one every run starts, links none of the packages whose
// initialisation it exists to skip (buildkit's shell lexer aside),
// and still holds the runtime.
func TestFrontLeavesOut(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", "-tags", "strata_front", "github.com/strata-sh/strata/cmd/strata").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	deps := strings.Fields(string(out))
	has := func(prefix string) bool {
		for _, d := range deps {
			if d == frontShell {
				continue
			}
			if d == prefix || strings.HasPrefix(d, prefix+"/") {
				return true
			}
		}
		return false
	}
	for _, p := range []string{module + "remote", module + "build", "github.com/google/go-containerregistry", "github.com/moby/buildkit", "google.golang.org/protobuf", "github.com/docker/cli", "net/http", "crypto/tls"} {
		if has(p) {
			t.Errorf("the front build links %s", p)
		}
	}
	if !has(module + "exec") {
		t.Errorf("the front build lacks %sexec: is the tag still strata_front?", module)
	}
}
