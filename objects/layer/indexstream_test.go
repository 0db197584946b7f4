package layer

import (
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"testing"

	"golang.org/x/sys/unix"
)

// TestStreamedIndexMatches: the index WriteTar streams to opts.Index is
// byte for byte the one EncodeIndex makes of the entries it returns
// otherwise, whiteouts, opaque directories and hardlinks included.
func TestStreamedIndexMatches(t *testing.T) {
	dir := t.TempDir()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(os.MkdirAll(filepath.Join(dir, "etc/opq"), 0o755))
	must(os.WriteFile(filepath.Join(dir, "etc/passwd"), []byte("root:x:0:0::/root:/bin/sh\n"), 0o644))
	must(os.WriteFile(filepath.Join(dir, "etc/opq/kept"), []byte("kept\n"), 0o600))
	must(os.Link(filepath.Join(dir, "etc/passwd"), filepath.Join(dir, "etc/passwd.link")))
	must(os.Symlink("passwd", filepath.Join(dir, "etc/alias")))
	must(unix.Mknod(filepath.Join(dir, "etc/gone"), unix.S_IFCHR, 0))
	must(unix.Setxattr(filepath.Join(dir, "etc/opq"), "trusted.overlay.opaque", []byte("y"), 0))
	opts := WriteOptions{Overlay: true}

	entries, err := WriteTar(context.Background(), dir, io.Discard, opts)
	must(err)
	var want bytes.Buffer
	must(EncodeIndex(&want, entries))

	var got bytes.Buffer
	opts.Index = &got
	streamed, err := WriteTar(context.Background(), dir, io.Discard, opts)
	must(err)
	if streamed != nil {
		t.Fatalf("WriteTar with Index returned %d entries, want none", len(streamed))
	}
	if got.String() != want.String() {
		t.Fatalf("streamed index:\n%s\nwant:\n%s", got.String(), want.String())
	}
	for _, typ := range []EntryType{TypeWhiteout, TypeOpaque, TypeHardlink, TypeSymlink} {
		if !bytes.Contains(want.Bytes(), []byte("\n"+string(typ)+" ")) {
			t.Errorf("the tree has no entry of type %c: the test covers less than it says", typ)
		}
	}
}
