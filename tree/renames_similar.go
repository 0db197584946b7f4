package tree

import (
	"path"
	"slices"

	"github.com/strata-sh/strata/objects/layer"
)

// candidate is a source's score against a destination.
type candidate struct{ src, dst, score, sameName int }

// better orders candidates as git's score_compare: the higher score,
// then the same base name, then (git's order of comparison) the first
// source.
func better(a, b candidate) bool {
	if a.score != b.score {
		return a.score > b.score
	}
	if a.sameName != b.sameName {
		return a.sameName > b.sameName
	}
	return a.src < b.src
}

// candidatesPerDst is git's NUM_CANDIDATE_PER_DST.
const candidatesPerDst = 4

// similar compares every source left (with Copies, every source) with
// every destination left, when they are few enough, and pairs the most
// similar first: with Copies, unused deleted sources first, then any.
func (r *renamer) similar() error {
	var srcs, dsts []int
	for i, f := range r.src {
		if f.used == 0 || r.o.Copies {
			srcs = append(srcs, i)
		}
	}
	for i, f := range r.dst {
		if f.to < 0 {
			dsts = append(dsts, i)
		}
	}
	if len(srcs) == 0 || len(dsts) == 0 {
		return nil
	}
	if l := int64(r.o.Limit); l > 0 && int64(len(srcs))*int64(len(dsts)) > l*l {
		r.limit.Needed = max(len(srcs), len(dsts))
		// git's too_many_rename_candidates: under -C -C, the changed
		// sources alone, when they are few enough.
		changed := srcs[:0:0]
		for _, i := range srcs {
			if !r.src[i].unmodified {
				changed = append(changed, i)
			}
		}
		if len(changed) == len(srcs) || int64(len(changed))*int64(len(dsts)) > l*l {
			return nil
		}
		srcs, r.limit.Degraded = changed, true
	}
	// The side with fewer files is held: those with a file of the other
	// side of a size that can reach the score. Pairs are not listed (a
	// list is quadratic: 400 MB for 10,000 × 10,000 files); score finds
	// them again, batch by batch.
	held, streamed, heldSide := srcs, dsts, 0
	if len(dsts) < len(srcs) {
		held, streamed, heldSide = dsts, srcs, 1
	}
	files := [2][]*renameFile{r.src, r.dst}
	var scored []int
	for _, h := range held {
		hf := files[heldSide][h]
		if !hf.regular() {
			continue
		}
		for _, o := range streamed {
			if r.partners(heldSide, h, o, r.o.Score) {
				scored = append(scored, h)
				break
			}
		}
	}
	best := map[int][]candidate{} // by destination, best first, at most candidatesPerDst
	err := r.score(heldSide, scored, streamed, nil, r.o.Score, func(si, di, score int) {
		if score < r.o.Score {
			return
		}
		c := candidate{si, di, score, btoi(path.Base(r.src[si].path) == path.Base(r.dst[di].path))}
		l := best[di]
		at, _ := slices.BinarySearchFunc(l, c, func(a, b candidate) int {
			if better(a, b) {
				return -1
			}
			return 1
		})
		if at < candidatesPerDst {
			l = slices.Insert(l, at, c)
			best[di] = l[:min(len(l), candidatesPerDst)]
		}
	})
	if err != nil {
		return err
	}
	var all []candidate
	for _, di := range dsts {
		all = append(all, best[di]...)
	}
	slices.SortStableFunc(all, func(a, b candidate) int {
		switch {
		case a.score != b.score:
			return b.score - a.score
		default:
			return b.sameName - a.sameName
		}
	})
	for _, c := range all {
		if r.dst[c.dst].to < 0 && r.src[c.src].used == 0 {
			r.pair(c.src, c.dst, c.score)
		}
	}
	if r.o.Copies {
		for _, c := range all {
			if r.dst[c.dst].to < 0 {
				r.pair(c.src, c.dst, c.score)
			}
		}
	}
	return nil
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

// heldBytes bounds the content whose signatures score holds at once (a
// variable for tests).
var heldBytes int64 = 64 << 20

// partners reports whether file h of heldSide (0: the sources) and file
// o of the other side are both regular files of sizes that can reach
// least.
func (r *renamer) partners(heldSide, h, o, least int) bool {
	files := [2][]*renameFile{r.src, r.dst}
	hf, of := files[heldSide][h], files[1-heldSide][o]
	return hf.regular() && of.regular() && sizesAllow(hf.e.Size, of.e.Size, least)
}

// score gives pairs of a file held of one side (heldSide 0: the
// sources) and a file of the other their similarity, from contents Read
// gives: each held file with its one partner in one (the same base
// name), or, one nil, with each file of streamed it partners. The files
// held are read as signatures in batches of about heldBytes of content,
// and their partners read past each batch, scored as they come and
// dropped. Pairs are never listed (all of 10,000 × 10,000 files would
// take 400 MB): a batch's are found again as its partners are read. A
// pair whose content is not given gets no score.
func (r *renamer) score(heldSide int, held, streamed []int, one map[int]int, least int, rec func(si, di, score int)) error {
	files := [2][]*renameFile{r.src, r.dst}
	for len(held) > 0 {
		n, size := 0, int64(0)
		for n < len(held) && (n == 0 || size+files[heldSide][held[n]].e.Size <= heldBytes) {
			size += files[heldSide][held[n]].e.Size
			n++
		}
		batch := held[:n]
		held = held[n:]
		sigs, sizes, err := r.signatures(heldSide, batch)
		if err != nil {
			return err
		}
		// The files streamed that have a partner in the batch, and with
		// one, which.
		want, at, back := map[string]*layer.Entry{}, map[string]int{}, map[int]int{}
		add := func(o int) {
			f := files[1-heldSide][o]
			want[f.path], at[f.path] = f.e, o
		}
		for _, h := range batch {
			if o, ok := one[h]; ok && sigs[h] != nil {
				add(o)
				back[o] = h
			}
		}
		for _, o := range streamed {
			for _, h := range batch {
				if sigs[h] != nil && r.partners(heldSide, h, o, least) {
					add(o)
					break
				}
			}
		}
		scoreWith := func(h, o int, b []byte, sig signature) {
			if heldSide == 0 {
				rec(h, o, estimate(sizes[h], int64(len(b)), sigs[h], sig, least))
			} else {
				rec(o, h, estimate(int64(len(b)), sizes[h], sig, sigs[h], least))
			}
		}
		err = r.o.Read(heldSide == 1, want, func(p string, b []byte) {
			o := at[p]
			sig := signatureOf(b)
			if h, ok := back[o]; ok {
				scoreWith(h, o, b, sig)
				return
			}
			for _, h := range batch {
				if sigs[h] != nil && r.partners(heldSide, h, o, least) {
					scoreWith(h, o, b, sig)
				}
			}
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// signatures reads the files at indexes of one side (0: sources).
func (r *renamer) signatures(side int, indexes []int) (map[int]signature, map[int]int64, error) {
	files := [2][]*renameFile{r.src, r.dst}[side]
	want, at := map[string]*layer.Entry{}, map[string]int{}
	for _, i := range indexes {
		want[files[i].path], at[files[i].path] = files[i].e, i
	}
	sigs, sizes := map[int]signature{}, map[int]int64{}
	err := r.o.Read(side == 0, want, func(p string, b []byte) {
		i := at[p]
		sigs[i], sizes[i] = signatureOf(b), int64(len(b))
		if sigs[i] == nil {
			sigs[i] = signature{} // read, with no chunk
		}
	})
	return sigs, sizes, err
}

// estimate is git's estimate_similarity of a source of size sa and
// signature s renamed to a destination of size sb and signature d: the
// bytes copied over the larger size; 0 when their sizes differ too much
// for least.
func estimate(sa, sb int64, s, d signature, least int) int {
	big := max(sa, sb)
	if !sizesAllow(sa, sb, least) || sb == 0 || big == 0 {
		return 0
	}
	return int(copied(s, d) * MaxScore / uint64(big))
}
