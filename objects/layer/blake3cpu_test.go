package layer

import (
	"fmt"
	"os"
	"os/exec"
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
		id     cpuid.FeatureID
		flag   string // /proc/cpuinfo's
		option string // x/sys/cpu's GODEBUG option
	}{{cpuid.AVX2, "avx2", "avx2"}, {cpuid.SSE4, "sse4_1", "sse41"}} {
		// GODEBUG=cpu.avx2=off (x/sys/cpu's option) turns it off, as
		// for Go's own code: the real cpuid package ignored it.
		want := flags[c.flag] && !godebugCPUOff(os.Getenv("GODEBUG"), c.option)
		if got := cpuid.CPU.Has(c.id); got != want {
			t.Errorf("cpuid says %s is %v; /proc/cpuinfo and GODEBUG say %v", c.flag, got, want)
		}
	}
}

// godebugCPUOff reports whether GODEBUG (godebug) turns x/sys/cpu's
// option off, as its processOptions reads it: the last cpu.OPTION= or
// cpu.all= field wins.
func godebugCPUOff(godebug, option string) bool {
	off := false
	for _, f := range strings.Split(godebug, ",") {
		key, value, ok := strings.Cut(strings.TrimPrefix(f, "cpu."), "=")
		if !ok || !strings.HasPrefix(f, "cpu.") || key != option && key != "all" {
			continue
		}
		switch value {
		case "off":
			off = true
		case "on":
			off = false
		}
	}
	return off
}

// blake3PathsEnv names the digest TestBlake3PathsAgree's child prints.
const blake3PathsEnv = "STRATA_TEST_BLAKE3_PATHS"

// blake3Sample is the digests of contents of the sizes around blake3's
// chunk (1 KiB) and its AVX2 batch (8 chunks), as the file index takes
// them, in one line.
func blake3Sample() string {
	var out []string
	h := blake3.New()
	for _, n := range []int{0, 1, 64, 1023, 1024, 1025, 2048, 4097, 8191, 8192, 8193, 16385, 65536, 1<<20 + 7} {
		buf := make([]byte, n)
		for i := range buf {
			buf[i] = byte(i*7 + i>>8)
		}
		h.Reset()
		h.Write(buf)
		out = append(out, blake3Digest(h))
	}
	return strings.Join(out, " ")
}

// The file index's digests are the same whichever code blake3 runs:
// AVX2, SSE4.1 or the generic one (GODEBUG turning features off, as a
// CPU without them has not; BLAKE3_PUREGO). Each runs in a child test
// process, since blake3 picks its code once, at init.
func TestBlake3PathsAgree(t *testing.T) {
	if os.Getenv(blake3PathsEnv) != "" {
		fmt.Printf("%s=%v %v|%s\n", blake3PathsEnv, cpuid.CPU.Has(cpuid.AVX2), cpuid.CPU.Has(cpuid.SSE4), blake3Sample())
		return
	}
	want := blake3Sample()
	for _, c := range []struct{ env, features string }{
		{"GODEBUG=cpu.avx2=off", "false " + fmt.Sprint(cpuid.CPU.Has(cpuid.SSE4))},
		{"GODEBUG=cpu.avx2=off,cpu.sse41=off", "false false"},
		{"GODEBUG=cpu.all=off", "false false"},
		{"BLAKE3_PUREGO=1", fmt.Sprint(cpuid.CPU.Has(cpuid.AVX2), cpuid.CPU.Has(cpuid.SSE4))},
	} {
		env := c.env
		cmd := exec.Command(os.Args[0], "-test.run=^TestBlake3PathsAgree$", "-test.count=1")
		cmd.Env = append(os.Environ(), blake3PathsEnv+"=1", env)
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("%s: %v\n%s", env, err, out)
		}
		_, got, ok := strings.Cut(string(out), blake3PathsEnv+"=")
		got, _, _ = strings.Cut(got, "\n")
		features, got, _ := strings.Cut(got, "|")
		if !ok || features != c.features {
			t.Errorf("%s: cpuid says avx2, sse4.1: %q, want %q", env, features, c.features)
		}
		if got != want {
			t.Errorf("%s: digests %q, want %q", env, got, want)
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
