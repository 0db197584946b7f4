package exec

import (
	"context"
	"testing"
)

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
