package memlimit

import (
	"runtime/debug"
	"testing"
)

func TestApply(t *testing.T) {
	old := debug.SetMemoryLimit(-1)
	t.Cleanup(func() { debug.SetMemoryLimit(old) })

	t.Setenv("GOMEMLIMIT", "")
	Apply()
	if got := debug.SetMemoryLimit(-1); got != Default {
		t.Fatalf("limit %d, want %d", got, Default)
	}
	debug.SetMemoryLimit(1 << 40)
	t.Setenv("GOMEMLIMIT", "1GiB")
	Apply()
	if got := debug.SetMemoryLimit(-1); got != 1<<40 {
		t.Fatalf("GOMEMLIMIT set, but Apply changed the limit to %d", got)
	}
}
