package layertest

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"io"
	"math/rand"
	"os"
	"path/filepath"
	"testing"
)

// Frames counts the zstd frames of a stream, skippable ones apart, by
// walking frame and block headers. It is written apart from the layer
// package's splitter so that one checks the other.
func Frames(r io.Reader) (int, error) {
	br := bufio.NewReader(r)
	n := 0
	for {
		var magic [4]byte
		if _, err := io.ReadFull(br, magic[:]); err == io.EOF {
			return n, nil
		} else if err != nil {
			return n, err
		}
		switch m := binary.LittleEndian.Uint32(magic[:]); {
		case m&0xFFFFFFF0 == 0x184D2A50:
			var size [4]byte
			if _, err := io.ReadFull(br, size[:]); err != nil {
				return n, err
			}
			if _, err := br.Discard(int(binary.LittleEndian.Uint32(size[:]))); err != nil {
				return n, err
			}
			continue
		case m != 0xFD2FB528:
			return n, fmt.Errorf("frame %d: bad magic %#x", n, m)
		}
		fhd, err := br.ReadByte()
		if err != nil {
			return n, err
		}
		skip := [4]int{0, 1, 2, 4}[fhd&3] + [4]int{0, 2, 4, 8}[fhd>>6]
		if fhd&0x20 == 0 {
			skip++ // window descriptor
		} else if fhd>>6 == 0 {
			skip++ // one-byte content size
		}
		if _, err := br.Discard(skip); err != nil {
			return n, err
		}
		for {
			var bh [3]byte
			if _, err := io.ReadFull(br, bh[:]); err != nil {
				return n, err
			}
			h := uint32(bh[0]) | uint32(bh[1])<<8 | uint32(bh[2])<<16
			size := int(h >> 3)
			if (h>>1)&3 == 1 {
				size = 1
			}
			if _, err := br.Discard(size); err != nil {
				return n, err
			}
			if h&1 != 0 {
				break
			}
		}
		if fhd&0x04 != 0 {
			if _, err := br.Discard(4); err != nil {
				return n, err
			}
		}
		n++
	}
}

// BuildLarge writes about size bytes of compressible text under dir, in
// files of up to 3 MiB, one larger than 8 MiB among them, so that a layer
// of it spans several zstd frames and files cross frame boundaries.
func BuildLarge(t testing.TB, dir string, size int) {
	t.Helper()
	rng := rand.New(rand.NewSource(1))
	words := []string{"layer ", "frame ", "strata ", "zstd ", "tar ", "commit ", "\n", "overlay ", "snapshot "}
	for i := 0; size > 0; i++ {
		n := 1 + rng.Intn(3<<20)
		if i == 2 {
			n = 9 << 20
		}
		buf := make([]byte, 0, n+16)
		for len(buf) < n {
			buf = append(buf, words[rng.Intn(len(words))]...)
			if rng.Intn(50) == 0 {
				buf = append(buf, byte(rng.Intn(256)))
			}
		}
		sub := filepath.Join(dir, fmt.Sprintf("d%d", i%4))
		must(t, os.MkdirAll(sub, 0o755))
		must(t, os.WriteFile(filepath.Join(sub, fmt.Sprintf("f%03d", i)), buf[:n], 0o644))
		size -= n
	}
}
