package layer

import (
	"bytes"
	"io"
	"strings"
	"testing"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
)

func TestDecompressSniffs(t *testing.T) {
	plain := []byte(strings.Repeat("layer content ", 1000))
	var gz, zs bytes.Buffer
	gw := gzip.NewWriter(&gz)
	gw.Write(plain)
	gw.Close()
	zw, _ := zstd.NewWriter(&zs)
	zw.Write(plain)
	zw.Close()
	for name, c := range map[string]struct {
		blob []byte
		want Compression
	}{"plain": {plain, Plain}, "gzip": {gz.Bytes(), Gzip}, "zstd": {zs.Bytes(), Zstd}, "empty": {nil, Plain},
		"zstd after a skippable frame (pzstd)": {append(skippableFrame(), zs.Bytes()...), Zstd}} {
		if got := Sniff(c.blob); got != c.want {
			t.Errorf("%s: Sniff = %d, want %d", name, got, c.want)
		}
		r, err := Decompress(bytes.NewReader(c.blob))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		got, err := io.ReadAll(r)
		r.Close()
		if want := plain; name == "empty" {
			want = nil
			if len(got) != 0 || err != nil {
				t.Errorf("empty: got %d bytes, err %v", len(got), err)
			}
		} else if err != nil || !bytes.Equal(got, want) {
			t.Errorf("%s: got %d bytes, err %v", name, len(got), err)
		}
	}

	// A cut stream must fail, not look like a shorter layer.
	for name, blob := range map[string][]byte{"zstd": zs.Bytes(), "gzip": gz.Bytes()} {
		r, err := Decompress(bytes.NewReader(blob[:len(blob)/2]))
		if err == nil {
			_, err = io.ReadAll(r)
			r.Close()
		}
		if err == nil {
			t.Errorf("truncated %s: no error", name)
		}
	}
}

// A zstd layer that begins with a skippable frame (pzstd's) is zstd, as
// its media type says.
func TestSkippableFrameFirstIsZstd(t *testing.T) {
	var zs bytes.Buffer
	zw, _ := zstd.NewWriter(&zs)
	zw.Write([]byte("layer"))
	zw.Close()
	blob := append(skippableFrame(), zs.Bytes()...)
	if err := CheckMediaType("application/vnd.oci.image.layer.v1.tar+zstd", blob); err != nil {
		t.Fatal(err)
	}
}

// skippableFrame is a zstd skippable frame of 4 bytes, as pzstd writes
// one (holding the next frame's size) before each frame.
func skippableFrame() []byte {
	return []byte{0x50, 0x2a, 0x4d, 0x18, 4, 0, 0, 0, 0x69, 0, 0, 0}
}
