package main

import (
	"bytes"
	"crypto/rand"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

// strataIn runs strata with args in project dir and fails the test on a
// non-zero exit.
func strataIn(t *testing.T, dir string, args ...string) string {
	t.Helper()
	var out, errb bytes.Buffer
	if code := run(append([]string{"-C", dir}, args...), nil, &out, &errb); code != 0 {
		t.Fatalf("strata %v: exit %d: %s", args, code, errb.String())
	}
	return out.String()
}

// diskUsage is du of dir in bytes: the blocks its files occupy.
func diskUsage(t *testing.T, dir string) int64 {
	t.Helper()
	var n int64
	err := filepath.WalkDir(dir, func(p string, e fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		var st syscall.Stat_t
		if err := syscall.Lstat(p, &st); err != nil {
			return err
		}
		n += st.Blocks * 512
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// TestDeletedBranchFreesItsSpace: 100 MB imported on a branch stay after
// the branch is deleted (its reflog keeps them) until
// gc --prune=now --expire=now, which gives them back.
func TestDeletedBranchFreesItsSpace(t *testing.T) {
	const mib = 1 << 20
	tmp := t.TempDir()
	small, big, proj := filepath.Join(tmp, "small"), filepath.Join(tmp, "big"), filepath.Join(tmp, "proj")
	for _, d := range []string{small, big, proj} {
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(small, "hello"), []byte("hello\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, mib)
	for i := 0; i < 100; i++ { // random: no compression can shrink it
		rand.Read(buf)
		if err := os.WriteFile(filepath.Join(big, fmt.Sprintf("f%03d", i)), buf, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	strataIn(t, proj, "init")
	strataIn(t, proj, "import", small, "-m", "small")
	blobs := filepath.Join(proj, ".strata", "blobs")
	before := diskUsage(t, blobs)
	strataIn(t, proj, "import", big, "-b", "big", "-m", "100 MB")
	withBig := diskUsage(t, blobs)
	if withBig-before < 100*mib {
		t.Fatalf("importing 100 MiB grew the store by only %d bytes", withBig-before)
	}
	strataIn(t, proj, "branch", "-D", "big")
	strataIn(t, proj, "gc", "--prune=now")
	if kept := diskUsage(t, blobs); kept < withBig-mib {
		t.Fatalf("gc without --expire freed %d bytes the reflog still reaches", withBig-kept)
	}
	strataIn(t, proj, "gc", "--prune=now", "--expire=now")
	after := diskUsage(t, blobs)
	t.Logf("blobs: %d MiB before, %d MiB with the branch, %d MiB after gc", before/mib, withBig/mib, after/mib)
	if freed := withBig - after; freed < 100*mib {
		t.Fatalf("gc --prune=now --expire=now freed %d MiB, want the 100 MiB of the deleted branch", freed/mib)
	}
	if after > before+mib {
		t.Fatalf("the store is %d bytes larger than before the import", after-before)
	}
	strataIn(t, proj, "fsck")
}
