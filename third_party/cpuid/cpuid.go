// Package cpuid stands in for github.com/klauspost/cpuid/v2 in strata's
// build (a replace directive in strata's go.mod). Its one importer,
// github.com/zeebo/blake3, asks two questions at init: AVX2 and SSE4.1.
// The real package answers them by running its full detection at init,
// dozens of CPUID instructions; in a virtual machine each one exits to the
// hypervisor, and on the machine in docs/benchmarks.md that cost 0.55 ms
// of every strata command. golang.org/x/sys/cpu has already asked the CPU
// (and the OS, for AVX state) when it initialised, so the answers here are
// its answers. One difference: x/sys/cpu honours GODEBUG
// (cpu.avx2=off, cpu.sse41=off, cpu.all=off) as Go's runtime does, so
// blake3 then takes its SSE4.1 or generic code where the real package
// kept AVX2; every code path gives the same digests
// (objects/layer's TestBlake3PathsAgree).
//
// Only the identifiers blake3 uses exist: a build that starts to use more
// of cpuid fails to compile rather than getting wrong answers.
package cpuid

import "golang.org/x/sys/cpu"

// FeatureID names a CPU feature, as in the real package.
type FeatureID int

// The features blake3 asks about.
const (
	AVX2 FeatureID = iota + 1
	SSE4           // SSE4.1
)

// CPUInfo answers which features the CPU and OS support.
type CPUInfo struct{}

// CPU is the running machine, as in the real package.
var CPU CPUInfo

// Has reports whether the CPU and OS support feature id.
func (CPUInfo) Has(id FeatureID) bool {
	switch id {
	case AVX2:
		return cpu.X86.HasAVX2
	case SSE4:
		return cpu.X86.HasSSE41
	}
	return false
}
