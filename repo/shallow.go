package repo

import (
	"path/filepath"
	"sort"
	"strings"

	"github.com/opencontainers/go-digest"
	"github.com/strata-sh/strata/internal/atomicfile"
	"github.com/strata-sh/strata/internal/regfile"
)

// Shallow returns the commits whose parents are known to be missing: a
// fetch stopped there because the registry no longer had the ancestor.
// The file .strata/shallow lists them, one digest a line, as in git.
func (r *Repo) Shallow() map[digest.Digest]bool {
	out := map[digest.Digest]bool{}
	b, err := regfile.ReadFile(filepath.Join(r.Root, "shallow"))
	if err != nil {
		return out
	}
	for _, line := range strings.Fields(string(b)) {
		out[digest.Digest(line)] = true
	}
	return out
}

// AddShallow records commits whose parents are missing.
func (r *Repo) AddShallow(ds ...digest.Digest) error {
	set := r.Shallow()
	for _, d := range ds {
		set[d] = true
	}
	lines := make([]string, 0, len(set))
	for d := range set {
		lines = append(lines, d.String())
	}
	sort.Strings(lines)
	return atomicfile.Write(r.Objects.TempDir(), filepath.Join(r.Root, "shallow"), []byte(strings.Join(lines, "\n")+"\n"), 0o644)
}
