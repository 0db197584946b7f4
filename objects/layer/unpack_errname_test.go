package layer

import (
	"archive/tar"
	"bytes"
	"context"
	"strings"
	"testing"
)

// TestUnpackErrorNamesOneEntry: a file written in the background fails;
// the entry that waited for it is not named too ("entry "l": entry
// "a": ...").
func TestUnpackErrorNamesOneEntry(t *testing.T) {
	requireRoot(t)
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	tw.WriteHeader(&tar.Header{Name: "a", Typeflag: tar.TypeReg, Mode: 0o644, Size: 1, Format: tar.FormatPAX,
		PAXRecords: map[string]string{paxXattr + "user.k": strings.Repeat("v", 70000)}}) // over XATTR_SIZE_MAX: E2BIG
	tw.Write([]byte("a"))
	tw.WriteHeader(&tar.Header{Name: "l", Typeflag: tar.TypeLink, Linkname: "a", Mode: 0o644})
	tw.Close()
	err := Unpack(context.Background(), bytes.NewReader(buf.Bytes()), t.TempDir(), Apply)
	if err == nil || !strings.HasPrefix(err.Error(), `unpack layer: entry "a": `) || strings.Count(err.Error(), "entry ") != 1 {
		t.Fatalf("err = %v, want one entry named, \"a\"", err)
	}
}
