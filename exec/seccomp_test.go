package exec

import (
	"encoding/binary"
	"testing"

	"golang.org/x/net/bpf"
	"golang.org/x/sys/unix"
)

// evalSeccomp runs prog on a seccomp_data for syscall nr on x86_64 and
// returns the action. x/net/bpf loads words big-endian, so each 32-bit
// word is stored big-endian at the offset the (little-endian) kernel layout
// gives it.
func evalSeccomp(t *testing.T, prog []unix.SockFilter, nr int, args ...uint64) uint32 {
	t.Helper()
	raw := make([]bpf.RawInstruction, len(prog))
	for i, f := range prog {
		raw[i] = bpf.RawInstruction{Op: f.Code, Jt: f.Jt, Jf: f.Jf, K: f.K}
	}
	insts, ok := bpf.Disassemble(raw)
	if !ok {
		t.Fatal("disassemble")
	}
	// ret k: x/net/bpf's VM returns the k as a packet length; keep it.
	vm, err := bpf.NewVM(insts)
	if err != nil {
		t.Fatal(err)
	}
	data := make([]byte, 64)
	binary.BigEndian.PutUint32(data[0:], uint32(nr))
	binary.BigEndian.PutUint32(data[4:], 0xc000003e) // AUDIT_ARCH_X86_64
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

func TestSeccompProgram(t *testing.T) {
	caps, _ := capSet(false, nil, nil)
	prog, err := seccompProgram(caps)
	if err != nil {
		t.Fatal(err)
	}
	const allow = unix.SECCOMP_RET_ALLOW
	errno := func(e unix.Errno) uint32 { return unix.SECCOMP_RET_ERRNO | uint32(e) }
	cases := []struct {
		name string
		nr   int
		args []uint64
		want uint32
	}{
		{"read", unix.SYS_READ, nil, allow},
		{"clone3 is ENOSYS", unix.SYS_CLONE3, nil, errno(unix.ENOSYS)},
		{"clone thread", unix.SYS_CLONE, []uint64{unix.CLONE_VM | unix.CLONE_THREAD}, allow},
		{"clone newns", unix.SYS_CLONE, []uint64{unix.CLONE_NEWNS}, errno(unix.EPERM)},
		{"unshare", unix.SYS_UNSHARE, []uint64{unix.CLONE_NEWUSER}, errno(unix.EPERM)},
		{"mount", unix.SYS_MOUNT, nil, errno(unix.EPERM)},
		{"keyctl", unix.SYS_KEYCTL, nil, errno(unix.EPERM)},
		{"reboot", unix.SYS_REBOOT, nil, errno(unix.EPERM)},
		{"finit_module", unix.SYS_FINIT_MODULE, nil, errno(unix.EPERM)},
		{"socket inet", unix.SYS_SOCKET, []uint64{unix.AF_INET}, allow},
		{"socket netlink", unix.SYS_SOCKET, []uint64{unix.AF_NETLINK}, allow},
		{"socket vsock", unix.SYS_SOCKET, []uint64{unix.AF_VSOCK}, errno(unix.EPERM)},
		{"personality linux", unix.SYS_PERSONALITY, []uint64{0}, allow},
		{"personality other", unix.SYS_PERSONALITY, []uint64{0x1234}, errno(unix.EPERM)},
		// Not in the profile, older than its newest syscall: the default.
		{"io_uring_setup", unix.SYS_IO_URING_SETUP, nil, errno(unix.EPERM)},
		// Newer than every syscall the profile names: ENOSYS, as runc's.
		{"file_getattr", unix.SYS_FILE_GETATTR, nil, errno(unix.ENOSYS)},
		{"number 1000", 1000, nil, errno(unix.ENOSYS)},
		{"x32 read", 0x40000000 | unix.SYS_READ, nil, errno(unix.ENOSYS)},
	}
	for _, c := range cases {
		if got := evalSeccomp(t, prog, c.nr, c.args...); got != c.want {
			t.Errorf("%s: action %#x, want %#x", c.name, got, c.want)
		}
	}
}
