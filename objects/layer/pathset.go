package layer

import "hash/maphash"

// pathSet is the set of paths one layer's unpack created, kept as 64-bit
// keyed hashes: 16 bytes a path where a map of strings took about 120,
// which at a 10 GB layer of small files (340,000 paths) was most of what
// unpack held. The seed is random per set, so no layer can be built to
// collide; were two paths ever to collide, a whiteout of the same layer
// would spare one path of the layers below (nothing outside the tree is
// touched either way), with odds of about n²/2⁶⁵: 3·10⁻⁹ at 340,000.
type pathSet struct {
	seed maphash.Seed
	m    map[uint64]struct{}
}

func newPathSet() pathSet {
	return pathSet{seed: maphash.MakeSeed(), m: map[uint64]struct{}{}}
}

func (s pathSet) add(p string)      { s.m[maphash.String(s.seed, p)] = struct{}{} }
func (s pathSet) remove(p string)   { delete(s.m, maphash.String(s.seed, p)) }
func (s pathSet) has(p string) bool { _, ok := s.m[maphash.String(s.seed, p)]; return ok }

// addNew adds p and says whether it was not there yet, in one probe of
// the map: at a million paths, each probe is a cache miss.
func (s pathSet) addNew(p string) bool {
	n := len(s.m)
	s.m[maphash.String(s.seed, p)] = struct{}{}
	return len(s.m) > n
}
