package layer

import (
	"archive/tar"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"path"
	"strconv"
	"strings"
	"time"
)

// A layer's tar is written by tarStream: the headers strata writes for
// nearly every entry (a file, directory, symlink or hard link with an
// ASCII name) are formatted here, byte for byte as archive/tar formats
// them, and every other header by archive/tar itself. archive/tar costs a
// map, a sort and string formatting for each header, and a layer written
// with nanosecond mtimes needs a PAX header for every file (issue 15:
// commit of 100,000 files). tarheader_test.go compares both writers.

const blockSize = 512

var zeroBlock [blockSize]byte

// typeRegA is archive/tar's deprecated TypeRegA ('\x00'), which its
// Writer still turns into a file or directory: tarStream does the same.
const typeRegA = '\x00'

// header is one entry as the layer writer describes it; toTar gives the
// archive/tar header it stands for (Format PAX, as strata always asks).
type header struct {
	name, link         string
	typ                byte
	mode               int64
	uid, gid           int
	size               int64
	mtime              time.Time
	devmajor, devminor int64
	xattrs             []xattr // sorted by name, each name once
}

func (h *header) toTar() *tar.Header {
	th := &tar.Header{
		Name: h.name, Linkname: h.link, Typeflag: h.typ, Mode: h.mode, Uid: h.uid, Gid: h.gid,
		Size: h.size, ModTime: h.mtime, Devmajor: h.devmajor, Devminor: h.devminor, Format: tar.FormatPAX,
	}
	if len(h.xattrs) > 0 {
		th.PAXRecords = make(map[string]string, len(h.xattrs))
		for _, x := range h.xattrs {
			th.PAXRecords[paxXattr+x.name] = x.value
		}
	}
	return th
}

// tarStream writes a tar as archive/tar's Writer does, for the headers
// of header.
type tarStream struct {
	w    io.Writer
	left int64 // content bytes the current entry still needs
	pad  int64 // padding after it
	err  error // sticky
	buf  []byte
	recs []byte
	slow bytes.Buffer // archive/tar's output for the headers it formats
	fast int          // headers formatted here (for tests)
}

func newTarStream(w io.Writer) *tarStream { return &tarStream{w: w} }

// WriteHeader ends the previous entry (its content must be complete) and
// writes h.
func (s *tarStream) WriteHeader(h *header) error {
	if err := s.endEntry(); err != nil {
		return err
	}
	if h.typ == typeRegA { // as archive/tar promotes it
		c := *h
		c.typ = tar.TypeReg
		if strings.HasSuffix(c.name, "/") {
			c.typ = tar.TypeDir
		}
		h = &c
	}
	b, ok := s.format(s.buf[:0], h)
	s.buf = b[:0]
	if ok {
		s.fast++
	} else {
		// archive/tar writes a header's blocks at once and its content
		// and padding later: what it wrote is exactly the header.
		s.slow.Reset()
		if err := tar.NewWriter(&s.slow).WriteHeader(h.toTar()); err != nil {
			return err // not sticky, as in archive/tar
		}
		b = s.slow.Bytes()
	}
	if _, err := s.w.Write(b); err != nil {
		s.err = err
		return err
	}
	s.left = 0
	if !headerOnly(h.typ) {
		s.left = h.size
	}
	s.pad = -s.left & (blockSize - 1)
	return nil
}

func headerOnly(typ byte) bool {
	switch typ {
	case tar.TypeLink, tar.TypeSymlink, tar.TypeChar, tar.TypeBlock, tar.TypeDir, tar.TypeFifo:
		return true
	}
	return false
}

// Write writes content of the current entry.
func (s *tarStream) Write(p []byte) (int, error) {
	if s.err != nil {
		return 0, s.err
	}
	tooLong := false
	if int64(len(p)) > s.left {
		p, tooLong = p[:s.left], true
	}
	n, err := s.w.Write(p)
	s.left -= int64(n)
	if err != nil {
		s.err = err
		return n, err
	}
	if tooLong {
		return n, tar.ErrWriteTooLong
	}
	return n, nil
}

const readPiece = 256 << 10

// readContent reads up to n bytes of the current entry's content from fd
// into the tar, and passes each piece it read to seen; it returns how
// many it read, less than n only where the file ended. On a frameWriter
// it reads straight into the frame's buffer, saving a copy of every
// file's content; buf is the read buffer otherwise.
func (s *tarStream) readContent(fd int, n int64, buf []byte, seen func([]byte)) (int64, error) {
	if s.err != nil {
		return 0, s.err
	}
	n = min(n, s.left)
	fw, direct := s.w.(*frameWriter)
	read := int64(0)
	for read < n {
		b := buf
		if direct {
			var err error
			if b, err = fw.space(); err != nil {
				s.err = err
				return read, err
			}
		}
		// Pieces of readPiece: hashed while still in the cache.
		b = b[:min(int64(len(b)), n-read, readPiece)]
		k, err := readFull(fd, b)
		if k > 0 {
			seen(b[:k])
			if direct {
				fw.wrote(k)
				s.left -= int64(k)
			} else if _, werr := s.Write(b[:k]); werr != nil {
				return read, werr
			}
			read += int64(k)
		}
		if err != nil || k < len(b) {
			return read, err
		}
	}
	return read, nil
}

func (s *tarStream) flushPad() error {
	if s.pad > 0 {
		if _, err := s.w.Write(zeroBlock[:s.pad]); err != nil {
			s.err = err
			return err
		}
		s.pad = 0
	}
	return nil
}

// endEntry checks that the current entry's content is complete and pads it.
func (s *tarStream) endEntry() error {
	if s.err != nil {
		return s.err
	}
	if s.left > 0 {
		return fmt.Errorf("archive/tar: missed writing %d bytes", s.left)
	}
	return s.flushPad()
}

// Close pads the last entry and writes the trailer (two zero blocks).
func (s *tarStream) Close() error {
	if err := s.endEntry(); err != nil {
		return err
	}
	for range 2 {
		if _, err := s.w.Write(zeroBlock[:]); err != nil {
			s.err = err
			return err
		}
	}
	s.err = errors.New("archive/tar: write after close")
	return nil
}

const (
	nameSize   = 100
	prefixSize = 155
	maxOctal8  = 1<<21 - 1 // an 8-byte octal field with its NUL
	maxOctal12 = 1<<33 - 1
	paxMaxData = 1 << 20
)

// format appends h's header blocks to b as archive/tar formats them, or
// reports false for a header it leaves to archive/tar: a type other than
// file, directory, symlink or hard link; a name that is not plain ASCII
// (no NUL, no "." or ".." or empty component) or is too long for USTAR
// where USTAR would otherwise do; a link target that is not ASCII; a zero
// time; numbers out of range; xattr names with "=" or NUL, or unsorted.
func (s *tarStream) format(b []byte, h *header) ([]byte, bool) {
	switch h.typ {
	case tar.TypeReg, tar.TypeDir, tar.TypeSymlink, tar.TypeLink:
	default:
		return b, false
	}
	if !plainName(h.name) || !isASCII(h.link) || h.mtime.IsZero() ||
		h.mode < 0 || h.mode > maxOctal8 || h.uid < 0 || h.gid < 0 || h.size < 0 ||
		h.devmajor != 0 || h.devminor != 0 ||
		h.typ == tar.TypeReg && strings.HasSuffix(h.name, "/") {
		return b, false
	}
	sec, nsec := h.mtime.Unix(), h.mtime.Nanosecond()
	mtimeOctal := sec >= 0 && sec <= maxOctal12
	longName := len(h.name) > nameSize
	ustar := !longName && len(h.link) <= nameSize && h.uid <= maxOctal8 && h.gid <= maxOctal8 &&
		h.size <= maxOctal12 && mtimeOctal && nsec == 0 && len(h.xattrs) == 0
	var prefix, name string
	if !ustar && len(h.xattrs) == 0 && len(h.link) <= nameSize && h.uid <= maxOctal8 && h.gid <= maxOctal8 &&
		h.size <= maxOctal12 && mtimeOctal && nsec == 0 {
		// Only the name is long: archive/tar writes USTAR if it splits.
		p, n, ok := splitUSTARPath(h.name)
		if !ok {
			return b, false // PAX with a path record: left to archive/tar
		}
		prefix, name, ustar = p, n, true
	}
	if ustar {
		if name == "" {
			name = h.name
		}
		return appendBlock(b, name, prefix, h, sec, true), true
	}
	// PAX: records in key order ("SCHILY.xattr.*" sorts first), then the
	// main header.
	r := s.recs[:0]
	for i, x := range h.xattrs {
		k := paxXattr + x.name
		if strings.ContainsAny(k, "=\x00") || i > 0 && h.xattrs[i-1].name >= x.name {
			return b, false
		}
		r = appendPAXRecord(r, k, x.value)
	}
	if h.gid > maxOctal8 {
		r = appendPAXRecord(r, "gid", strconv.Itoa(h.gid))
	}
	if len(h.link) > nameSize {
		r = appendPAXRecord(r, "linkpath", h.link)
	}
	if !mtimeOctal || nsec != 0 {
		r = appendPAXRecord(r, "mtime", formatPAXTime(sec, nsec))
	}
	if longName {
		r = appendPAXRecord(r, "path", h.name)
	}
	if h.size > maxOctal12 {
		r = appendPAXRecord(r, "size", strconv.FormatInt(h.size, 10))
	}
	if h.uid > maxOctal8 {
		r = appendPAXRecord(r, "uid", strconv.Itoa(h.uid))
	}
	s.recs = r
	if len(r) > paxMaxData {
		return b, false
	}
	if len(r) > 0 {
		// The extended header: "dir/PaxHeaders.0/file" (path.Join of a
		// clean name), at most 100 bytes, no trailing slash.
		dir, file := path.Split(h.name)
		xname := dir + "PaxHeaders.0"
		if file != "" {
			xname += "/" + file
		}
		if len(xname) > nameSize {
			xname = strings.TrimRight(xname[:nameSize], "/")
		}
		x := header{typ: tar.TypeXHeader, size: int64(len(r))}
		b = appendBlock(b, xname, "", &x, 0, false)
		b = append(b, r...)
		b = append(b, zeroBlock[:-len(r)&(blockSize-1)]...)
	}
	// The main header: numbers that do not fit are written as zero,
	// names cut to their field.
	m := *h
	if m.uid > maxOctal8 {
		m.uid = 0
	}
	if m.gid > maxOctal8 {
		m.gid = 0
	}
	if m.size > maxOctal12 {
		m.size = 0
	}
	if !mtimeOctal {
		sec = 0
	}
	return appendBlock(b, h.name, "", &m, sec, true), true
}

// isASCII reports whether s is ASCII without NUL.
func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c == 0 || c >= 0x80 {
			return false
		}
	}
	return true
}

// plainName reports whether p is ASCII without NUL, and clean in
// path.Join's sense apart from one trailing slash.
func plainName(p string) bool {
	if p == "" || p[0] == '/' || !isASCII(p) {
		return false
	}
	for c := range strings.SplitSeq(strings.TrimSuffix(p, "/"), "/") {
		if c == "" || c == "." || c == ".." {
			return false
		}
	}
	return true
}

// splitUSTARPath is archive/tar's: a name over 100 bytes split at a slash
// into a prefix of at most 155 and a name of at most 100 bytes.
func splitUSTARPath(name string) (prefix, suffix string, ok bool) {
	length := len(name)
	if length <= nameSize {
		return "", "", false
	} else if length > prefixSize+1 {
		length = prefixSize + 1
	} else if name[length-1] == '/' {
		length--
	}
	i := strings.LastIndex(name[:length], "/")
	nlen := len(name) - i - 1
	if i <= 0 || nlen > nameSize || nlen == 0 || i > prefixSize {
		return "", "", false
	}
	return name[:i], name[i+1:], true
}

// appendBlock appends one 512-byte header block with the checksum. The
// extended header's block (full false) leaves the device fields empty.
func appendBlock(b []byte, name, prefix string, h *header, sec int64, full bool) []byte {
	off := len(b)
	b = append(b, zeroBlock[:]...)
	blk := b[off : off+blockSize]
	putString(blk[0:100], name)
	putOctal(blk[100:108], h.mode)
	putOctal(blk[108:116], int64(h.uid))
	putOctal(blk[116:124], int64(h.gid))
	putOctal(blk[124:136], h.size)
	putOctal(blk[136:148], sec)
	blk[156] = h.typ
	putString(blk[157:257], h.link)
	copy(blk[257:265], "ustar\x0000")
	if full {
		putOctal(blk[329:337], 0) // devmajor
		putOctal(blk[337:345], 0) // devminor
	}
	putString(blk[345:500], prefix)
	copy(blk[148:156], "        ") // the checksum counts its own field as spaces
	putOctal(blk[148:155], byteSum(blk))
	blk[155] = ' '
	return b
}

// byteSum is the sum of a block's bytes, eight at a time: each 16-bit
// lane of acc gathers at most 64*2*255 < 65536.
func byteSum(blk []byte) int64 {
	const lanes = 0x00FF00FF00FF00FF
	var acc uint64
	for i := 0; i+8 <= len(blk); i += 8 {
		w := binary.LittleEndian.Uint64(blk[i:])
		acc += w&lanes + w>>8&lanes
	}
	return int64(acc&0xFFFF + acc>>16&0xFFFF + acc>>32&0xFFFF + acc>>48)
}

// putString is archive/tar's formatString: s cut to the field, NUL
// terminated if shorter, and a cut that ends in a slash ends before it.
func putString(f []byte, s string) {
	copy(f, s)
	if len(s) < len(f) {
		f[len(s)] = 0
	}
	if len(s) > len(f) && f[len(f)-1] == '/' {
		f[len(strings.TrimRight(s[:len(f)-1], "/"))] = 0
	}
}

// putOctal is archive/tar's formatOctal for a value that fits: zero
// padded, NUL terminated.
func putOctal(f []byte, x int64) {
	n := len(f) - 1
	for i := n - 1; i >= 0; i-- {
		f[i] = byte('0' + x&7)
		x >>= 3
	}
	f[n] = 0
}

// appendPAXRecord is archive/tar's formatPAXRecord: "%d %s=%s\n", the
// length counting its own digits.
func appendPAXRecord(b []byte, k, v string) []byte {
	size := len(k) + len(v) + 3
	size += len(strconv.Itoa(size))
	if n := len(k) + len(v) + 3 + len(strconv.Itoa(size)); n != size {
		size = n
	}
	b = strconv.AppendInt(b, int64(size), 10)
	b = append(b, ' ')
	b = append(b, k...)
	b = append(b, '=')
	b = append(b, v...)
	return append(b, '\n')
}

// formatPAXTime is archive/tar's: seconds, and the fraction without
// trailing zeros; before 1970 the sign leads and the fraction counts up.
func formatPAXTime(secs int64, nsecs int) string {
	if nsecs == 0 {
		return strconv.FormatInt(secs, 10)
	}
	var b [32]byte
	out := b[:0]
	if secs < 0 {
		out = append(out, '-')
		secs = -(secs + 1)
		nsecs = 1e9 - nsecs
	}
	out = strconv.AppendInt(out, secs, 10)
	out = append(out, '.')
	frac := [9]byte{}
	for i := 8; i >= 0; i-- {
		frac[i] = byte('0' + nsecs%10)
		nsecs /= 10
	}
	out = append(out, bytes.TrimRight(frac[:], "0")...)
	return string(out)
}
