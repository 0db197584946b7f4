package tree

import (
	"encoding/hex"
	"path"
	"sort"

	"github.com/zeebo/blake3"

	"github.com/strata-sh/strata/objects/layer"
)

// DetectRenames pairs each deleted file with an added file of the same
// content, as git's exact rename detection does, into one Renamed change
// (at the new path, with both entries). Empty files are never paired
// (git does not either), nor anything but regular files. A candidate of
// the same base name is taken first, then the first in path order. A
// file's content is known by its entry's digest, else from old or new
// (the contents a diff read); one known by neither is left as it is. The
// result is in path order; changes is not modified.
func DetectRenames(changes []Change, old, new map[string][]byte) []Change {
	key := func(e *layer.Entry, content []byte, known bool) string {
		if e == nil || KindOf(e.Type) != layer.TypeFile || e.Size == 0 {
			return ""
		}
		if e.Digest != "" {
			return e.Digest
		}
		if !known {
			return ""
		}
		sum := blake3.Sum256(content)
		return "blake3:" + hex.EncodeToString(sum[:])
	}
	deleted := map[string][]int{} // content -> indexes of deletions
	for i, c := range changes {
		if c.Kind == Deleted {
			b, ok := old[c.Path]
			if k := key(c.Old, b, ok); k != "" {
				deleted[k] = append(deleted[k], i)
			}
		}
	}
	if len(deleted) == 0 {
		return changes
	}
	paired := map[int]bool{}
	out := make([]Change, 0, len(changes))
	for _, c := range changes {
		if c.Kind != Added {
			continue
		}
		b, ok := new[c.Path]
		cands := deleted[key(c.New, b, ok)]
		best := -1
		for _, i := range cands {
			if paired[i] {
				continue
			}
			if best < 0 || path.Base(changes[i].Path) == path.Base(c.Path) && path.Base(changes[best].Path) != path.Base(c.Path) {
				best = i
			}
		}
		if best >= 0 {
			paired[best] = true
			out = append(out, Change{Path: c.Path, Kind: Renamed, Old: changes[best].Old, New: c.New, OldPath: changes[best].Path})
		}
	}
	if len(out) == 0 {
		return changes
	}
	renamedTo := map[string]bool{}
	for _, r := range out {
		renamedTo[r.Path] = true
	}
	for i, c := range changes {
		if paired[i] || c.Kind == Added && renamedTo[c.Path] {
			continue
		}
		out = append(out, c)
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Path < out[j].Path })
	return out
}
