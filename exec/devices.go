package exec

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"unsafe"

	"golang.org/x/sys/unix"
)

// The device rules every unprivileged container gets: runc's default
// (libcontainer/specconv AllowedDevices) without /dev/net/tun. Not
// /dev/console (c 5:1), which Docker's rules allow: a node for it opens
// the system console, the host's, not the container's (whose console
// with a terminal is its pty, 136:N). mknod of any node is allowed, as in
// runc: a node the container makes can be listed and copied, but opening
// it is refused unless a rule below allows read or write.
type devRule struct {
	typ          byte  // 'c' or 'b'
	major, minor int64 // -1 is the wildcard
	access       string
}

var allowedDevices = []devRule{
	{'c', -1, -1, "m"}, {'b', -1, -1, "m"},
	{'c', 1, 3, "rwm"}, {'c', 1, 5, "rwm"}, {'c', 1, 7, "rwm"}, // null zero full
	{'c', 1, 8, "rwm"}, {'c', 1, 9, "rwm"}, // random urandom
	{'c', 5, 0, "rwm"}, {'c', 5, 2, "rwm"}, // tty ptmx
	{'c', 136, -1, "rwm"}, // /dev/pts/*
}

func (r devRule) String() string {
	num := func(n int64) string {
		if n < 0 {
			return "*"
		}
		return strconv.FormatInt(n, 10)
	}
	return fmt.Sprintf("%c %s:%s %s", r.typ, num(r.major), num(r.minor), r.access)
}

// writeV1Devices denies every device, then allows the rules, in a v1
// devices cgroup. A new cgroup inherits its parent's list, so "a" goes
// first.
func writeV1Devices(dir string, rules []devRule) error {
	if err := os.WriteFile(filepath.Join(dir, "devices.deny"), []byte("a"), 0); err != nil {
		return fmt.Errorf("devices.deny: %w", err)
	}
	for _, r := range rules {
		// One rule per write: the kernel parses one.
		if err := os.WriteFile(filepath.Join(dir, "devices.allow"), []byte(r.String()), 0); err != nil {
			return fmt.Errorf("devices.allow %s: %w", r, err)
		}
	}
	return nil
}

// The BPF_PROG_TYPE_CGROUP_DEVICE context (struct bpf_cgroup_dev_ctx):
// access_type (type in the low 16 bits, access above), major, minor.
const (
	bpfDevBlock = 1 // BPF_DEVCG_DEV_BLOCK
	bpfDevChar  = 2 // BPF_DEVCG_DEV_CHAR
	bpfAccMknod = 1 // BPF_DEVCG_ACC_MKNOD
	bpfAccRead  = 2
	bpfAccWrite = 4
)

// bpfInsn is one eBPF instruction as the kernel reads it.
type bpfInsn struct {
	op       uint8
	dst, src uint8
	off      int16
	imm      int32
}

// The few eBPF opcodes the device program uses.
const (
	opLdxW    = 0x61 // dst = *(u32 *)(src + off)
	opAnd32K  = 0x54 // dst &= imm
	opRsh32K  = 0x74 // dst >>= imm
	opMov32K  = 0xb4 // dst = imm
	opMov32X  = 0xbc // dst = src
	opJneK    = 0x55 // if dst != imm goto +off
	opJneX    = 0x5d // if dst != src goto +off
	opExit    = 0x95
	bpfInsnSz = 8
)

// deviceProgram assembles the rules as a cgroup v2 device program (the
// shape of runc's devicefilter): load type, access, major and minor into
// R2..R5, then per rule a block that jumps past itself on a mismatch and
// returns 1 (allow) otherwise; 0 (deny) at the end. The encoding is
// checked against cilium/ebpf's assembler in the tests; the runtime does
// not link that library (it would grow the container init binary by a
// sixth, for a program of fifty instructions).
func deviceProgram(rules []devRule) []bpfInsn {
	prog := []bpfInsn{
		{op: opLdxW, dst: 2, src: 1, off: 0},
		{op: opAnd32K, dst: 2, imm: 0xffff},
		{op: opLdxW, dst: 3, src: 1, off: 0},
		{op: opRsh32K, dst: 3, imm: 16},
		{op: opLdxW, dst: 4, src: 1, off: 4},
		{op: opLdxW, dst: 5, src: 1, off: 8},
	}
	for _, r := range rules {
		typ := int32(bpfDevChar)
		if r.typ == 'b' {
			typ = bpfDevBlock
		}
		var acc int32
		for _, c := range r.access {
			acc |= map[rune]int32{'m': bpfAccMknod, 'r': bpfAccRead, 'w': bpfAccWrite}[c]
		}
		// Jumps get their offsets once the block's length is known.
		block := []bpfInsn{{op: opJneK, dst: 2, imm: typ}}
		if acc != bpfAccMknod|bpfAccRead|bpfAccWrite {
			// Every requested access bit must be in the rule's set.
			block = append(block,
				bpfInsn{op: opMov32X, dst: 1, src: 3},
				bpfInsn{op: opAnd32K, dst: 1, imm: acc},
				bpfInsn{op: opJneX, dst: 1, src: 3})
		}
		if r.major >= 0 {
			block = append(block, bpfInsn{op: opJneK, dst: 4, imm: int32(r.major)})
		}
		if r.minor >= 0 {
			block = append(block, bpfInsn{op: opJneK, dst: 5, imm: int32(r.minor)})
		}
		block = append(block, bpfInsn{op: opMov32K, dst: 0, imm: 1}, bpfInsn{op: opExit})
		for i := range block {
			if block[i].op == opJneK || block[i].op == opJneX {
				block[i].off = int16(len(block) - i - 1) // to the next rule
			}
		}
		prog = append(prog, block...)
	}
	return append(prog, bpfInsn{op: opMov32K, dst: 0, imm: 0}, bpfInsn{op: opExit})
}

// encode lays the program out in the kernel's format (struct bpf_insn).
func encode(prog []bpfInsn) []byte {
	var order binary.AppendByteOrder = binary.LittleEndian
	if !littleEndian() {
		order = binary.BigEndian
	}
	b := make([]byte, 0, len(prog)*bpfInsnSz)
	for _, in := range prog {
		regs := in.dst&0xf | in.src<<4
		if !littleEndian() {
			regs = in.dst<<4 | in.src&0xf
		}
		b = append(b, in.op, regs)
		b = order.AppendUint16(b, uint16(in.off))
		b = order.AppendUint32(b, uint32(in.imm))
	}
	return b
}

// attachDeviceProgram loads the device program and attaches it to the v2
// cgroup dir. A BPF_PROG_ATTACH attachment (not a bpf link) lives as long
// as the cgroup, so nothing needs to stay open. The two bpf(2) calls are
// made directly: cilium/ebpf's loader probes kernel features first and
// would link several MB into the container init binary.
func attachDeviceProgram(dir string, rules []devRule) error {
	code := encode(deviceProgram(rules))
	prog, err := bpfProgLoad(code, nil)
	if err != nil {
		// Once more with the verifier's log, for the error message.
		logBuf := make([]byte, 1<<16)
		bpfProgLoad(code, logBuf)
		lines := strings.Split(strings.TrimSpace(string(bytes.TrimRight(logBuf, "\x00"))), "\n")
		return fmt.Errorf("load device program: %w (verifier: %s)", err, lines[len(lines)-1])
	}
	defer unix.Close(prog)
	fd, err := unix.Open(dir, unix.O_DIRECTORY|unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("device program: %w", err)
	}
	defer unix.Close(fd)
	attr := bpfAttachAttr{targetFd: uint32(fd), attachBpfFd: uint32(prog), attachType: unix.BPF_CGROUP_DEVICE, attachFlags: unix.BPF_F_ALLOW_MULTI}
	if _, err := bpfSyscall(unix.BPF_PROG_ATTACH, unsafe.Pointer(&attr), unsafe.Sizeof(attr)); err != nil {
		return fmt.Errorf("attach device program to %s: %w", dir, err)
	}
	return nil
}

// The leading fields of union bpf_attr for BPF_PROG_LOAD and
// BPF_PROG_ATTACH (the kernel takes a shorter attr than its own).
type bpfProgLoadAttr struct {
	progType, insnCnt  uint32
	insns, license     uint64
	logLevel, logSize  uint32
	logBuf             uint64
	kernVersion, flags uint32
}

type bpfAttachAttr struct {
	targetFd, attachBpfFd, attachType, attachFlags uint32
}

func bpfProgLoad(code, logBuf []byte) (int, error) {
	license := []byte("Apache-2.0\x00")
	attr := bpfProgLoadAttr{
		progType: unix.BPF_PROG_TYPE_CGROUP_DEVICE,
		insnCnt:  uint32(len(code) / bpfInsnSz),
		insns:    uint64(uintptr(unsafe.Pointer(&code[0]))),
		license:  uint64(uintptr(unsafe.Pointer(&license[0]))),
	}
	if len(logBuf) > 0 {
		attr.logLevel, attr.logSize, attr.logBuf = 1, uint32(len(logBuf)), uint64(uintptr(unsafe.Pointer(&logBuf[0])))
	}
	fd, err := bpfSyscall(unix.BPF_PROG_LOAD, unsafe.Pointer(&attr), unsafe.Sizeof(attr))
	runtime.KeepAlive(code)
	runtime.KeepAlive(license)
	runtime.KeepAlive(logBuf)
	return fd, err
}

func bpfSyscall(cmd int, attr unsafe.Pointer, size uintptr) (int, error) {
	for {
		r, _, e := unix.Syscall(unix.SYS_BPF, uintptr(cmd), uintptr(attr), size)
		if e == unix.EAGAIN || e == unix.EINTR {
			continue
		}
		if e != 0 {
			return -1, e
		}
		if cmd == unix.BPF_PROG_LOAD {
			unix.CloseOnExec(int(r))
		}
		return int(r), nil
	}
}

func littleEndian() bool {
	x := uint16(1)
	return *(*byte)(unsafe.Pointer(&x)) == 1
}
