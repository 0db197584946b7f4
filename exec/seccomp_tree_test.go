package exec

import (
	"encoding/binary"
	"testing"

	"golang.org/x/net/bpf"
	"golang.org/x/sys/unix"
)

// seccompArgSets take the profile's conditional branches both ways.
var seccompArgSets = [][]uint64{
	nil,
	{unix.CLONE_VM | unix.CLONE_THREAD},
	{unix.CLONE_NEWNS},
	{unix.CLONE_NEWUSER},
	{unix.AF_INET},
	{unix.AF_VSOCK},
	{0x1234, 0xffffffff, 7},
	{0xffffffffffffffff, 0x8, 0x20008},
	{0, 0, 0, 0, 0, 0},
	{0x0008, 0xffffffff},
	{0x7e020000},
	{1 << 40, 0x20000},
	{0xffffffff},
	{0x100000000},
	{0x100000028},
}

// runSeccomp runs prog on a seccomp_data (see evalSeccomp) for any arch.
func runSeccomp(t *testing.T, vm *bpf.VM, arch uint32, nr uint32, args []uint64) uint32 {
	t.Helper()
	data := make([]byte, 64)
	binary.BigEndian.PutUint32(data[0:], nr)
	binary.BigEndian.PutUint32(data[4:], arch)
	for i, a := range args {
		off := 16 + 8*i
		binary.BigEndian.PutUint32(data[off:], uint32(a))
		binary.BigEndian.PutUint32(data[off+4:], uint32(a>>32))
	}
	n, err := vm.Run(data)
	if err != nil {
		t.Fatal(err)
	}
	return uint32(n)
}

func newSeccompVM(t *testing.T, prog []unix.SockFilter) *bpf.VM {
	t.Helper()
	raw := make([]bpf.RawInstruction, len(prog))
	for i, f := range prog {
		raw[i] = bpf.RawInstruction{Op: f.Code, Jt: f.Jt, Jf: f.Jf, K: f.K}
	}
	insts, ok := bpf.Disassemble(raw)
	if !ok {
		t.Fatal("disassemble")
	}
	vm, err := bpf.NewVM(insts)
	if err != nil {
		t.Fatal(err)
	}
	return vm
}

// TestSeccompTreeSameDecisions: the tree program decides every syscall
// number (each one up to 1100, every constant the program compares with
// and its neighbours, and numbers far out), on the native and a foreign
// arch, with argument sets that take the profile's conditional branches
// both ways, exactly as the linear program does; and it is shorter to
// search, which is its reason to exist.
func TestSeccompTreeSameDecisions(t *testing.T) {
	capsets := [][]string{}
	def, _ := capSet(false, nil, nil)
	capsets = append(capsets, def)
	for _, add := range [][]string{{"SYS_ADMIN"}, {"ALL"}, {"SYS_PTRACE", "SYS_MODULE", "SYSLOG"}} {
		c, err := capSet(false, add, nil)
		if err != nil {
			t.Fatal(err)
		}
		capsets = append(capsets, c)
	}
	for _, caps := range capsets {
		lin, err := seccompLinear(caps)
		if err != nil {
			t.Fatal(err)
		}
		tree := seccompTree(lin)
		if len(tree) == len(lin) {
			t.Fatalf("caps %v: no tree was built (%d instructions)", caps, len(lin))
		}
		nrs := map[uint32]bool{}
		for nr := uint32(0); nr < 1100; nr++ {
			nrs[nr] = true
		}
		for _, f := range lin {
			nrs[f.K], nrs[f.K-1], nrs[f.K+1] = true, true, true
		}
		for _, nr := range []uint32{0x3fffffff, 0x40000000, 0x40000001, 0x40000101, 0x7fffffff, 0xffffffff} {
			nrs[nr] = true
		}
		vl, vt := newSeccompVM(t, lin), newSeccompVM(t, tree)
		bad := 0
		for _, arch := range []uint32{0xc000003e, 0x40000003} {
			for nr := range nrs {
				for _, args := range seccompArgSets {
					a, b := runSeccomp(t, vl, arch, nr, args), runSeccomp(t, vt, arch, nr, args)
					if a != b && bad < 10 {
						bad++
						t.Errorf("caps %d, arch %#x, nr %d, args %#x: linear %#x, tree %#x", len(caps), arch, nr, args, a, b)
					}
				}
			}
		}
		t.Logf("caps %d: linear %d instructions, tree %d", len(caps), len(lin), len(tree))
	}
}

// TestSeccompTreeUnknownShape: a program without the expected prologue
// is returned as it is.
func TestSeccompTreeUnknownShape(t *testing.T) {
	prog := []unix.SockFilter{{Code: unix.BPF_RET | unix.BPF_K, K: unix.SECCOMP_RET_ALLOW}}
	if got := seccompTree(prog); len(got) != 1 || got[0] != prog[0] {
		t.Fatalf("got %v", got)
	}
}
