package repo

import (
	"errors"
	"fmt"
	"runtime"
	"strings"
	"sync"

	"github.com/opencontainers/go-digest"
	"github.com/strata-sh/strata/objects"
)

// historyCheck walks the histories fsck checks. The walk itself reads
// only each manifest's head, for its parents; the rest of a commit (its
// config, which grows with the history, and its layers) is checked by
// workers while the walk goes on.
type historyCheck struct {
	r       *Repo
	shallow map[digest.Digest]bool
	checked map[digest.Digest]string // commit → the ref it was checked for
	// unreadable: the commits whose manifest could not be read, and why
	// (the walk's own: no lock).
	unreadable map[digest.Digest]string
	jobs       chan commitJob
	wg         sync.WaitGroup

	mu       sync.Mutex
	problems []Problem
	sizes    map[digest.Digest]int64 // blob → its size (-1: missing), asked once
	diffIDs  map[[2]digest.Digest]*diffIDCheck
	indexes  map[digest.Digest]*diffIDCheck // layer → its index check
	// badIndexes: the layers whose file index does not match them.
	badIndexes []objects.Layer
	// misSized: the layers a commit gives another size than they have.
	misSized []misSized
}

// misSized is a commit's layer of another size than the commit says.
type misSized struct {
	layer   digest.Digest
	problem Problem
}

type commitJob struct {
	name     string
	id       digest.Digest
	manifest []byte // read and verified by the walk
}

func (r *Repo) newHistoryCheck() *historyCheck {
	h := &historyCheck{r: r, shallow: r.Shallow(), checked: map[digest.Digest]string{},
		unreadable: map[digest.Digest]string{},
		jobs:       make(chan commitJob, 1024), sizes: map[digest.Digest]int64{},
		diffIDs: map[[2]digest.Digest]*diffIDCheck{}, indexes: map[digest.Digest]*diffIDCheck{}}
	for i := 0; i < runtime.NumCPU(); i++ {
		h.wg.Add(1)
		go func() {
			defer h.wg.Done()
			for j := range h.jobs {
				h.checkCommit(j)
			}
		}()
	}
	return h
}

func (h *historyCheck) problem(name, what string) {
	h.mu.Lock()
	h.problems = append(h.problems, Problem{name, what})
	h.mu.Unlock()
}

// walk checks commit d and its ancestors through every parent, each
// once. A missing parent ends its line of history, reported unless the
// commit is a shallow boundary (a merge there may still have one parent,
// which is checked).
func (h *historyCheck) walk(name string, d digest.Digest) {
	stack := []digest.Digest{d}
	for len(stack) > 0 {
		d := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if d == "" {
			continue
		}
		if _, ok := h.checked[d]; ok {
			continue
		}
		h.checked[d] = name
		b, err := h.r.Objects.ReadJSONBlob(d)
		var m *objects.ManifestHead
		if err == nil {
			m, err = objects.ParseManifestHead(d, b)
		}
		if err != nil {
			what := fmt.Sprintf("commit %s: %v", d.Encoded()[:12], err)
			h.unreadable[d] = what
			h.problem(name, what)
			continue
		}
		if h.r.Objects.SummaryDiffers(d, m) {
			h.problem(d.String(), "summary cache entry differs from the commit"+SummaryCacheFix)
		}
		h.jobs <- commitJob{name, d, b}
		ps := m.Parents()
		for i := len(ps) - 1; i >= 0; i-- {
			p := ps[i]
			if !h.r.Objects.Has(p) {
				if h.shallow[d] {
					continue // a fetch found it gone: the history is cut here
				}
				what := "parent"
				if i > 0 {
					what = "merge parent"
				}
				h.problem(name, fmt.Sprintf("commit %s: %s %s is missing", d.Encoded()[:12], what, p.Encoded()[:12]))
				continue
			}
			stack = append(stack, p)
		}
	}
}

// walkReflogs checks the commits reflog entries name, as gc keeps them:
// each with its history, after the refs (a commit the refs reach is not
// checked again). A problem names the entry, REF@{N}; a line that is not
// an entry is one too.
func (h *historyCheck) walkReflogs() error {
	names, err := h.r.Refs.LogNames()
	if err != nil {
		return err
	}
	for _, name := range names {
		entries, bad, err := h.r.Refs.LogChecked(name)
		if err != nil {
			h.problem("reflog "+name, err.Error())
			continue
		}
		for _, n := range bad {
			h.problem("reflog "+name, fmt.Sprintf("line %d is not a reflog entry", n))
		}
		// The new values first: an entry is named by the commit it
		// moved the ref to, as REF@{N} means.
		for i, e := range entries {
			h.walkEntry(fmt.Sprintf("%s@{%d}", name, i), e.New)
		}
		for i, e := range entries {
			h.walkEntry(fmt.Sprintf("%s@{%d} (old value)", name, i), e.Old)
		}
	}
	return nil
}

// walkEntry walks the commit a reflog entry names; one that cannot be
// read is named for every entry that names it, though read once.
func (h *historyCheck) walkEntry(at string, d digest.Digest) {
	if what, ok := h.unreadable[d]; ok {
		h.problem(at, what)
		return
	}
	h.walk(at, d)
}

// checkCommit reads the whole commit, config included, and asks for
// each of its layers.
func (h *historyCheck) checkCommit(j commitJob) {
	layers, err := h.r.Objects.CheckCommit(j.id, j.manifest)
	if err != nil {
		h.problem(j.name, fmt.Sprintf("commit %s: %v", j.id.Encoded()[:12], err))
		return
	}
	// A blob of another size than the manifest says is not what the
	// manifest names (OCI tools refuse the image): a registry's
	// descriptor of a blob shared with another commit was once taken so.
	for _, l := range layers {
		d := l.Desc.Digest
		n := h.size(d)
		if n < 0 {
			h.problem(j.name, fmt.Sprintf("commit %s: layer %s is missing", j.id.Encoded()[:12], d))
			continue
		}
		if n != l.Desc.Size {
			// Said once the rehash has found the blob sound: a corrupt
			// one is said to be (corruptLayers).
			h.mu.Lock()
			h.misSized = append(h.misSized, misSized{d, Problem{j.name, fmt.Sprintf("commit %s: layer %s is %d bytes, the commit says %d", j.id.Encoded()[:12], d, n, l.Desc.Size)}})
			h.mu.Unlock()
		}
		h.index(l)
		if err := h.diffID(l); err != nil {
			h.problem(j.name, fmt.Sprintf("commit %s: %v", j.id.Encoded()[:12], err))
		}
	}
}

// size is the size of blob d, -1 if it is missing, asked once however
// many commits list it.
func (h *historyCheck) size(d digest.Digest) int64 {
	h.mu.Lock()
	n, asked := h.sizes[d]
	h.mu.Unlock()
	if asked {
		return n
	}
	n, err := h.r.Objects.Size(d)
	if err != nil {
		n = -1
	}
	h.mu.Lock()
	h.sizes[d] = n
	h.mu.Unlock()
	return n
}

// diffID checks a layer against the diff id a commit claims for it, once
// for each pair however many commits share it (objects.CheckDiffID: a
// layer verified before is not read again). A fetch verifies blobs, not
// diff ids (that waits for the checkout that unpacks them), so a layer a
// registry paired with a wrong diff id is found here, not by the rehash.
func (h *historyCheck) diffID(l objects.Layer) error {
	key := [2]digest.Digest{l.Desc.Digest, l.DiffID}
	h.mu.Lock()
	c := h.diffIDs[key]
	if c == nil {
		c = &diffIDCheck{}
		h.diffIDs[key] = c
	}
	h.mu.Unlock()
	c.once.Do(func() { c.err = h.r.Objects.CheckDiffID(l) })
	return c.err
}

// index checks layer l's file index against the layer, once however
// many commits share it (objects.CheckLayerIndex: an index whose record
// holds its checksum is only hashed), before its diff id, whose check a
// pass over the layer here records. A damaged index is a problem of its
// own, LayerIndexObject, which --repair rebuilds.
func (h *historyCheck) index(l objects.Layer) {
	d := l.Desc.Digest
	h.mu.Lock()
	c := h.indexes[d]
	if c == nil {
		c = &diffIDCheck{}
		h.indexes[d] = c
	}
	h.mu.Unlock()
	c.once.Do(func() {
		err := h.r.Objects.CheckLayerIndex(l.Desc)
		if err == nil {
			return
		}
		h.problem(LayerIndexObject(d), strings.TrimPrefix(err.Error(), "layer index "+d.String()+": "))
		if errors.Is(err, objects.ErrIndexMismatch) {
			h.mu.Lock()
			h.badIndexes = append(h.badIndexes, l)
			h.mu.Unlock()
		}
	})
}

// LayerIndexObject names the file index of layer d in fsck's problems.
func LayerIndexObject(d digest.Digest) string { return "layer index " + d.String() }

type diffIDCheck struct {
	once sync.Once
	err  error
}

// finish waits for the workers and returns the problems found.
func (h *historyCheck) finish() []Problem {
	close(h.jobs)
	h.wg.Wait()
	return h.problems
}

// misSizedLayers names the layers commits give another size than they
// have, but for those the rehash found corrupt (bad).
func (h *historyCheck) misSizedLayers(bad map[digest.Digest]bool) []Problem {
	var out []Problem
	for _, m := range h.misSized {
		if !bad[m.layer] {
			out = append(out, m.problem)
		}
	}
	return out
}

// corruptLayers names, for each commit checked, the layers it lists that
// the rehash found corrupt; it runs only when some blob is, which is rare
// enough to read the manifests again.
func (h *historyCheck) corruptLayers(bad map[digest.Digest]bool) []Problem {
	var out []Problem
	for d, name := range h.checked {
		m, err := h.r.Objects.ReadManifest(d)
		if err != nil {
			continue // reported by the walk
		}
		for _, l := range m.Layers {
			if n, asked := h.sizes[l.Digest]; bad[l.Digest] && asked && n >= 0 {
				out = append(out, Problem{name, fmt.Sprintf("commit %s: layer %s is corrupt", d.Encoded()[:12], l.Digest)})
			}
		}
	}
	return out
}
