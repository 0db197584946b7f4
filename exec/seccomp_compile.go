//go:build !strata_init && (amd64 || arm64)

package exec

import (
	"fmt"
	"slices"
	"sort"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// The profile is compiled here, with the syscall table generated from
// golang.org/x/sys (seccomp_sysnum_*.go, exec/internal/gensysnum), not with
// github.com/elastic/go-seccomp-bpf: that library builds name tables for
// every architecture it knows when the program starts, 0.2 to 0.3 ms of
// every strata command, run or not. TestSeccompCompileMatchesGoBPF holds
// the programs to the decisions of the library's (testdata).

// sysNumEntry is one row of the generated syscall table.
type sysNumEntry struct {
	name string
	nr   uint32
}

// sysNum looks a system call up by name in the native table.
func sysNum(name string) (uint32, bool) {
	i := sort.Search(len(sysNums), func(i int) bool { return sysNums[i].name >= name })
	if i < len(sysNums) && sysNums[i].name == name {
		return sysNums[i].nr, true
	}
	return 0, false
}

// seccompRule is one entry of the profile for one syscall: its action
// when every condition holds.
type seccompRule struct {
	action uint32
	conds  []specs.LinuxSeccompArg
}

// seccompLinear compiles the profile to a program that loads the arch
// (foreign: the default action) and the number (above the profile's
// newest syscall, x32's included: ENOSYS), then tests each syscall in
// turn: its rules in the profile's order, the first whose conditions hold
// deciding, else the default.
// Syscalls the table does not know (other architectures' names) are
// skipped. seccompTree then puts the search tree in front.
func seccompLinear(caps []string) ([]unix.SockFilter, error) {
	prof, err := defaultProfile(caps)
	if err != nil {
		return nil, err
	}
	def, err := seccompAction(prof.DefaultAction, prof.DefaultErrnoRet)
	if err != nil {
		return nil, err
	}
	var order []uint32
	rules := map[uint32][]seccompRule{}
	for _, sc := range prof.Syscalls {
		act, err := seccompAction(sc.Action, sc.ErrnoRet)
		if err != nil {
			return nil, err
		}
		for _, a := range sc.Args {
			if _, err := seccompCondition(&bpfAsm{}, a, 0); err != nil {
				return nil, err
			}
		}
		for _, name := range sc.Names {
			nr, ok := sysNum(name)
			if !ok {
				continue
			}
			if _, seen := rules[nr]; !seen {
				order = append(order, nr)
			}
			rules[nr] = append(rules[nr], seccompRule{act, sc.Args})
		}
	}
	if len(order) == 0 {
		return nil, fmt.Errorf("seccomp: the profile names no syscall of this architecture")
	}
	var a bpfAsm
	ldAbs := uint16(unix.BPF_LD | unix.BPF_W | unix.BPF_ABS)
	const (
		lDefault = iota
		lFirstFree
	)
	next := lFirstFree
	// Foreign arch: the default action, through a ja (the program is
	// longer than a conditional jump reaches).
	native := next
	next++
	a.op(unix.SockFilter{Code: ldAbs, K: 4})
	a.jump(unix.BPF_JEQ, seccompArch, native, -1) // -1: the next instruction
	a.skip(lDefault)
	a.label(native)
	a.op(unix.SockFilter{Code: ldAbs, K: 0})
	// A number above every syscall the profile names is newer than the
	// profile: ENOSYS, as runc makes it (libcontainer/seccomp/patchbpf),
	// so that a program falls back as on an older kernel instead of
	// failing on EPERM. x32's numbers (bit 30 set; x32 shares amd64's arch
	// value) are among them.
	known := next
	next++
	a.jump(unix.BPF_JGT, slices.Max(order), -1, known)
	a.ret(unix.SECCOMP_RET_ERRNO | uint32(unix.ENOSYS))
	a.label(known)
	for _, nr := range order {
		other := next
		next++
		a.jump(unix.BPF_JEQ, nr, -1, other)
		for _, r := range rules[nr] {
			fail := next
			next++
			for _, c := range r.conds {
				if _, err := seccompCondition(&a, c, fail); err != nil {
					return nil, err
				}
			}
			a.ret(r.action)
			a.label(fail)
		}
		a.ret(def)
		a.label(other)
	}
	a.label(lDefault)
	a.ret(def)
	return a.assemble()
}

// seccompCondition emits the test of one argument condition: it falls
// through when the condition holds and jumps to fail when it does not.
// Arguments are 64 bits, compared as two 32-bit halves (little-endian
// layout: the low word first).
func seccompCondition(a *bpfAsm, c specs.LinuxSeccompArg, fail int) (int, error) {
	if c.Index > 5 {
		return 0, fmt.Errorf("seccomp: argument index %d", c.Index)
	}
	lo, hi := uint32(16+8*c.Index), uint32(16+8*c.Index+4)
	ld := func(off uint32) { a.op(unix.SockFilter{Code: unix.BPF_LD | unix.BPF_W | unix.BPF_ABS, K: off}) }
	vlo, vhi := uint32(c.Value), uint32(c.Value>>32)
	pass := a.newLabel()
	switch c.Op {
	case specs.OpEqualTo:
		ld(hi)
		a.jump(unix.BPF_JEQ, vhi, -1, fail)
		ld(lo)
		a.jump(unix.BPF_JEQ, vlo, -1, fail)
	case specs.OpNotEqual:
		ld(hi)
		a.jump(unix.BPF_JEQ, vhi, -1, pass)
		ld(lo)
		a.jump(unix.BPF_JEQ, vlo, fail, -1)
	case specs.OpGreaterThan, specs.OpGreaterEqual:
		ld(hi)
		a.jump(unix.BPF_JGT, vhi, pass, -1)
		a.jump(unix.BPF_JEQ, vhi, -1, fail)
		ld(lo)
		if c.Op == specs.OpGreaterThan {
			a.jump(unix.BPF_JGT, vlo, -1, fail)
		} else {
			a.jump(unix.BPF_JGE, vlo, -1, fail)
		}
	case specs.OpLessThan, specs.OpLessEqual:
		ld(hi)
		a.jump(unix.BPF_JGE, vhi, -1, pass)
		a.jump(unix.BPF_JEQ, vhi, -1, fail)
		ld(lo)
		if c.Op == specs.OpLessThan {
			a.jump(unix.BPF_JGE, vlo, fail, -1)
		} else {
			a.jump(unix.BPF_JGT, vlo, fail, -1)
		}
	case specs.OpMaskedEqual:
		// (arg & Value) == ValueTwo
		and := func(m uint32) { a.op(unix.SockFilter{Code: unix.BPF_ALU | unix.BPF_AND | unix.BPF_K, K: m}) }
		ld(hi)
		and(vhi)
		a.jump(unix.BPF_JEQ, uint32(c.ValueTwo>>32), -1, fail)
		ld(lo)
		and(vlo)
		a.jump(unix.BPF_JEQ, uint32(c.ValueTwo), -1, fail)
	default:
		return 0, fmt.Errorf("seccomp: unsupported operator %q", c.Op)
	}
	a.label(pass)
	return pass, nil
}

// seccompAction maps an OCI action to a BPF return value, the errno in it
// (clone3 must fail with ENOSYS, so that glibc falls back to clone).
func seccompAction(a specs.LinuxSeccompAction, errno *uint) (uint32, error) {
	e := uint32(unix.EPERM)
	if errno != nil {
		e = uint32(*errno) & unix.SECCOMP_RET_DATA
	}
	switch a {
	case specs.ActAllow:
		return unix.SECCOMP_RET_ALLOW, nil
	case specs.ActErrno:
		return unix.SECCOMP_RET_ERRNO | e, nil
	case specs.ActTrace:
		return unix.SECCOMP_RET_TRACE | e, nil
	case specs.ActKill, specs.ActKillThread:
		return unix.SECCOMP_RET_KILL_THREAD, nil
	case specs.ActKillProcess:
		return unix.SECCOMP_RET_KILL_PROCESS, nil
	case specs.ActTrap:
		return unix.SECCOMP_RET_TRAP, nil
	case specs.ActLog:
		return unix.SECCOMP_RET_LOG, nil
	}
	return 0, fmt.Errorf("seccomp: unsupported action %q", a)
}

// bpfAsm collects instructions whose jumps name labels, resolved by
// assemble. Label -1 is the next instruction.
type bpfAsm struct {
	prog   []unix.SockFilter
	jt, jf []int // per instruction: target labels of a conditional jump
	ja     []int // per instruction: target label of an unconditional jump
	at     map[int]int
	labels int
}

const firstDynLabel = 1 << 20

func (a *bpfAsm) newLabel() int { a.labels++; return firstDynLabel + a.labels }

func (a *bpfAsm) emit(f unix.SockFilter, jt, jf, ja int) {
	a.prog = append(a.prog, f)
	a.jt, a.jf, a.ja = append(a.jt, jt), append(a.jf, jf), append(a.ja, ja)
}

func (a *bpfAsm) op(f unix.SockFilter) { a.emit(f, -1, -1, -1) }

func (a *bpfAsm) ret(k uint32) { a.op(unix.SockFilter{Code: unix.BPF_RET | unix.BPF_K, K: k}) }

func (a *bpfAsm) jump(cond uint16, k uint32, jt, jf int) {
	a.emit(unix.SockFilter{Code: unix.BPF_JMP | cond | unix.BPF_K, K: k}, jt, jf, -1)
}

// skip is an unconditional jump to label l.
func (a *bpfAsm) skip(l int) { a.emit(unix.SockFilter{Code: unix.BPF_JMP | unix.BPF_JA}, -1, -1, l) }

func (a *bpfAsm) label(l int) {
	if a.at == nil {
		a.at = map[int]int{}
	}
	a.at[l] = len(a.prog)
}

func (a *bpfAsm) assemble() ([]unix.SockFilter, error) {
	off := func(i, l int) (int, error) {
		if l == -1 {
			return 0, nil
		}
		t, ok := a.at[l]
		if !ok || t <= i {
			return 0, fmt.Errorf("seccomp: assemble: bad jump target")
		}
		return t - i - 1, nil
	}
	out := append([]unix.SockFilter(nil), a.prog...)
	for i := range out {
		if a.ja[i] != -1 {
			d, err := off(i, a.ja[i])
			if err != nil {
				return nil, err
			}
			out[i].K = uint32(d)
			continue
		}
		if out[i].Code&0x07 != unix.BPF_JMP {
			continue
		}
		t, err := off(i, a.jt[i])
		if err != nil {
			return nil, err
		}
		f, err := off(i, a.jf[i])
		if err != nil {
			return nil, err
		}
		if t > 255 || f > 255 {
			return nil, fmt.Errorf("seccomp: assemble: jump too far")
		}
		out[i].Jt, out[i].Jf = uint8(t), uint8(f)
	}
	if len(out) > unix.BPF_MAXINSNS {
		return nil, fmt.Errorf("seccomp: program of %d instructions", len(out))
	}
	return out, nil
}
