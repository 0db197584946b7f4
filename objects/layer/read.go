package layer

import (
	"archive/tar"
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"path"
	"strings"

	"github.com/klauspost/compress/gzip"
	"github.com/opencontainers/go-digest"
	"github.com/strata-sh/strata/internal/asyncwrite"
	"github.com/zeebo/blake3"
)

// Compression is how a layer blob is packed.
type Compression int

const (
	Plain Compression = iota
	Gzip
	Zstd
)

// Sniff tells a layer's compression from its first bytes.
func Sniff(head []byte) Compression {
	switch {
	case bytes.HasPrefix(head, []byte{0x28, 0xb5, 0x2f, 0xfd}):
		return Zstd
	case len(head) >= 4 && head[0]&0xf0 == 0x50 && bytes.Equal(head[1:4], []byte{0x2a, 0x4d, 0x18}):
		// A skippable frame (magic 0x184D2A5?): pzstd writes one before
		// each frame, and any zstd stream may begin with one.
		return Zstd
	case bytes.HasPrefix(head, []byte{0x1f, 0x8b}):
		return Gzip
	}
	return Plain
}

func (c Compression) String() string {
	switch c {
	case Gzip:
		return "gzip"
	case Zstd:
		return "zstd"
	}
	return "tar"
}

// ErrMediaType is wrapped when a layer's bytes are not what its media type
// says: a layer labelled gzip that holds zstd, or tar that holds gzip.
var ErrMediaType = errors.New("layer content does not match its media type")

// MediaCompression returns the compression a layer media type declares:
// +gzip/.gzip, +zstd/.zstd, or a plain .tar. ok is false for an empty or
// unknown media type, which declares nothing.
func MediaCompression(mediaType string) (c Compression, ok bool) {
	switch {
	case strings.HasSuffix(mediaType, "+gzip") || strings.HasSuffix(mediaType, ".gzip"):
		return Gzip, true
	case strings.HasSuffix(mediaType, "+zstd") || strings.HasSuffix(mediaType, ".zstd"):
		return Zstd, true
	case strings.HasSuffix(mediaType, ".tar"):
		return Plain, true
	}
	return Plain, false
}

// headSize is how much of a layer CheckMediaType wants: one tar block.
const headSize = 512

// CheckMediaType compares a layer's first bytes (headSize of them, or the
// whole blob if shorter) with what mediaType declares. A plain tar must
// show the ustar magic at offset 257 or be an empty archive (zero bytes or
// a zero block). The error names what was found, and wraps ErrMediaType.
func CheckMediaType(mediaType string, head []byte) error {
	want, ok := MediaCompression(mediaType)
	if !ok {
		return nil
	}
	got := Sniff(head)
	found := got.String()
	if got == Plain {
		switch {
		case len(head) > 262 && string(head[257:262]) == "ustar":
		case allZero(head):
			found = "an empty tar"
		default:
			found = fmt.Sprintf("neither tar, gzip nor zstd (first bytes % x)", head[:min(len(head), 4)])
			got = -1
		}
	}
	if got != want {
		return fmt.Errorf("%w: %s says %s, the content is %s", ErrMediaType, mediaType, want, found)
	}
	return nil
}

func allZero(b []byte) bool {
	for _, c := range b {
		if c != 0 {
			return false
		}
	}
	return true
}

// DecompressAs is Decompress for a layer whose media type is known: bytes
// that do not match it are refused (CheckMediaType) before any is used.
func DecompressAs(r io.Reader, mediaType string) (io.ReadCloser, error) {
	br := bufio.NewReaderSize(r, 64<<10)
	head, err := br.Peek(headSize)
	if err != nil && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("decompress layer: %w", err)
	}
	if err := CheckMediaType(mediaType, head); err != nil {
		return nil, err
	}
	return Decompress(br)
}

// maxWindow bounds the memory a hostile zstd frame can make us allocate.
const maxWindow = 128 << 20

// Decompress sniffs gzip, zstd or plain and returns the uncompressed
// stream. Closing it does not close r.
func Decompress(r io.Reader) (io.ReadCloser, error) {
	br := bufio.NewReaderSize(r, 64<<10)
	head, err := br.Peek(4)
	if err != nil && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("decompress layer: %w", err)
	}
	switch Sniff(head) {
	case Zstd:
		return newFrameReader(br, nil), nil
	case Gzip:
		z, err := gzip.NewReader(br)
		if err != nil {
			return nil, fmt.Errorf("decompress layer: %w", err)
		}
		return z, nil
	}
	return io.NopCloser(br), nil
}

// Index reads an uncompressed tar to its end and returns its diff id and
// file index. It serves layers that did not come from WriteTar.
func Index(r io.Reader) (digest.Digest, []Entry, error) {
	// The diff id's sha256 runs on its own goroutine, beside parsing and
	// the per-file blake3.
	h := sha256.New()
	hw := asyncwrite.New(h, 8, 256<<10)
	defer hw.Close()
	tee := io.TeeReader(r, hw)
	tr := newTarReader(tee)
	var entries []Entry
	files := map[string]firstLink{} // for hardlinks: path -> its content
	// What a hardlink may name: an earlier entry of this layer (not a
	// directory). A link to a file of a layer below cannot be unpacked:
	// each layer is unpacked into a directory of its own.
	linkable := map[string]int{} // path -> its entry
	hash := blake3.New()
	buf := make([]byte, 256<<10)
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil && len(entries) == 0 {
			return "", nil, fmt.Errorf("index layer: not a tar archive: %w", err)
		}
		if err != nil {
			return "", nil, fmt.Errorf("index layer: %w", err)
		}
		e, err := headerEntry(hdr)
		if err != nil {
			return "", nil, fmt.Errorf("index layer: entry %s: %w", quoteName(hdr.Name), err)
		}
		switch e.Type {
		case TypeFile:
			hash.Reset()
			if _, err := io.CopyBuffer(hash, tr, buf); err != nil {
				return "", nil, fmt.Errorf("index layer: entry %s: %w", quoteName(hdr.Name), err)
			}
			e.Digest = "blake3:" + hex.EncodeToString(hash.Sum(nil))
		case TypeHardlink:
			i, ok := linkable[e.Link]
			if !ok {
				return "", nil, fmt.Errorf("index layer: entry %s: hardlink to %s: no such file earlier in this layer (a hardlink names a file of its own layer)",
					quoteName(hdr.Name), quoteName(hdr.Linkname))
			}
			if t := &entries[i]; t.Type.node() {
				e = linkedNode(e.Path, t)
			} else if f, ok := files[e.Link]; ok {
				e.Size, e.Digest = f.size, f.digest
			}
		}
		switch e.Type {
		case TypeDir, TypeOpaque:
		case TypeWhiteout:
			delete(linkable, e.Path)
		default:
			linkable[e.Path] = len(entries)
		}
		entries = append(entries, e)
		if e.Type == TypeFile {
			files[e.Path] = firstLink{size: e.Size, digest: e.Digest}
		}
	}
	// The tar reader stops at the end marker; the diff id covers any padding.
	if _, err := io.CopyBuffer(io.Discard, tee, buf); err != nil {
		return "", nil, fmt.Errorf("index layer: %w", err)
	}
	if err := hw.Close(); err != nil {
		return "", nil, fmt.Errorf("index layer: %w", err)
	}
	return digest.NewDigest(digest.SHA256, h), entries, nil
}

// headerEntry turns a tar header into an index entry (without content
// digest). A name or hardlink target that unpack refuses as unsafe
// (absolute, or climbing above the root) is refused here, so a hostile
// layer never enters the store.
func headerEntry(hdr *tar.Header) (Entry, error) {
	rel, err := safeName(hdr.Name)
	if err != nil {
		return Entry{}, err
	}
	if hdr.Typeflag == tar.TypeLink {
		target, err := safeName(hdr.Linkname)
		if err != nil {
			return Entry{}, fmt.Errorf("hardlink to %q: %w", hdr.Linkname, err)
		}
		if target == rel {
			// Unpack refuses it (there is no file to link once the
			// name is cleared), as docker's does.
			return Entry{}, fmt.Errorf("hardlink to %q: names itself", hdr.Linkname)
		}
	}
	p := path.Clean("/" + rel)
	e := Entry{Path: p, Mode: uint32(hdr.Mode) & 0o7777, UID: hdr.Uid, GID: hdr.Gid,
		ModTime: hdr.ModTime.UTC(), Xattrs: xattrDigest(unpackedXattrs(paxXattrs(hdr.PAXRecords), hdr.Typeflag))}
	dir, base := path.Split(p)
	if base == opaqueName {
		return Entry{Path: path.Clean(dir), Type: TypeOpaque, ModTime: epoch.UTC()}, nil
	}
	if name, ok := strings.CutPrefix(base, whiteoutPrefix); ok {
		if err := checkWhiteout(name); err != nil {
			return Entry{}, err
		}
		return Entry{Path: path.Join(dir, name), Type: TypeWhiteout, ModTime: epoch.UTC()}, nil
	}
	switch hdr.Typeflag {
	case tar.TypeReg, tar.TypeGNUSparse:
		e.Type, e.Size = TypeFile, hdr.Size
	case tar.TypeDir:
		e.Type = TypeDir
	case tar.TypeSymlink:
		e.Type, e.Link = TypeSymlink, hdr.Linkname
	case tar.TypeLink:
		e.Type, e.Link = TypeHardlink, path.Clean("/"+hdr.Linkname)
	case tar.TypeChar, tar.TypeBlock:
		e.Type = TypeChar
		if hdr.Typeflag == tar.TypeBlock {
			e.Type = TypeBlock
		}
		e.Major, e.Minor = uint32(hdr.Devmajor), uint32(hdr.Devminor)
	case tar.TypeFifo:
		e.Type = TypeFIFO
	default:
		return e, fmt.Errorf("unsupported tar entry type %q", hdr.Typeflag)
	}
	return e, nil
}

// checkWhiteout refuses ".wh." entries that name no file below their
// directory: ".wh." alone (the directory itself, the root at the top),
// ".wh.." and ".wh...".
func checkWhiteout(name string) error {
	if !validName(name) {
		return fmt.Errorf("whiteout %q names no file in its directory (a whiteout of the root is invalid): %w",
			whiteoutPrefix+name, ErrUnsafePath)
	}
	return nil
}

// climbs reports whether name, read from the root, ever goes above it.
func climbs(name string) bool {
	depth := 0
	for _, part := range strings.Split(name, "/") {
		switch part {
		case "", ".":
		case "..":
			if depth--; depth < 0 {
				return true
			}
		default:
			depth++
		}
	}
	return false
}
