package layer

import (
	"archive/tar"
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
)

const (
	mtTar        = "application/vnd.oci.image.layer.v1.tar"
	mtGzip       = "application/vnd.oci.image.layer.v1.tar+gzip"
	mtZstd       = "application/vnd.oci.image.layer.v1.tar+zstd"
	mtDockerGzip = "application/vnd.docker.image.rootfs.diff.tar.gzip"
	mtDockerTar  = "application/vnd.docker.image.rootfs.diff.tar"
)

// blobs builds one small tar and its gzip and zstd forms.
func blobs(t testing.TB) (plain, gz, zst []byte) {
	t.Helper()
	var b bytes.Buffer
	tw := tar.NewWriter(&b)
	tw.WriteHeader(&tar.Header{Name: "a", Mode: 0o644, Size: 1, Typeflag: tar.TypeReg})
	tw.Write([]byte("a"))
	tw.Close()
	plain = b.Bytes()
	var g bytes.Buffer
	gw := gzip.NewWriter(&g)
	gw.Write(plain)
	gw.Close()
	var z bytes.Buffer
	zw, _ := zstd.NewWriter(&z)
	zw.Write(plain)
	zw.Close()
	return plain, g.Bytes(), z.Bytes()
}

func TestCheckMediaType(t *testing.T) {
	plain, gz, zst := blobs(t)
	cases := []struct {
		mt    string
		blob  []byte
		found string // "" = accepted
	}{
		{mtTar, plain, ""},
		{mtDockerTar, plain, ""},
		{mtGzip, gz, ""},
		{mtDockerGzip, gz, ""},
		{mtZstd, zst, ""},
		{mtTar, make([]byte, 1024), ""},
		{mtTar, nil, ""},
		{"", zst, ""},
		{"application/x-unknown", gz, ""},
		{mtGzip, zst, "the content is zstd"},
		{mtDockerGzip, zst, "the content is zstd"},
		{mtZstd, gz, "the content is gzip"},
		{mtTar, gz, "the content is gzip"},
		{mtTar, zst, "the content is zstd"},
		{mtGzip, plain, "the content is tar"},
		{mtZstd, plain, "the content is tar"},
		{mtGzip, make([]byte, 1024), "the content is an empty tar"},
		{mtTar, []byte("BZh91AY&SY"), "neither tar, gzip nor zstd (first bytes 42 5a 68 39)"},
		{mtTar, append(make([]byte, 300), 'x'), "neither tar"},
	}
	for _, c := range cases {
		head := c.blob[:min(len(c.blob), headSize)]
		err := CheckMediaType(c.mt, head)
		if c.found == "" {
			if err != nil {
				t.Errorf("%s with %q...: %v", c.mt, head[:min(len(head), 4)], err)
			}
			continue
		}
		if !errors.Is(err, ErrMediaType) || !strings.Contains(err.Error(), c.found) || !strings.Contains(err.Error(), c.mt) {
			t.Errorf("%s with %q...: %v; want ErrMediaType saying %q", c.mt, head[:min(len(head), 4)], err, c.found)
		}
		// DecompressAs refuses the same before giving any byte.
		if _, err := DecompressAs(bytes.NewReader(c.blob), c.mt); !errors.Is(err, ErrMediaType) {
			t.Errorf("DecompressAs(%s) = %v, want ErrMediaType", c.mt, err)
		}
	}
	// A matching blob decompresses to the tar.
	for mt, blob := range map[string][]byte{mtTar: plain, mtGzip: gz, mtZstd: zst} {
		rc, err := DecompressAs(bytes.NewReader(blob), mt)
		if err != nil {
			t.Fatalf("DecompressAs(%s): %v", mt, err)
		}
		got, err := io.ReadAll(rc)
		rc.Close()
		if err != nil || !bytes.Equal(got, plain) {
			t.Errorf("DecompressAs(%s) read %d bytes, %v", mt, len(got), err)
		}
	}
}
