package exec

import (
	"bytes"
	"encoding/binary"
	"strconv"
	"testing"

	"github.com/cilium/ebpf/asm"
)

// ciliumDeviceProgram is the device program written with cilium/ebpf's
// assembler, the reference for strata's own encoder.
func ciliumDeviceProgram(rules []devRule) asm.Instructions {
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
		if acc != 7 {
			block = append(block, asm.Mov.Reg32(asm.R1, asm.R3), asm.And.Imm32(asm.R1, acc), asm.JNE.Reg(asm.R1, asm.R3, next))
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
	return append(insns, asm.Mov.Imm32(asm.R0, 0).WithSymbol("rule"+strconv.Itoa(len(rules))), asm.Return())
}

// TestDeviceProgramEncoding: strata's encoder emits exactly the bytes
// cilium/ebpf assembles for the same program.
func TestDeviceProgramEncoding(t *testing.T) {
	var want bytes.Buffer
	var order binary.ByteOrder = binary.LittleEndian
	if !littleEndian() {
		order = binary.BigEndian
	}
	if err := ciliumDeviceProgram(allowedDevices).Marshal(&want, order); err != nil {
		t.Fatal(err)
	}
	got := encode(deviceProgram(allowedDevices))
	if !bytes.Equal(got, want.Bytes()) {
		t.Fatalf("encoding differs from cilium/ebpf's:\n got %x\nwant %x\n%v", got, want.Bytes(), ciliumDeviceProgram(allowedDevices))
	}
}
