package layer

import (
	"archive/tar"
	"bytes"
	"context"
	"testing"
)

// A hardlink to a symlink, a device or a FIFO is indexed as one of those,
// with its target's fields, both by Index and by the index an unpack
// builds: readers of a file map take an entry h for a regular file. A
// path given again as a file is linked as a file.
func TestHardlinkToNodeIndexedAsNode(t *testing.T) {
	requireRoot(t)
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	add := func(h *tar.Header) {
		h.Format = tar.FormatPAX
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
	}
	add(&tar.Header{Name: "sym", Typeflag: tar.TypeSymlink, Linkname: "target", Mode: 0o777})
	add(&tar.Header{Name: "symhl", Typeflag: tar.TypeLink, Linkname: "sym"})
	add(&tar.Header{Name: "fifo", Typeflag: tar.TypeFifo, Mode: 0o640, Uid: 7})
	add(&tar.Header{Name: "fifohl", Typeflag: tar.TypeLink, Linkname: "fifo"})
	add(&tar.Header{Name: "null", Typeflag: tar.TypeChar, Mode: 0o666, Devmajor: 1, Devminor: 3})
	add(&tar.Header{Name: "nullhl", Typeflag: tar.TypeLink, Linkname: "null"})
	add(&tar.Header{Name: "again", Typeflag: tar.TypeSymlink, Linkname: "x", Mode: 0o777})
	add(&tar.Header{Name: "again", Typeflag: tar.TypeReg, Mode: 0o644, Size: 2})
	tw.Write([]byte("f\n"))
	add(&tar.Header{Name: "againhl", Typeflag: tar.TypeLink, Linkname: "again", Mode: 0o644})
	tw.Close()

	_, indexed, err := Index(bytes.NewReader(buf.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	_, unpacked, err := Extract(context.Background(), bytes.NewReader(buf.Bytes()), "application/vnd.oci.image.layer.v1.tar", t.TempDir(), ToOverlayLower)
	if err != nil {
		t.Fatal(err)
	}
	for name, entries := range map[string][]Entry{"Index": indexed, "Extract": unpacked} {
		byPath := map[string]Entry{}
		for _, e := range entries {
			byPath[e.Path] = e
		}
		for link, target := range map[string]string{"/symhl": "/sym", "/fifohl": "/fifo", "/nullhl": "/null"} {
			got, want := byPath[link], byPath[target]
			want.Path = link
			if got != want {
				t.Errorf("%s: %s is %+v, want %+v", name, link, got, want)
			}
		}
		if e := byPath["/againhl"]; e.Type != TypeHardlink || e.Digest != byPath["/again"].Digest || e.Size != 2 {
			t.Errorf("%s: /againhl is %+v, want a hardlink to the file /again", name, e)
		}
	}
}
