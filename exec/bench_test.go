package exec

import (
	"context"
	"testing"
)

// BenchmarkRunTrueLimits is BenchmarkRunTrue with a memory and pids limit:
// a cgroup and the watchdog on every run.
func BenchmarkRunTrueLimits(b *testing.B) {
	root := busybox(b)
	ctx := context.Background()
	for b.Loop() {
		code, err := Run(ctx, Spec{Root: root, Args: []string{"/bin/true"}, Resources: Resources{MemoryBytes: 256 << 20, PidsLimit: 100}})
		if err != nil || code != 0 {
			b.Fatalf("code %d err %v", code, err)
		}
	}
}

// BenchmarkRunTrue measures a whole container life: start to exit of
// /bin/true on the busybox root.
func BenchmarkRunTrue(b *testing.B) {
	root := busybox(b)
	ctx := context.Background()
	for b.Loop() {
		code, err := Run(ctx, Spec{Root: root, Args: []string{"/bin/true"}})
		if err != nil || code != 0 {
			b.Fatalf("code %d, err %v", code, err)
		}
	}
}
