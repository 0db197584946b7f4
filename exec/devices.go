package exec

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/asm"
	"github.com/cilium/ebpf/link"
	"golang.org/x/sys/unix"
)

// The device rules every unprivileged container gets: runc's default
// (libcontainer/specconv AllowedDevices) without /dev/net/tun, plus
// /dev/console as Docker allows it. mknod of any node is allowed, as in
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
	{'c', 5, 0, "rwm"}, {'c', 5, 1, "rwm"}, {'c', 5, 2, "rwm"}, // tty console ptmx
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
func writeV1Devices(dir string) error {
	if err := os.WriteFile(filepath.Join(dir, "devices.deny"), []byte("a"), 0); err != nil {
		return fmt.Errorf("devices.deny: %w", err)
	}
	for _, r := range allowedDevices {
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

// deviceProgram assembles the rules as a cgroup v2 device program (the
// shape of runc's devicefilter): load type, access, major and minor into
// R2..R5, then per rule a block that jumps to the next rule on a mismatch
// and returns 1 (allow) otherwise; 0 (deny) at the end.
func deviceProgram(rules []devRule) asm.Instructions {
	insns := asm.Instructions{
		asm.LoadMem(asm.R2, asm.R1, 0, asm.Word),
		asm.And.Imm32(asm.R2, 0xffff),
		asm.LoadMem(asm.R3, asm.R1, 0, asm.Word),
		asm.RSh.Imm32(asm.R3, 16),
		asm.LoadMem(asm.R4, asm.R1, 4, asm.Word),
		asm.LoadMem(asm.R5, asm.R1, 8, asm.Word),
	}
	for i, r := range rules {
		next := "rule" + strconv.Itoa(i+1)
		typ := int32(bpfDevChar)
		if r.typ == 'b' {
			typ = bpfDevBlock
		}
		var acc int32
		for _, c := range r.access {
			acc |= map[rune]int32{'m': bpfAccMknod, 'r': bpfAccRead, 'w': bpfAccWrite}[c]
		}
		block := asm.Instructions{asm.JNE.Imm(asm.R2, typ, next)}
		if acc != bpfAccMknod|bpfAccRead|bpfAccWrite {
			// Every requested access bit must be in the rule's set.
			block = append(block,
				asm.Mov.Reg32(asm.R1, asm.R3),
				asm.And.Imm32(asm.R1, acc),
				asm.JNE.Reg(asm.R1, asm.R3, next))
		}
		if r.major >= 0 {
			block = append(block, asm.JNE.Imm(asm.R4, int32(r.major), next))
		}
		if r.minor >= 0 {
			block = append(block, asm.JNE.Imm(asm.R5, int32(r.minor), next))
		}
		block = append(block, asm.Mov.Imm32(asm.R0, 1), asm.Return())
		if i > 0 {
			block[0] = block[0].WithSymbol("rule" + strconv.Itoa(i))
		}
		insns = append(insns, block...)
	}
	return append(insns,
		asm.Mov.Imm32(asm.R0, 0).WithSymbol("rule"+strconv.Itoa(len(rules))),
		asm.Return())
}

// attachDeviceProgram loads the device program and attaches it to the v2
// cgroup dir. A BPF_PROG_ATTACH attachment (not a bpf link) lives as long
// as the cgroup, so nothing needs to stay open.
func attachDeviceProgram(dir string) error {
	prog, err := ebpf.NewProgram(&ebpf.ProgramSpec{
		Type:         ebpf.CGroupDevice,
		License:      "Apache-2.0",
		Instructions: deviceProgram(allowedDevices),
	})
	if err != nil {
		return fmt.Errorf("load device program: %w", err)
	}
	defer prog.Close()
	fd, err := unix.Open(dir, unix.O_DIRECTORY|unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("device program: %w", err)
	}
	defer unix.Close(fd)
	err = link.RawAttachProgram(link.RawAttachProgramOptions{
		Target: fd, Program: prog, Attach: ebpf.AttachCGroupDevice, Flags: unix.BPF_F_ALLOW_MULTI,
	})
	if err != nil {
		return fmt.Errorf("attach device program to %s: %w", dir, err)
	}
	return nil
}
