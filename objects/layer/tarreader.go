package layer

import (
	"archive/tar"
	"bytes"
	"encoding/binary"
	"io"
	"time"
)

// tarReader reads a layer's tar as archive/tar's Reader does, parsing
// the plain headers itself: a ustar block of a file, directory, link
// or device, ASCII, its fields in octal, with no extension header
// before it (strata writes nearly every entry so). archive/tar spends 6
// to 11 µs on such a header on the benchmark VM, 40% of it in a
// rune-by-rune scan of the block for non-ASCII bytes; with many small
// files that was a sixth of a checkout's CPU. Any other block (another
// kind of header, a zero block, garbage) is handed to an archive/tar
// Reader with the stream, so that it is parsed, or refused, by
// archive/tar itself. The fast path returns the same headers, content
// and errors as archive/tar (FuzzTarReader compares the two).
type tarReader struct {
	r    io.Reader   // the stream (a tarSource skips content taken in place)
	tr   *tar.Reader // archive/tar, for the current entry if it parsed it
	left int64       // content of the current entry not yet read (fast path)
	pad  int64       // padding after it
	err  error
	blk  [blockSize]byte
}

func newTarReader(r io.Reader) *tarReader { return &tarReader{r: r} }

// Next advances to the next entry, as tar.Reader.Next.
func (t *tarReader) Next() (*tar.Header, error) {
	if t.err != nil {
		return nil, t.err
	}
	hdr, err := t.next()
	t.err = err
	return hdr, err
}

func (t *tarReader) next() (*tar.Header, error) {
	if t.tr == nil {
		if err := discard(t.r, t.left); err != nil {
			return nil, err
		}
		if _, err := tryReadFull(t.r, t.blk[:t.pad]); err != nil {
			return nil, err
		}
		t.left, t.pad = 0, 0
		// As archive/tar reads a header block: EOF before it is the end.
		if _, err := io.ReadFull(t.r, t.blk[:]); err != nil {
			return nil, err
		}
		if hdr, ok := parseUSTAR(&t.blk); ok {
			t.left, t.pad = contentSize(hdr), padding(contentSize(hdr))
			return hdr, nil
		}
		// archive/tar takes it from this block, read again from a copy.
		t.tr = tar.NewReader(io.MultiReader(bytes.NewReader(bytes.Clone(t.blk[:])), t.r))
	}
	hdr, err := t.tr.Next()
	if err != nil {
		return nil, err
	}
	// The stream is now at the entry's content (archive/tar has read
	// all of the copied block): for a plain entry, what is left of it
	// is known, and the next header can be read here again.
	if hdr.Typeflag != tar.TypeXGlobalHeader && hdr.Typeflag != tar.TypeGNUSparse && !sparse(hdr) {
		t.tr = nil
		t.left, t.pad = contentSize(hdr), padding(contentSize(hdr))
	}
	return hdr, nil
}

// Read reads the current entry's content, as tar.Reader.Read.
func (t *tarReader) Read(b []byte) (int, error) {
	if t.err != nil {
		return 0, t.err
	}
	if t.tr != nil {
		return t.tr.Read(b)
	}
	if int64(len(b)) > t.left {
		b = b[:t.left]
	}
	var n int
	var err error
	if len(b) > 0 {
		n, err = t.r.Read(b)
		t.left -= int64(n)
	}
	switch {
	case err == io.EOF && t.left > 0:
		err = io.ErrUnexpectedEOF
	case err == nil && t.left == 0:
		err = io.EOF
	}
	if err != nil && err != io.EOF {
		t.err = err // as archive/tar: the stream is not read past a failure
	}
	return n, err
}

// contentSize is how much content follows hdr in the stream: none for
// the types that are a header only, whatever their size field says.
func contentSize(hdr *tar.Header) int64 {
	switch hdr.Typeflag {
	case tar.TypeLink, tar.TypeSymlink, tar.TypeChar, tar.TypeBlock, tar.TypeDir, tar.TypeFifo:
		return 0
	}
	return hdr.Size
}

func padding(n int64) int64 { return -n & (blockSize - 1) }

// discard skips n bytes of r as archive/tar does: by Seek, if r can,
// to the last byte, which is then read, so that a stream cut short is
// an error here and not at the next header.
func discard(r io.Reader, n int64) error {
	var seeked int64
	if sr, ok := r.(io.Seeker); ok && n > 1 {
		if pos1, err := sr.Seek(0, io.SeekCurrent); pos1 >= 0 && err == nil {
			pos2, err := sr.Seek(n-1, io.SeekCurrent)
			if pos2 < 0 || err != nil {
				return err
			}
			seeked = pos2 - pos1
		}
	}
	copied, err := io.CopyN(io.Discard, r, n-seeked)
	if err == io.EOF && seeked+copied < n {
		err = io.ErrUnexpectedEOF
	}
	return err
}

// tryReadFull is io.ReadFull, but an EOF after some bytes stays io.EOF,
// as archive/tar has it.
func tryReadFull(r io.Reader, b []byte) (n int, err error) {
	for len(b) > n && err == nil {
		var nn int
		nn, err = r.Read(b[n:])
		n += nn
	}
	if len(b) == n && err == io.EOF {
		err = nil
	}
	return n, err
}

// The fields of a ustar header block that parseUSTAR reads.
const (
	offName, lenName         = 0, 100
	offMode, lenMode         = 100, 8
	offUID, lenUID           = 108, 8
	offGID, lenGID           = 116, 8
	offSize, lenSize         = 124, 12
	offMtime, lenMtime       = 136, 12
	offChksum, lenChksum     = 148, 8
	offType                  = 156
	offLink, lenLink         = 157, 100
	offMagic                 = 257 // "ustar\x00" and version "00"
	offUname, lenUname       = 265, 32
	offGname, lenGname       = 297, 32
	offDevmajor, lenDevmajor = 329, 8
	offDevminor, lenDevminor = 337, 8
	offPrefix, lenPrefix     = 345, 155
	offTrailer               = 508 // "tar\x00" makes it a star header
)

// parseUSTAR parses a plain ustar header block as archive/tar would,
// or says it does not (ok false): archive/tar then parses it, or
// refuses it.
func parseUSTAR(b *[blockSize]byte) (hdr *tar.Header, ok bool) {
	if !asciiBlock(b) || string(b[offMagic:offMagic+8]) != "ustar\x0000" || string(b[offTrailer:]) == "tar\x00" {
		return nil, false
	}
	typ := b[offType]
	switch typ {
	case tar.TypeReg, tar.TypeDir, tar.TypeSymlink, tar.TypeLink, tar.TypeChar, tar.TypeBlock, tar.TypeFifo:
	default:
		return nil, false
	}
	// With every byte below 0x80, the signed and unsigned sums agree.
	// The checksum field counts as eight spaces.
	sum := blockSum(b) + 8*' '
	for _, c := range b[offChksum : offChksum+lenChksum] {
		sum -= int64(c)
	}
	var p octalParser
	if p.parse(b[offChksum:offChksum+lenChksum]) != sum || p.bad {
		return nil, false
	}
	hdr = &tar.Header{
		Typeflag: typ,
		Name:     cString(b[offName : offName+lenName]),
		Linkname: cString(b[offLink : offLink+lenLink]),
		Size:     p.parse(b[offSize : offSize+lenSize]),
		Mode:     p.parse(b[offMode : offMode+lenMode]),
		Uid:      int(p.parse(b[offUID : offUID+lenUID])),
		Gid:      int(p.parse(b[offGID : offGID+lenGID])),
		ModTime:  time.Unix(p.parse(b[offMtime:offMtime+lenMtime]), 0),
		Uname:    cString(b[offUname : offUname+lenUname]),
		Gname:    cString(b[offGname : offGname+lenGname]),
		Devmajor: p.parse(b[offDevmajor : offDevmajor+lenDevmajor]),
		Devminor: p.parse(b[offDevminor : offDevminor+lenDevminor]),
		Format:   tar.FormatUSTAR,
	}
	if p.bad {
		return nil, false
	}
	if prefix := cString(b[offPrefix : offPrefix+lenPrefix]); prefix != "" {
		hdr.Name = prefix + "/" + hdr.Name
	}
	// archive/tar's format guess: numeric fields must end in NUL.
	for _, end := range []int{offSize + lenSize, offMode + lenMode, offUID + lenUID, offGID + lenGID,
		offMtime + lenMtime, offDevmajor + lenDevmajor, offDevminor + lenDevminor} {
		if b[end-1] != 0 {
			hdr.Format = tar.FormatUnknown
		}
	}
	return hdr, true
}

// asciiBlock says whether every byte of b is below 0x80. A word at a
// time: a byte at a time, this and blockSum were most of parseUSTAR's
// time.
func asciiBlock(b *[blockSize]byte) bool {
	var or uint64
	for i := 0; i < blockSize; i += 8 {
		or |= binary.LittleEndian.Uint64(b[i:])
	}
	return or&0x8080808080808080 == 0
}

// blockSum is the sum of b's bytes, summed as four 16-bit lanes of each
// word: a lane gathers at most 2·255 a word, 32,640 over the block.
func blockSum(b *[blockSize]byte) int64 {
	const even = 0x00ff00ff00ff00ff
	var lanes uint64
	for i := 0; i < blockSize; i += 8 {
		w := binary.LittleEndian.Uint64(b[i:])
		lanes += w&even + w>>8&even
	}
	return int64(lanes&0xffff + lanes>>16&0xffff + lanes>>32&0xffff + lanes>>48)
}

// cString is b up to its first NUL.
func cString(b []byte) string {
	if i := bytes.IndexByte(b, 0); i >= 0 {
		b = b[:i]
	}
	return string(b)
}

// octalParser parses octal fields as archive/tar does for the fields
// it accepts; anything else (a base-256 number, a stray byte) sets bad,
// and the block is left to archive/tar.
type octalParser struct{ bad bool }

func (p *octalParser) parse(f []byte) int64 {
	for len(f) > 0 && (f[0] == ' ' || f[0] == 0) {
		f = f[1:]
	}
	for len(f) > 0 && (f[len(f)-1] == ' ' || f[len(f)-1] == 0) {
		f = f[:len(f)-1]
	}
	var x int64
	for _, c := range f {
		if c < '0' || c > '7' {
			p.bad = true
			return 0
		}
		x = x<<3 | int64(c-'0')
	}
	return x
}
