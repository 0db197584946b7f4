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
	}{"plain": {plain, Plain}, "gzip": {gz.Bytes(), Gzip}, "zstd": {zs.Bytes(), Zstd}, "empty": {nil, Plain}} {
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
