package layer

import (
	"archive/tar"
	"bytes"
	"errors"
	"strings"
	"testing"
)

// TestIndexRefusesClimbingNames: a layer whose names or hardlink targets
// climb out of the root, or are absolute, is refused before it can enter
// the store, as unpack refuses it: an image import or fetch took
// "/abs/f", and no checkout of the commit could unpack it.
func TestIndexRefusesClimbingNames(t *testing.T) {
	tests := []struct {
		name string
		hdr  tar.Header
		ok   bool
	}{
		{"plain", tar.Header{Name: "etc/passwd", Typeflag: tar.TypeReg}, true},
		{"dot slash", tar.Header{Name: "./etc/passwd", Typeflag: tar.TypeReg}, true},
		{"down and up", tar.Header{Name: "etc/../passwd", Typeflag: tar.TypeReg}, true},
		{"parent", tar.Header{Name: "../evil", Typeflag: tar.TypeReg}, false},
		{"deep parent", tar.Header{Name: "etc/../../evil", Typeflag: tar.TypeReg}, false},
		{"whiteout climbing", tar.Header{Name: "../.wh.etc", Typeflag: tar.TypeReg}, false},
		{"hardlink out", tar.Header{Name: "x", Typeflag: tar.TypeLink, Linkname: "../../etc/shadow"}, false},
		{"hardlink in", tar.Header{Name: "x", Typeflag: tar.TypeLink, Linkname: "etc/passwd"}, true},
		{"absolute", tar.Header{Name: "/etc/evil", Typeflag: tar.TypeReg}, false},
		{"hardlink absolute", tar.Header{Name: "x", Typeflag: tar.TypeLink, Linkname: "/etc/passwd"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			tw := tar.NewWriter(&buf)
			if err := tw.WriteHeader(&tar.Header{Name: "etc/passwd", Typeflag: tar.TypeReg, Mode: 0o644}); err != nil {
				t.Fatal(err)
			}
			tt.hdr.Mode = 0o644
			if err := tw.WriteHeader(&tt.hdr); err != nil {
				t.Fatal(err)
			}
			if err := tw.Close(); err != nil {
				t.Fatal(err)
			}
			_, _, err := Index(&buf)
			if tt.ok && err != nil {
				t.Fatalf("Index refused a safe name: %v", err)
			}
			if !tt.ok && !errors.Is(err, ErrUnsafePath) {
				t.Fatalf("Index accepted %q (link %q): %v", tt.hdr.Name, tt.hdr.Linkname, err)
			}
		})
	}
}

// TestIndexRefusesLinkToLowerLayer: a hardlink must name an earlier file
// of its own layer; one to a file of a layer below can never be unpacked
// (podman refuses such an image at pull), so the layer is refused when it
// is indexed, naming the entry.
func TestIndexRefusesLinkToLowerLayer(t *testing.T) {
	for _, c := range []struct {
		name string
		hdrs []tar.Header
		ok   bool
	}{
		{"to a lower layer's file", []tar.Header{{Name: "hl", Typeflag: tar.TypeLink, Linkname: "a/f"}}, false},
		{"to a later file", []tar.Header{{Name: "hl", Typeflag: tar.TypeLink, Linkname: "f"}, {Name: "f", Typeflag: tar.TypeReg}}, false},
		{"to a directory", []tar.Header{{Name: "d/", Typeflag: tar.TypeDir}, {Name: "hl", Typeflag: tar.TypeLink, Linkname: "d"}}, false},
		{"to its own file", []tar.Header{{Name: "./a/f", Typeflag: tar.TypeReg}, {Name: "hl", Typeflag: tar.TypeLink, Linkname: "a/./f"}}, true},
		{"to a link", []tar.Header{{Name: "f", Typeflag: tar.TypeReg}, {Name: "l1", Typeflag: tar.TypeLink, Linkname: "f"}, {Name: "l2", Typeflag: tar.TypeLink, Linkname: "l1"}}, true},
		{"to a symlink", []tar.Header{{Name: "s", Typeflag: tar.TypeSymlink, Linkname: "x"}, {Name: "hl", Typeflag: tar.TypeLink, Linkname: "s"}}, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			var buf bytes.Buffer
			tw := tar.NewWriter(&buf)
			for _, h := range c.hdrs {
				h.Mode = 0o644
				if err := tw.WriteHeader(&h); err != nil {
					t.Fatal(err)
				}
			}
			tw.Close()
			_, _, err := Index(&buf)
			if c.ok && err != nil {
				t.Fatalf("Index refused it: %v", err)
			}
			if !c.ok && (err == nil || !strings.Contains(err.Error(), `entry "hl": hardlink to `)) {
				t.Fatalf("Index: %v, want the hardlink refused, naming its entry", err)
			}
		})
	}
}
