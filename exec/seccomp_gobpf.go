//go:build !strata_init && !amd64 && !arm64

package exec

import (
	"fmt"

	bpfseccomp "github.com/elastic/go-seccomp-bpf"
	"github.com/elastic/go-seccomp-bpf/arch"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/net/bpf"
	"golang.org/x/sys/unix"
)

// On architectures without a generated syscall table (seccomp_compile.go),
// the profile is compiled with github.com/elastic/go-seccomp-bpf.

// seccompLinear compiles the profile group after group, in its order.
func seccompLinear(caps []string) ([]unix.SockFilter, error) {
	prof, err := defaultProfile(caps)
	if err != nil {
		return nil, err
	}
	info, err := arch.GetInfo("")
	if err != nil {
		return nil, fmt.Errorf("seccomp: %w", err)
	}
	def, err := seccompAction(prof.DefaultAction, prof.DefaultErrnoRet)
	if err != nil {
		return nil, err
	}
	// The library validates only bare actions as the default; a bare errno
	// becomes EPERM, which is what Docker's profile asks for.
	if def == bpfseccomp.ActionErrno|bpfseccomp.Action(unix.EPERM) {
		def = bpfseccomp.ActionErrno
	} else if def&0xffff0000 != def {
		return nil, fmt.Errorf("seccomp: default action %#x unsupported", uint32(def))
	}
	var groups []bpfseccomp.SyscallGroup
	for _, sc := range prof.Syscalls {
		act, err := seccompAction(sc.Action, sc.ErrnoRet)
		if err != nil {
			return nil, err
		}
		conds, err := seccompConditions(sc.Args)
		if err != nil {
			return nil, err
		}
		g := bpfseccomp.SyscallGroup{Action: act}
		seen := map[string]bool{}
		for _, name := range sc.Names {
			// The profile lists syscalls of every architecture (chown32,
			// ...) and of newer kernels than the table knows: skip those.
			if _, ok := info.SyscallNames[name]; !ok || seen[name] {
				continue
			}
			seen[name] = true
			if conds == nil {
				g.Names = append(g.Names, name)
			} else {
				g.NamesWithCondtions = append(g.NamesWithCondtions, bpfseccomp.NameWithConditions{Name: name, Conditions: conds})
			}
		}
		if len(g.Names)+len(g.NamesWithCondtions) > 0 {
			groups = append(groups, g)
		}
	}
	insts, err := assembleGroups(groups, def)
	if err != nil {
		return nil, err
	}
	raw, err := bpf.Assemble(insts)
	if err != nil {
		return nil, fmt.Errorf("seccomp: assemble: %w", err)
	}
	prog := make([]unix.SockFilter, len(raw))
	for i, r := range raw {
		prog[i] = unix.SockFilter{Code: r.Op, Jt: r.Jt, Jf: r.Jf, K: r.K}
	}
	return prog, nil
}

// assembleGroups assembles the groups in order. go-seccomp-bpf leaves an
// argument in the accumulator after a group with argument conditions, and
// the next group would compare that argument, not the syscall number. So
// each run of groups ending in a conditional one is assembled as its own
// program (which starts by loading arch and syscall number), its final
// "return default" is dropped, and the programs are chained: falling off
// one starts the next.
func assembleGroups(groups []bpfseccomp.SyscallGroup, def bpfseccomp.Action) ([]bpf.Instruction, error) {
	const sentinel = bpfseccomp.ActionKillProcess
	var out []bpf.Instruction
	var batch []bpfseccomp.SyscallGroup
	flush := func(last bool) error {
		if len(batch) == 0 {
			return nil
		}
		p := bpfseccomp.Policy{DefaultAction: sentinel, Syscalls: batch}
		if last {
			p.DefaultAction = def
		}
		insts, err := p.Assemble()
		if err != nil {
			return fmt.Errorf("seccomp: assemble: %w", err)
		}
		if !last {
			if r, ok := insts[len(insts)-1].(bpf.RetConstant); !ok || r.Val != uint32(sentinel) {
				return fmt.Errorf("seccomp: assemble: unexpected program end %v", insts[len(insts)-1])
			}
			insts = insts[:len(insts)-1]
		}
		out = append(out, insts...)
		batch = nil
		return nil
	}
	for _, g := range groups {
		batch = append(batch, g)
		if len(g.NamesWithCondtions) > 0 {
			if err := flush(false); err != nil {
				return nil, err
			}
		}
	}
	if len(batch) == 0 {
		// The last group was conditional: end with the default action.
		ret := uint32(def)
		if def == bpfseccomp.ActionErrno {
			ret |= uint32(unix.EPERM)
		}
		return append(out, bpf.RetConstant{Val: ret}), nil
	}
	return out, flush(true)
}

// seccompAction maps an OCI action to a BPF return value. The errno goes into
// the value here: go-seccomp-bpf would turn a bare errno action into EPERM,
// and clone3 must fail with ENOSYS so that glibc falls back to clone.
func seccompAction(a specs.LinuxSeccompAction, errno *uint) (bpfseccomp.Action, error) {
	switch a {
	case specs.ActAllow:
		return bpfseccomp.ActionAllow, nil
	case specs.ActErrno, specs.ActTrace:
		e := uint(unix.EPERM)
		if errno != nil {
			e = *errno
		}
		base := bpfseccomp.ActionErrno
		if a == specs.ActTrace {
			base = bpfseccomp.ActionTrace
		}
		return base | bpfseccomp.Action(e&0xffff), nil
	case specs.ActKill, specs.ActKillThread:
		return bpfseccomp.ActionKillThread, nil
	case specs.ActKillProcess:
		return bpfseccomp.ActionKillProcess, nil
	case specs.ActTrap:
		return bpfseccomp.ActionTrap, nil
	case specs.ActLog:
		return bpfseccomp.ActionLog, nil
	}
	return 0, fmt.Errorf("seccomp: unsupported action %q", a)
}

// seccompConditions converts a rule's argument tests; all must hold.
func seccompConditions(args []specs.LinuxSeccompArg) (bpfseccomp.ArgumentConditions, error) {
	if len(args) == 0 {
		return nil, nil
	}
	var conds bpfseccomp.ArgumentConditions
	for _, a := range args {
		c := bpfseccomp.Condition{Argument: uint32(a.Index), Value: a.Value}
		switch a.Op {
		case specs.OpEqualTo:
			c.Operation = bpfseccomp.Equal
		case specs.OpNotEqual:
			c.Operation = bpfseccomp.NotEqual
		case specs.OpLessThan:
			c.Operation = bpfseccomp.LessThan
		case specs.OpLessEqual:
			c.Operation = bpfseccomp.LessOrEqual
		case specs.OpGreaterThan:
			c.Operation = bpfseccomp.GreaterThan
		case specs.OpGreaterEqual:
			c.Operation = bpfseccomp.GreaterOrEqual
		case specs.OpMaskedEqual:
			// The profile only uses "(arg & mask) == 0": these bits not set.
			if a.ValueTwo != 0 {
				return nil, fmt.Errorf("seccomp: masked compare with non-zero value %#x unsupported", a.ValueTwo)
			}
			c.Operation = bpfseccomp.BitsNotSet
		default:
			return nil, fmt.Errorf("seccomp: unsupported operator %q", a.Op)
		}
		conds = append(conds, c)
	}
	return conds, nil
}
