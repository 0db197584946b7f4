//go:build !amd64

package exec

// No precompiled program here: every run compiles (see
// seccomp_precompiled_amd64.go).
const (
	precompiledSeccompKey = ""
	precompiledSeccomp    = ""
)
