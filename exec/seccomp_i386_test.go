//go:build amd64

package exec

import (
	"bytes"
	"debug/elf"
	"encoding/binary"
	"errors"
	"os"
	osexec "os/exec"
	"path/filepath"
	"testing"
)

// i386Probe is a static x86-64 program that makes one i386 system call
// through int 0x80 (number nr, first argument arg) and exits with its
// errno, or 0 where the call succeeded. A 64-bit process may use the
// i386 table that way, with AUDIT_ARCH_I386 in the filter's view.
func i386Probe(nr, arg uint32) []byte {
	le := binary.LittleEndian
	code := []byte{0xb8} // mov eax, nr
	code = le.AppendUint32(code, nr)
	code = append(code, 0xbb) // mov ebx, arg
	code = le.AppendUint32(code, arg)
	code = append(code,
		0x31, 0xc9, // xor ecx, ecx
		0x31, 0xd2, // xor edx, edx
		0xcd, 0x80, // int 0x80
		0x89, 0xc7, // mov edi, eax
		0xf7, 0xdf, // neg edi
		0x81, 0xff, 0xff, 0x0f, 0x00, 0x00, // cmp edi, 4095
		0x76, 0x02, // jbe exit: -eax is an errno (or 0)
		0x31, 0xff, // xor edi, edi: eax was a result
		0xb8, 0x3c, 0x00, 0x00, 0x00, // exit: mov eax, 60 (x86-64 exit)
		0x0f, 0x05, // syscall
	)
	return tinyELF(code)
}

// tinyELF wraps code in a static ELF executable of one loadable segment.
func tinyELF(code []byte) []byte {
	const base = 0x400000
	const headers = 64 + 56 // ELF header, one program header
	var b bytes.Buffer
	h := elf.Header64{
		Ident:     [elf.EI_NIDENT]byte{0x7f, 'E', 'L', 'F', byte(elf.ELFCLASS64), byte(elf.ELFDATA2LSB), byte(elf.EV_CURRENT)},
		Type:      uint16(elf.ET_EXEC),
		Machine:   uint16(elf.EM_X86_64),
		Version:   uint32(elf.EV_CURRENT),
		Entry:     base + headers,
		Phoff:     64,
		Ehsize:    64,
		Phentsize: 56,
		Phnum:     1,
	}
	size := uint64(headers + len(code))
	p := elf.Prog64{Type: uint32(elf.PT_LOAD), Flags: uint32(elf.PF_R | elf.PF_X),
		Vaddr: base, Paddr: base, Filesz: size, Memsz: size, Align: 0x1000}
	binary.Write(&b, binary.LittleEndian, h)
	binary.Write(&b, binary.LittleEndian, p)
	b.Write(code)
	return b.Bytes()
}

// TestSeccompRefusesI386Syscalls: the filter is written for x86-64's
// numbers, and a container's program can still reach the i386 table
// through int 0x80, where the numbers mean other calls (20 is getpid
// there, writev here; 310 is unshare there). Every i386 call gets the
// default action, EPERM, whether x86-64's rules would allow it or not;
// on the host, outside any filter, the same programs succeed.
func TestSeccompRefusesI386Syscalls(t *testing.T) {
	root := busybox(t)
	probes := []struct {
		name     string
		nr, arg  uint32
		hostCode int
	}{
		{"i386-getpid", 20, 0, 0},
		{"i386-unshare-user", 310, 0x10000000, 0}, // CLONE_NEWUSER
	}
	for _, p := range probes {
		path := filepath.Join(root, p.name)
		if err := os.WriteFile(path, i386Probe(p.nr, p.arg), 0o755); err != nil {
			t.Fatal(err)
		}
		code, err := 0, osexec.Command(path).Run()
		var ee *osexec.ExitError
		if errors.As(err, &ee) {
			code = ee.ExitCode()
		} else if err != nil {
			t.Fatalf("%s on the host: %v", p.name, err)
		}
		if code != p.hostCode {
			t.Fatalf("%s on the host exits %d, want %d (the probe works outside the filter)", p.name, code, p.hostCode)
		}
		if r := run(t, root, nil, "/"+p.name); r.code != 1 {
			t.Errorf("%s in a container exits %d (%v), want 1: EPERM from the filter", p.name, r.code, r.err)
		}
	}
}
