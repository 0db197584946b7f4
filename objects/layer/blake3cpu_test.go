package layer

import (
	"os"
	"strings"
	"testing"

	"github.com/klauspost/cpuid/v2"
	"github.com/zeebo/blake3"
)

// The content index hashes with blake3, which picks its AVX2 or SSE4.1
// code by asking github.com/klauspost/cpuid/v2; strata's go.mod replaces
// that package with third_party/cpuid (see its doc). A wrong answer there
// would not break a digest, only make every checkout and status hash with
// the slow generic code, so it is checked against what the kernel saw.
func TestCPUFeaturesForBlake3(t *testing.T) {
	info, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		t.Fatal(err)
	}
	var flags map[string]bool
	for line := range strings.Lines(string(info)) {
		name, value, ok := strings.Cut(line, ":")
		if ok && strings.TrimSpace(name) == "flags" {
			flags = make(map[string]bool)
			for _, f := range strings.Fields(value) {
				flags[f] = true
			}
			break
		}
	}
	if flags == nil {
		t.Fatal("no flags line in /proc/cpuinfo")
	}
	for _, c := range []struct {
		id   cpuid.FeatureID
		flag string
	}{{cpuid.AVX2, "avx2"}, {cpuid.SSE4, "sse4_1"}} {
		if got := cpuid.CPU.Has(c.id); got != flags[c.flag] {
			t.Errorf("cpuid says %s is %v; /proc/cpuinfo says %v", c.flag, got, flags[c.flag])
		}
	}
}

// BenchmarkBlake3 is the content index's hash on one 1 MiB buffer: with
// AVX2 several GB/s, with the generic code a fraction of that.
func BenchmarkBlake3(b *testing.B) {
	buf := make([]byte, 1<<20)
	b.SetBytes(int64(len(buf)))
	for b.Loop() {
		h := blake3.New()
		h.Write(buf)
		h.Sum(nil)
	}
}
