package benchsmoke

import (
	"encoding/binary"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"unsafe"

	"golang.org/x/sys/unix"
)

// TestBenchesTimeACopy: every bench that runs strata runs the copy
// scripts/bench-strata.sh makes, not the binary it was given (the
// linker's output, whose page cache TestBenchCopyIsInLargeFolios shows
// to be in 4 KiB pages).
func TestBenchesTimeACopy(t *testing.T) {
	scripts, err := filepath.Glob("../../bench/*.sh")
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range scripts {
		b, err := os.ReadFile(s)
		if err != nil {
			t.Fatal(err)
		}
		if fi, err := os.Stat(s); err != nil || fi.Mode()&0o111 == 0 || !runsStrata.Match(b) {
			continue // sourced by the others, or runs no strata
		}
		if !strings.Contains(string(b), "scripts/bench-strata.sh") {
			t.Errorf("%s runs $STRATA itself, not the copy scripts/bench-strata.sh makes", filepath.Base(s))
		}
	}
}

// runsStrata matches a use of $STRATA (not of $STRATA_BENCH_TREE).
var runsStrata = regexp.MustCompile(`\$\{?STRATA([^_A-Za-z0-9]|$)`)

// TestBenchCopyIsInLargeFolios: what scripts/bench-strata.sh's comment
// says. A binary just written by the Go linker has its page cache in
// 4 KiB pages, its copy in large folios, as an installed binary's; the
// pages are those of the running kernel (/proc/kpageflags).
func TestBenchCopyIsInLargeFolios(t *testing.T) {
	top := projectTop(t, "/proc/self/pagemap gives page frames to root only")
	dir := t.TempDir()
	linked := filepath.Join(dir, "linked", "prog")
	build := exec.Command("go", "build", "-o", linked, "./exec/internal/seccompjson")
	build.Dir = top
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	copied := filepath.Join(dir, "copy", "strata")
	if err := os.Mkdir(filepath.Dir(copied), 0o755); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(filepath.Join(top, "scripts", "bench-strata.sh"), copied)
	cmd.Env = append(os.Environ(), "STRATA="+linked)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("scripts/bench-strata.sh: %v\n%s", err, out)
	}
	inLinked, inCopy := largeFolioShare(t, linked), largeFolioShare(t, copied)
	t.Logf("pages in large folios: %.0f%% of the linker's output, %.0f%% of the copy", 100*inLinked, 100*inCopy)
	if inLinked > 0.5 {
		t.Errorf("the linker's output is in large folios already (%.0f%% of its pages): bench-strata.sh's reason for a copy is gone", 100*inLinked)
	}
	if inCopy < 0.9 {
		t.Errorf("only %.0f%% of the copy's pages are in large folios", 100*inCopy)
	}
}

// largeFolioShare maps the file, touches each page and tells what share
// of its page-cache pages belong to a folio of more than one page.
func largeFolioShare(t *testing.T, name string) float64 {
	t.Helper()
	f, err := os.Open(name)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		t.Fatal(err)
	}
	m, err := unix.Mmap(int(f.Fd()), 0, int(fi.Size()), unix.PROT_READ, unix.MAP_SHARED)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Munmap(m)
	pagemap, err := os.Open("/proc/self/pagemap")
	if err != nil {
		t.Fatal(err)
	}
	defer pagemap.Close()
	kflags, err := os.Open("/proc/kpageflags")
	if err != nil {
		t.Fatal(err)
	}
	defer kflags.Close()
	const (
		present      = 1 << 63 // pagemap: the page is mapped
		pfnMask      = 1<<55 - 1
		compoundHead = 1 << 15 // kpageflags: KPF_COMPOUND_HEAD
		compoundTail = 1 << 16 // KPF_COMPOUND_TAIL
		pageSize     = 4096
		entrySize    = 8 // one 64-bit word a page, in both files
	)
	base := uintptr(unsafe.Pointer(&m[0]))
	var pages, large int
	for off := 0; off < len(m); off += pageSize {
		touched += m[off] // fault the page in
		entry := readWord(t, pagemap, int64((base+uintptr(off))/pageSize)*entrySize)
		if entry&present == 0 {
			continue
		}
		flags := readWord(t, kflags, int64(entry&pfnMask)*entrySize)
		pages++
		if flags&(compoundHead|compoundTail) != 0 {
			large++
		}
	}
	if pages == 0 {
		t.Fatalf("%s: no page of its mapping is present", name)
	}
	return float64(large) / float64(pages)
}

// touched keeps the reads of largeFolioShare from being left out.
var touched byte

func readWord(t *testing.T, f *os.File, off int64) uint64 {
	t.Helper()
	var b [8]byte
	if _, err := f.ReadAt(b[:], off); err != nil {
		t.Fatalf("%s at %d: %v", f.Name(), off, err)
	}
	return binary.LittleEndian.Uint64(b[:])
}
