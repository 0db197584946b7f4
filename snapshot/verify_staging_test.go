package snapshot

import (
	"context"
	"os"
	"path/filepath"
	"testing"
)

// TestVerifySkipsStagingDirs: what a build killed at once leaves (an
// empty new.tmp-* directory, a half-filled .tmp-* one) is not a snapshot,
// and fsck must not report it as an unreadable one.
func TestVerifySkipsStagingDirs(t *testing.T) {
	s := &Snapshots{dir: t.TempDir()}
	for _, d := range []string{"new" + tmpPrefix + "1", tmpPrefix + "2/fs/usr"} {
		if err := os.MkdirAll(filepath.Join(s.dir, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	checked, diffs, err := s.Verify(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if checked != 0 || len(diffs) != 0 {
		t.Errorf("staging directories verified as snapshots: %d checked, %v", checked, diffs)
	}
}
