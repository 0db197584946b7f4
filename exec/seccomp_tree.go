//go:build !strata_init

package exec

import (
	"sort"

	"golang.org/x/sys/unix"
)

// The compiled profile tests the syscall number against one constant
// after another (about 450 comparisons). The kernel pays for that length
// when the filter is attached: it runs the filter for every syscall number
// to build its cache of always-allowed syscalls, with interrupts off
// (0.3 to 0.5 ms per start here), and each syscall of the container pays
// for it too until the cache answers. seccompTree rewrites such a program
// into the same decisions behind a binary search on the number: every
// number whose action does not depend on the arguments gets its return in
// about nine comparisons, the others jump to where the original program
// would have started to read the arguments. The original instructions that
// no number reaches any more are dropped.

// seccompTree returns prog with a search tree in front, or prog itself
// when it does not have the expected shape (load arch; jeq native; ja
// elsewhere; load nr) or a decision it cannot follow.
func seccompTree(prog []unix.SockFilter) []unix.SockFilter {
	const (
		ldAbs = unix.BPF_LD | unix.BPF_W | unix.BPF_ABS
		ja    = unix.BPF_JMP | unix.BPF_JA
	)
	if len(prog) < 5 || prog[0] != (unix.SockFilter{Code: ldAbs, K: 4}) ||
		prog[1].Code != unix.BPF_JMP|unix.BPF_JEQ|unix.BPF_K || prog[1].Jt != 1 || prog[1].Jf != 0 ||
		prog[2].Code != ja || prog[3] != (unix.SockFilter{Code: ldAbs, K: 0}) {
		return prog
	}
	native := prog[1].K
	// Numbers that compare alike everywhere behave alike: the intervals
	// between the constants the program compares with are the cases.
	bounds := map[uint32]bool{0: true}
	for _, f := range prog {
		if f.Code&0x07 != unix.BPF_JMP || f.Code&0x08 != unix.BPF_K {
			continue
		}
		switch f.Code & 0xf0 {
		case unix.BPF_JEQ:
			bounds[f.K] = true
			if f.K != ^uint32(0) {
				bounds[f.K+1] = true
			}
		case unix.BPF_JGE:
			bounds[f.K] = true
		case unix.BPF_JGT:
			if f.K != ^uint32(0) {
				bounds[f.K+1] = true
			}
		}
	}
	los := make([]uint32, 0, len(bounds))
	for b := range bounds {
		los = append(los, b)
	}
	sort.Slice(los, func(i, j int) bool { return los[i] < los[j] })
	type interval struct {
		lo  uint32
		out outcome
	}
	var ivs []interval
	for _, lo := range los {
		out, ok := followNr(prog, 4, lo, native)
		if !ok {
			return prog
		}
		if len(ivs) > 0 && ivs[len(ivs)-1].out == out {
			continue
		}
		ivs = append(ivs, interval{lo, out})
	}
	// Keep what the leaves and the foreign-arch jump still reach.
	reach := make([]bool, len(prog))
	var mark func(pc int)
	mark = func(pc int) {
		for pc < len(prog) && !reach[pc] {
			reach[pc] = true
			f := prog[pc]
			switch {
			case f.Code&0x07 == unix.BPF_RET:
				return
			case f.Code == ja:
				pc += 1 + int(f.K)
			case f.Code&0x07 == unix.BPF_JMP:
				mark(pc + 1 + int(f.Jt))
				pc += 1 + int(f.Jf)
			default:
				pc++
			}
		}
	}
	foreign := 3 + int(prog[2].K)
	mark(foreign)
	for _, iv := range ivs {
		if !iv.out.ret {
			mark(iv.out.pc)
		}
	}
	newPC := make([]int, len(prog)+1)
	n := 0
	for pc := range prog {
		newPC[pc] = n
		if reach[pc] {
			n++
		}
	}
	newPC[len(prog)] = n

	// The tree: at each node, numbers >= the middle interval's start go
	// right. Leaves return, or jump to the kept original code (patched
	// once the tree's length is known).
	type leafJump struct{ at, pc int }
	var tree []unix.SockFilter
	var jumps []leafJump
	var emit func(ivs []interval)
	emit = func(ivs []interval) {
		if len(ivs) == 1 {
			if o := ivs[0].out; o.ret {
				tree = append(tree, unix.SockFilter{Code: unix.BPF_RET | unix.BPF_K, K: o.k})
			} else {
				jumps = append(jumps, leafJump{len(tree), o.pc})
				tree = append(tree, unix.SockFilter{Code: ja})
			}
			return
		}
		mid := len(ivs) / 2
		node := len(tree)
		tree = append(tree, unix.SockFilter{Code: unix.BPF_JMP | unix.BPF_JGE | unix.BPF_K, K: ivs[mid].lo})
		emit(ivs[:mid])
		left := len(tree) - node - 1
		if left <= 255 {
			tree[node].Jt = uint8(left)
			emit(ivs[mid:])
			return
		}
		// Too far for an 8-bit offset: true goes through a ja.
		tree = append(tree[:node+1], append([]unix.SockFilter{{Code: ja, K: uint32(left)}}, tree[node+1:]...)...)
		for i := range jumps {
			if jumps[i].at > node {
				jumps[i].at++
			}
		}
		tree[node].Jt, tree[node].Jf = 0, 1
		emit(ivs[mid:])
	}
	emit(ivs)
	body := 4 + len(tree)
	out := make([]unix.SockFilter, 0, body+n)
	out = append(out, prog[:4]...)
	out[2].K = uint32(body + newPC[foreign] - 3)
	for _, j := range jumps {
		tree[j.at].K = uint32(body + newPC[j.pc] - (4 + j.at + 1))
	}
	out = append(out, tree...)
	for pc, f := range prog {
		if !reach[pc] {
			continue
		}
		// Relative jumps span only dropped code in between: re-aim them.
		switch {
		case f.Code == ja:
			f.K = uint32(newPC[pc+1+int(f.K)] - newPC[pc] - 1)
		case f.Code&0x07 == unix.BPF_JMP:
			f.Jt = uint8(newPC[pc+1+int(f.Jt)] - newPC[pc] - 1)
			f.Jf = uint8(newPC[pc+1+int(f.Jf)] - newPC[pc] - 1)
		}
		out = append(out, f)
	}
	if len(out) > unix.BPF_MAXINSNS {
		return prog
	}
	return out
}

// outcome is what the program does for a syscall number before it looks
// at anything else: return k, or go on at pc with the number in A.
type outcome struct {
	ret bool
	k   uint32
	pc  int
}

// followNr runs prog from pc with the syscall number nr in A (arch is
// native) until it returns or reads something other than the number or
// the arch. ok is false when it cannot tell (a bit test of the number, or
// a step that uses the arch in A).
func followNr(prog []unix.SockFilter, pc int, nr, native uint32) (outcome, bool) {
	const (
		inNr = iota
		inArch
	)
	a := inNr
	for steps := 0; pc < len(prog) && steps <= len(prog); steps++ {
		f := prog[pc]
		val := nr
		if a == inArch {
			val = native
		}
		switch {
		case f.Code == unix.BPF_LD|unix.BPF_W|unix.BPF_ABS && (f.K == 0 || f.K == 4):
			a = inNr
			if f.K == 4 {
				a = inArch
			}
			pc++
			continue
		case f.Code == unix.BPF_LD|unix.BPF_W|unix.BPF_ABS:
			return outcome{pc: pc}, true // an argument: A is overwritten
		case f.Code == unix.BPF_RET|unix.BPF_K:
			return outcome{ret: true, k: f.K}, true
		case f.Code == unix.BPF_JMP|unix.BPF_JA:
			pc += 1 + int(f.K)
			continue
		case f.Code&0x07 == unix.BPF_JMP && f.Code&0x08 == unix.BPF_K && f.Code&0xf0 != unix.BPF_JSET:
			var taken bool
			switch f.Code & 0xf0 {
			case unix.BPF_JEQ:
				taken = val == f.K
			case unix.BPF_JGT:
				taken = val > f.K
			case unix.BPF_JGE:
				taken = val >= f.K
			default:
				return outcome{}, false
			}
			if taken {
				pc += 1 + int(f.Jt)
			} else {
				pc += 1 + int(f.Jf)
			}
			continue
		}
		if a != inNr {
			return outcome{}, false
		}
		return outcome{pc: pc}, true
	}
	return outcome{}, false
}
