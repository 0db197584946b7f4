package refs

import (
	"fmt"
	"testing"

	"github.com/opencontainers/go-digest"
)

// BenchmarkResolve10kRefs resolves names and a prefix with 10,000 refs
// present; the target is under 5 ms each.
func BenchmarkResolve10kRefs(b *testing.B) {
	s := Open(b.TempDir())
	objs := fakeCommits{}
	var last digest.Digest
	for i := 0; i < 10000; i++ {
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
	for _, rev := range []string{"ref-09998", "ref-05001~3", "refs/tags/ref-00001"} {
		b.Run(rev, func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				if _, err := s.Resolve(rev, objs); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
