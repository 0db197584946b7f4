//go:build amd64

package exec

import (
	"os"
	"testing"

	"github.com/elastic/go-seccomp-bpf/arch"
	"golang.org/x/sys/unix"
)

// TestSeccompCompileMatchesGoBPF: strata's compiler makes the decisions
// github.com/elastic/go-seccomp-bpf 1.6.0 made of Docker's profile (its
// programs, as strata assembled them, are in testdata), for several
// capability sets, on every syscall number up to 1100, every constant
// either program compares with and its neighbours, far-out numbers, the
// native and a foreign arch, and argument sets that take each conditional
// branch both ways; with and without the search tree. The only numbers
// left out are those of syscalls the library's table did not know (it
// skipped them; the profile allows them). Above the profile's newest
// syscall strata returns ENOSYS where the library returned the default
// (EPERM), as runc does.
func TestSeccompCompileMatchesGoBPF(t *testing.T) {
	info, err := arch.GetInfo("")
	if err != nil {
		t.Fatal(err)
	}
	sets := map[string][]string{"default": nil, "sys_admin": {"SYS_ADMIN"}, "all": {"ALL"}, "ptrace_module_syslog": {"SYS_PTRACE", "SYS_MODULE", "SYSLOG"}}
	for name, add := range sets {
		caps, err := capSet(false, add, nil)
		if err != nil {
			t.Fatal(err)
		}
		b, err := os.ReadFile("testdata/seccomp-gobpf-" + name + ".bin")
		if err != nil {
			t.Fatal(err)
		}
		golden := seccompFromBytes(b)
		lin, err := seccompLinear(caps)
		if err != nil {
			t.Fatal(err)
		}
		prof, err := defaultProfile(caps)
		if err != nil {
			t.Fatal(err)
		}
		skip := map[uint32]bool{}
		var newest uint32
		for _, sc := range prof.Syscalls {
			for _, n := range sc.Names {
				nr, ours := sysNum(n)
				if ours {
					newest = max(newest, nr)
				}
				if _, theirs := info.SyscallNames[n]; ours && !theirs {
					skip[nr] = true
				}
				if theirs := info.SyscallNames[n]; ours && theirs != 0 && uint32(theirs) != nr {
					t.Errorf("%s: number %d here, %d in go-seccomp-bpf's table", n, nr, theirs)
				}
			}
		}
		for _, prog := range [][]unix.SockFilter{lin, seccompTree(lin)} {
			sameSeccompDecisions(t, name, golden, prog, skip, newest)
		}
		t.Logf("%s: go-seccomp-bpf %d instructions, linear %d, tree %d; %d newer syscalls allowed", name, len(golden), len(lin), len(seccompTree(lin)), len(skip))
	}
}

// sameSeccompDecisions fails unless a and b return the same action for
// every case (see TestSeccompTreeSameDecisions), numbers in skip aside,
// except that b returns ENOSYS for native numbers above newest.
func sameSeccompDecisions(t *testing.T, what string, a, b []unix.SockFilter, skip map[uint32]bool, newest uint32) {
	t.Helper()
	nrs := map[uint32]bool{}
	for nr := uint32(0); nr < 1100; nr++ {
		nrs[nr] = true
	}
	for _, prog := range [][]unix.SockFilter{a, b} {
		for _, f := range prog {
			nrs[f.K], nrs[f.K-1], nrs[f.K+1] = true, true, true
		}
	}
	for _, nr := range []uint32{0x3fffffff, 0x40000000, 0x40000001, 0x40000101, 0x7fffffff, 0xffffffff} {
		nrs[nr] = true
	}
	va, vb := newSeccompVM(t, a), newSeccompVM(t, b)
	bad := 0
	for _, archID := range []uint32{unix.AUDIT_ARCH_X86_64, unix.AUDIT_ARCH_I386} {
		for nr := range nrs {
			if skip[nr] && archID == unix.AUDIT_ARCH_X86_64 {
				continue
			}
			for _, args := range seccompArgSets {
				x, y := runSeccomp(t, va, archID, nr, args), runSeccomp(t, vb, archID, nr, args)
				if archID == unix.AUDIT_ARCH_X86_64 && nr > newest {
					x = unix.SECCOMP_RET_ERRNO | uint32(unix.ENOSYS)
				}
				if x != y && bad < 10 {
					bad++
					t.Errorf("%s: arch %#x, nr %d, args %#x: %#x, want %#x", what, archID, nr, args, y, x)
				}
			}
		}
	}
}
