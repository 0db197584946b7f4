package tree

import (
	"bytes"
	"errors"
	"strings"
	"testing"
)

// TestVerifiedCopyRefusesOtherContent: content that does not have the
// digest the file index gives is refused before a byte is written, in
// memory or through the temporary file of a large file.
func TestVerifiedCopyRefusesOtherContent(t *testing.T) {
	for _, size := range []int{5, MaxPatchSize + 1} {
		content := strings.Repeat("x", size)
		const emptyDigest = "blake3:af1349b9f5f9a1a6a0404dea36dcc9499bcb25c9adc112b7cc9a93cae41f3262"
		var out bytes.Buffer
		err := verifiedCopy(strings.NewReader(content), int64(size), emptyDigest, t.TempDir(), &out)
		if !errors.Is(err, ErrContentMismatch) || out.Len() != 0 {
			t.Fatalf("size %d: %v, %d bytes written; want ErrContentMismatch and nothing", size, err, out.Len())
		}
		err = verifiedCopy(strings.NewReader(""), 0, emptyDigest, t.TempDir(), &out)
		if err != nil || out.Len() != 0 {
			t.Fatalf("empty content: %v", err)
		}
	}
}
