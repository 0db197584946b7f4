package refs

import (
	"fmt"
	"testing"

	"github.com/opencontainers/go-digest"
)

// BenchmarkResolve10kRefs resolves names and a prefix with 10,000 refs
// present; the target is under 5 ms each. With -short (make
// test runs every benchmark once so), 500 refs.
func BenchmarkResolve10kRefs(b *testing.B) {
	n := 10000
	if testing.Short() {
		n = 500
	}
	s := Open(b.TempDir())
	objs := fakeCommits{}
	var last digest.Digest
	for i := 0; i < n; i++ {
		d := digest.FromString(fmt.Sprint(i))
		objs[d] = last
		last = d
		prefix := Heads
		if i%2 == 1 {
			prefix = Tags
		}
		if err := s.Update(fmt.Sprintf("%sref-%05d", prefix, i), d, "", "bench"); err != nil {
			b.Fatal(err)
		}
	}
	for _, rev := range []string{fmt.Sprintf("ref-%05d", n-2), fmt.Sprintf("ref-%05d~3", n/2+1), "refs/tags/ref-00001"} {
		b.Run(rev, func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				if _, err := s.Resolve(rev, objs); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
