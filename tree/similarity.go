package tree

import (
	"fmt"
	"slices"
)

// Similarity is measured as git 2.39 measures it (diffcore-delta.c and
// estimate_similarity in diffcore-rename.c), so that a rename strata
// finds is the one git finds, with the same score.

// MaxScore is git's scale of similarity (MAX_SCORE): identical content.
const MaxScore = 60000

// DefaultRenameScore is the least similarity of a rename, git's default
// of -M: 50%.
const DefaultRenameScore = MaxScore / 2

// DefaultRenameLimit is git's diff.renameLimit: past this many files
// deleted or added (git compares limit², deleted times added), only
// exact renames and renames of a file kept under its name are found.
const DefaultRenameLimit = 1000

// Percent is a score as git prints it: "R087", "similarity index 87%".
func Percent(score int) int { return score * 100 / MaxScore }

// ParseRenameScore reads the N of -M<N> and --find-renames=<N> as git's
// parse_rename_score: digits are a fraction ("5" and "50" are 50%, "100"
// is 10%, "0.5" is 50%), "N%" a percentage ("100%": exact renames only);
// "" is the default. The score is on MaxScore's scale.
func ParseRenameScore(s string) (int, error) {
	if s == "" {
		return DefaultRenameScore, nil
	}
	var num, scale uint64 = 0, 1
	dot := false
	i := 0
	for ; i < len(s); i++ {
		c := s[i]
		if c == '.' && !dot {
			scale, dot = 1, true
		} else if c == '%' {
			if dot {
				scale *= 100
			} else {
				scale = 100
			}
			i++
			break
		} else if c >= '0' && c <= '9' {
			if scale < 100000 {
				scale *= 10
				num = num*10 + uint64(c-'0')
			}
		} else {
			break
		}
	}
	if i != len(s) {
		return 0, fmt.Errorf("%q is no similarity: want a percentage, such as 50%% or 50", s)
	}
	if num >= scale {
		return MaxScore, nil
	}
	return int(MaxScore * num / scale), nil
}

// span is one kind of chunk of a file: its hash, and how many bytes
// of the file are chunks of that hash.
type span struct{ hash, bytes uint32 }

// signature is a file's spans in the order of their hashes: what
// similarity compares, about a quarter of a text's size.
type signature []span

// spanHashBase is git's HASHBASE: chunk hashes fall in [0, spanHashBase).
const spanHashBase = 107927

// signatureOf cuts b into chunks as git's hash_chars does (each line, or
// 64 bytes, whichever ends first; in a text, the CR of a CRLF left out)
// and sums the bytes of the chunks of each hash. As git 2.39's, a last
// chunk that no newline ends and is shorter than 64 bytes is not counted.
func signatureOf(b []byte) signature {
	text := !isBinary(b)
	var spans []span
	var acc1, acc2 uint32
	n := uint32(0)
	for i := 0; i < len(b); i++ {
		c := uint32(b[i])
		if text && c == '\r' && i+1 < len(b) && b[i+1] == '\n' {
			continue
		}
		old1 := acc1
		acc1 = acc1<<7 ^ acc2>>25
		acc2 = acc2<<7 ^ old1>>25
		acc1 += c
		n++
		if n < 64 && c != '\n' {
			continue
		}
		spans = append(spans, span{(acc1 + acc2*0x61) % spanHashBase, n})
		n, acc1, acc2 = 0, 0, 0
	}
	slices.SortFunc(spans, func(a, b span) int { return int(a.hash) - int(b.hash) })
	out := spans[:0]
	for _, s := range spans {
		if len(out) > 0 && out[len(out)-1].hash == s.hash {
			out[len(out)-1].bytes += s.bytes
			continue
		}
		out = append(out, s)
	}
	return slices.Clip(out)
}

// copied is git's src_copied: the bytes of dst's chunks that src has
// too, each chunk counted as often as both have it.
func copied(src, dst signature) uint64 {
	var sc uint64
	j := 0
	for _, s := range src {
		for j < len(dst) && dst[j].hash < s.hash {
			j++
		}
		if j < len(dst) && dst[j].hash == s.hash {
			sc += uint64(min(s.bytes, dst[j].bytes))
			j++
		}
	}
	return sc
}

// sizesAllow reports whether files of these sizes may reach score min at
// all: git does not compare files whose sizes differ by more than
// (MaxScore-min)/MaxScore of the larger one.
func sizesAllow(a, b int64, minScore int) bool {
	big, small := max(a, b), min(a, b)
	return uint64(big)*uint64(MaxScore-minScore) >= uint64(big-small)*MaxScore
}
