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
	// Deletions by content, and by content and base name; each list in
	// path order, with how far it has been taken (linear however many
	// files share one content).
	type queue struct {
		at   []int
		next int
	}
	byContent, byName := map[string]*queue{}, map[string]*queue{} // content; content NUL base name
	push := func(m map[string]*queue, k string, i int) {
		if m[k] == nil {
			m[k] = &queue{}
		}
		m[k].at = append(m[k].at, i)
	}
	for i, c := range changes {
		if c.Kind != Deleted {
			continue
		}
		b, ok := old[c.Path]
		if k := key(c.Old, b, ok); k != "" {
			push(byContent, k, i)
			push(byName, k+"\x00"+path.Base(c.Path), i)
		}
	}
	if len(byContent) == 0 {
		return changes
	}
	paired := map[int]bool{}
	take := func(q *queue) int {
		for q != nil && q.next < len(q.at) {
			i := q.at[q.next]
			q.next++
			if !paired[i] {
				return i
			}
		}
		return -1
	}
	out := make([]Change, 0, len(changes))
	for _, c := range changes {
		if c.Kind != Added {
			continue
		}
		b, ok := new[c.Path]
		k := key(c.New, b, ok)
		if k == "" {
			continue
		}
		i := take(byName[k+"\x00"+path.Base(c.Path)])
		if i < 0 {
			i = take(byContent[k])
		}
		if i >= 0 {
			paired[i] = true
			out = append(out, Change{Path: c.Path, Kind: Renamed, Old: changes[i].Old, New: c.New, OldPath: changes[i].Path})
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
