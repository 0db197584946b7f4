package layer

import (
	"archive/tar"
	"bytes"
	"errors"
	"testing"
)

// TestIndexRefusesClimbingNames: a layer whose names or hardlink targets
// climb out of the root is refused before it can enter the store.
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
