package kmount

import (
	"errors"
	"strconv"
	"strings"
	"testing"
	"unsafe"

	"github.com/strata-sh/strata/internal/mountopt"
	"golang.org/x/sys/unix"
)

// kernelAtLeast reports whether the running kernel is major.minor or newer.
func kernelAtLeast(t *testing.T, major, minor int) bool {
	var u unix.Utsname
	if err := unix.Uname(&u); err != nil {
		t.Fatal(err)
	}
	rel := unix.ByteSliceToString(u.Release[:])
	f := strings.FieldsFunc(rel, func(r rune) bool { return r < '0' || r > '9' })
	if len(f) < 2 {
		t.Fatalf("kernel release %q", rel)
	}
	ma, _ := strconv.Atoi(f[0])
	mi, _ := strconv.Atoi(f[1])
	return ma > major || ma == major && mi >= minor
}

// TestStatmountAnswersHere: on a kernel with statmount's options (6.11)
// the fast path is taken, so the tests below compare it with the table
// and not the table with itself; on an older one it steps aside.
func TestStatmountAnswersHere(t *testing.T) {
	m, err := Of("/")
	if !kernelAtLeast(t, 6, 11) {
		if !errors.Is(err, ErrCannot) {
			t.Fatalf("Of(/) on an older kernel: %+v, %v; want ErrCannot", m, err)
		}
		return
	}
	if err != nil || m.Point != "/" || m.FSType == "" {
		t.Fatalf("Of(/) = %+v, %v", m, err)
	}
}

// TestParseStatmountRefuses: answers the fast path cannot trust send the
// caller to the table: an overlay without options (a kernel before
// 6.11), a short answer, a mask without the basics.
func TestParseStatmountRefuses(t *testing.T) {
	answer := func(mask uint64, size uint32, strs string, fsType, point, opts uint32) []byte {
		b := make([]uint64, (statmountSize+len(strs))/8+1)
		raw := unsafe.Slice((*byte)(unsafe.Pointer(&b[0])), len(b)*8)
		h := (*statmountHead)(unsafe.Pointer(&b[0]))
		h.size, h.mask, h.fsType, h.mntPoint, h.mntOpts = size, mask, fsType, point, opts
		copy(raw[statmountSize:], strs)
		return raw
	}
	basics := uint64(statmountMntBasic | statmountMntPoint | statmountFSType)
	strs := "\x00overlay\x00/t\x00upperdir=/u\x00tmpfs\x00"
	full := uint32(statmountSize + len(strs))
	if m, err := parse(answer(basics|statmountMntOpts, full, strs, 1, 9, 12), true); err != nil ||
		m.FSType != "overlay" || m.Point != "/t" || mountopt.Get(m.Options, "upperdir") != "/u" {
		t.Fatalf("a whole answer: %+v, %v", m, err)
	}
	for name, b := range map[string][]byte{
		"overlay without options": answer(basics, full, strs, 1, 9, 0),
		"short":                   answer(basics|statmountMntOpts, statmountSize-8, strs, 1, 9, 12),
		"longer than the buffer":  answer(basics|statmountMntOpts, 1<<20, strs, 1, 9, 12),
		"no mount point":          answer(statmountFSType|statmountMntOpts, full, strs, 1, 9, 12),
	} {
		if m, err := parse(b, true); !errors.Is(err, ErrCannot) {
			t.Errorf("%s: %+v, %v; want ErrCannot", name, m, err)
		}
	}
	// Below asks for no options: an overlay's point is enough.
	if m, err := parse(answer(basics, full, strs, 1, 9, 0), false); err != nil || m.FSType != "overlay" || m.Point != "/t" {
		t.Errorf("an overlay's answer without options, none asked: %+v, %v", m, err)
	}
	// An offset past the strings reads as empty, not out of bounds.
	if m, err := parse(answer(basics, full, strs, 24, 1<<30, 0), true); err != nil || m.FSType != "tmpfs" || m.Point != "" {
		t.Errorf("an offset past the end: %+v", m)
	}
}
