package repo

import (
	"fmt"
	"sort"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// LayoutIndexObject is the Problem.Object of index.json when it does not
// list what the refs name: SyncLayoutIndex fixes that.
const LayoutIndexObject = "index.json"

// checkLayoutIndex compares index.json, which OCI tools read, with the
// refs, under the refs lock so that no ref moves in between. Every ref
// move rewrites it; a move whose rewrite failed (refs.ErrMoved) leaves it
// behind until the next.
func (r *Repo) checkLayoutIndex() []Problem {
	var problem string
	err := r.Refs.Locked(func() error {
		named, err := r.layoutNames()
		if err != nil {
			return err
		}
		idx, err := r.Objects.ReadLayoutIndex()
		if err != nil {
			return err
		}
		want := map[string]string{}
		for _, n := range named {
			want[n.Name] = n.Commit.String()
		}
		got := map[string]string{}
		for _, m := range idx.Manifests {
			got[m.Annotations[ocispec.AnnotationRefName]] = m.Digest.String()
		}
		problem = layoutDifference(want, got)
		return nil
	})
	if err != nil {
		return []Problem{{Object: LayoutIndexObject, What: err.Error()}}
	}
	if problem == "" {
		return nil
	}
	return []Problem{{Object: LayoutIndexObject, What: problem + "; 'strata fsck --repair' rewrites it from the refs"}}
}

// layoutDifference names the first name whose image differs between the
// refs (want) and index.json (got), or "".
func layoutDifference(want, got map[string]string) string {
	names := map[string]bool{}
	for n := range want {
		names[n] = true
	}
	for n := range got {
		names[n] = true
	}
	sorted := make([]string, 0, len(names))
	for n := range names {
		sorted = append(sorted, n)
	}
	sort.Strings(sorted)
	for _, n := range sorted {
		w, g := want[n], got[n]
		switch {
		case w == g:
		case g == "":
			return fmt.Sprintf("does not list %s (%s)", n, w)
		case w == "":
			return fmt.Sprintf("lists %s (%s), which no branch or tag names", n, g)
		default:
			return fmt.Sprintf("lists %s as %s, the ref says %s", n, g, w)
		}
	}
	return ""
}
