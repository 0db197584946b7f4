package layer

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"
	"unsafe"
)

// EntryType is the kind of a file index entry. Its value is the letter
// used in the index file.
type EntryType byte

const (
	TypeFile     EntryType = 'f'
	TypeDir      EntryType = 'd'
	TypeSymlink  EntryType = 'l'
	TypeHardlink EntryType = 'h' // a further name of a regular file earlier in the layer
	TypeChar     EntryType = 'c'
	TypeBlock    EntryType = 'b'
	TypeFIFO     EntryType = 'p'
	TypeWhiteout EntryType = 'w' // Path is deleted from the layers below
	TypeOpaque   EntryType = 'o' // Path is a directory whose lower content is hidden
)

// node says whether t is a symlink, a device or a FIFO.
func (t EntryType) node() bool {
	return t == TypeSymlink || t == TypeChar || t == TypeBlock || t == TypeFIFO
}

// linkedNode is the entry of a hardlink at p to node, an earlier
// symlink, device or FIFO of its layer: node's, at p. A checkout links
// the two names (one inode, as tar -x does), and both show node's type
// and metadata; a commit writes each as one of its own. An entry h
// always names a regular file, as the readers of a file map take it.
func linkedNode(p string, node *Entry) Entry {
	e := *node
	e.Path = p
	return e
}

func (t EntryType) valid() bool {
	return strings.IndexByte("fdlhcbpwo", byte(t)) >= 0
}

// Entry is one line of a layer's file index.
type Entry struct {
	Path    string    // absolute and clean: "/etc/passwd"
	Type    EntryType //
	Mode    uint32    // permission bits with setuid, setgid and sticky (07777)
	UID     int       //
	GID     int       //
	Size    int64     // content size of a file (and of a hardlink's target)
	ModTime time.Time // UTC
	Digest  string    // "blake3:<hex>" of a file's content (and a hardlink's target), else ""
	Xattrs  string    // "blake3:<hex>" of the sorted extended attributes, "" if none
	Link    string    // symlink target, or the path a hardlink names ("/bin/x")
	Major   uint32    // devices only
	Minor   uint32
}

// ErrBadIndex is returned by DecodeIndex for a malformed index file.
var ErrBadIndex = errors.New("malformed file index")

const indexHeader = "strata-index 1"

// EncodeIndex writes entries in the file index text format.
func EncodeIndex(w io.Writer, entries []Entry) error {
	bw := bufio.NewWriterSize(w, 64<<10)
	bw.WriteString(indexHeader + "\n")
	var line []byte
	for i := range entries {
		e := &entries[i]
		line = appendEntry(line[:0], e)
		if _, err := bw.Write(line); err != nil {
			return fmt.Errorf("write file index: %w", err)
		}
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("write file index: %w", err)
	}
	return nil
}

func appendEntry(b []byte, e *Entry) []byte {
	dash := func(b []byte, s string) []byte {
		if s == "" {
			s = "-"
		}
		return append(append(b, s...), ' ')
	}
	// strconv, not fmt: an index has an entry per file (issue 15).
	b = append(b, byte(e.Type), ' ')
	for m := max(e.Mode, 1); m < 0o1000; m <<= 3 { // %04o
		b = append(b, '0')
	}
	b = strconv.AppendUint(b, uint64(e.Mode), 8)
	b = append(b, ' ')
	b = strconv.AppendInt(b, int64(e.UID), 10)
	b = append(b, ' ')
	b = strconv.AppendInt(b, int64(e.GID), 10)
	b = append(b, ' ')
	b = strconv.AppendInt(b, e.Size, 10)
	b = append(b, ' ')
	b = strconv.AppendInt(b, e.ModTime.Unix(), 10)
	b = append(b, '.')
	ns := e.ModTime.Nanosecond()
	for d := 100000000; d > 1 && ns < d; d /= 10 { // %09d
		b = append(b, '0')
	}
	b = strconv.AppendInt(b, int64(ns), 10)
	b = append(b, ' ')
	b = dash(b, e.Digest)
	b = dash(b, e.Xattrs)
	if e.Type == TypeChar || e.Type == TypeBlock {
		b = strconv.AppendUint(b, uint64(e.Major), 10)
		b = append(b, ':')
		b = strconv.AppendUint(b, uint64(e.Minor), 10)
		b = append(b, ' ')
	} else {
		b = append(b, "- "...)
	}
	b = strconv.AppendQuote(b, e.Path)
	if e.Link != "" {
		b = append(b, ' ')
		b = strconv.AppendQuote(b, e.Link)
	}
	return append(b, '\n')
}

// DecodeIndex reads a file index written by EncodeIndex.
func DecodeIndex(r io.Reader) ([]Entry, error) {
	var sb strings.Builder
	if f, ok := r.(*os.File); ok {
		if fi, err := f.Stat(); err == nil && fi.Mode().IsRegular() {
			sb.Grow(int(fi.Size()) + 1)
		}
	}
	if _, err := io.Copy(&sb, r); err != nil {
		return nil, fmt.Errorf("read file index: %w", err)
	}
	return decodeIndex(sb.String())
}

// decodeIndex parses a whole index held in one string. The entries'
// strings are substrings of it: a million entries then cost one
// allocation the size of the file, not several small ones each, and the
// slice is sized once (issue 15: status on a million files).
func decodeIndex(s string) ([]Entry, error) {
	line, s, _ := strings.Cut(s, "\n")
	if strings.TrimSuffix(line, "\r") != indexHeader {
		return nil, fmt.Errorf("%w: missing header %q", ErrBadIndex, indexHeader)
	}
	out := make([]Entry, 0, strings.Count(s, "\n")+1)
	for n := 2; s != ""; n++ {
		line, s, _ = strings.Cut(s, "\n")
		e, err := parseEntry(strings.TrimSuffix(line, "\r"))
		if err != nil {
			return nil, fmt.Errorf("%w: line %d: %v", ErrBadIndex, n, err)
		}
		out = append(out, e)
	}
	return out, nil
}

func parseEntry(line string) (Entry, error) {
	var e Entry
	// Nine fields cut by single spaces, then the quoted path (and link).
	var f [10]string
	tail := line
	for i := 0; i < 9; i++ {
		var ok bool
		if f[i], tail, ok = strings.Cut(tail, " "); !ok {
			return e, errors.New("bad fields")
		}
	}
	f[9] = tail
	if len(f[0]) != 1 || !EntryType(f[0][0]).valid() {
		return e, errors.New("bad fields")
	}
	e.Type = EntryType(f[0][0])
	mode, err1 := strconv.ParseUint(f[1], 8, 32)
	uid, err2 := strconv.Atoi(f[2])
	gid, err3 := strconv.Atoi(f[3])
	size, err4 := strconv.ParseInt(f[4], 10, 64)
	sec, nsec, ok := strings.Cut(f[5], ".")
	s, err5 := strconv.ParseInt(sec, 10, 64)
	ns, err6 := strconv.ParseInt(nsec, 10, 64)
	if err := errors.Join(err1, err2, err3, err4, err5, err6); err != nil || !ok {
		return e, fmt.Errorf("bad number: %v", err)
	}
	e.Mode, e.UID, e.GID, e.Size = uint32(mode), uid, gid, size
	e.ModTime = time.Unix(s, ns).UTC()
	if f[6] != "-" {
		e.Digest = f[6]
	}
	if f[7] != "-" {
		e.Xattrs = f[7]
	}
	if f[8] != "-" {
		maj, min, _ := strings.Cut(f[8], ":")
		a, err1 := strconv.ParseUint(maj, 10, 32)
		b, err2 := strconv.ParseUint(min, 10, 32)
		if err := errors.Join(err1, err2); err != nil {
			return e, fmt.Errorf("bad device: %v", err)
		}
		e.Major, e.Minor = uint32(a), uint32(b)
	}
	rest := f[9]
	q, err := strconv.QuotedPrefix(rest)
	if err != nil {
		return e, fmt.Errorf("bad path: %v", err)
	}
	e.Path, _ = strconv.Unquote(q)
	rest = rest[len(q):]
	if rest != "" {
		if rest[0] != ' ' {
			return e, errors.New("bad link")
		}
		q, err := strconv.QuotedPrefix(rest[1:])
		if err != nil || len(q) != len(rest)-1 {
			return e, errors.New("bad link")
		}
		e.Link, _ = strconv.Unquote(q)
	}
	return e, nil
}

// DecodeIndexFunc reads a file index written by EncodeIndex line by line
// and returns only the entries keep accepts, so that a lookup of a few
// paths in a million-entry index holds those few, not the index.
func DecodeIndexFunc(r io.Reader, keep func(*Entry) bool) ([]Entry, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 256<<10), 1<<20)
	if !sc.Scan() || sc.Text() != indexHeader {
		if err := sc.Err(); err != nil {
			return nil, fmt.Errorf("read file index: %w", err)
		}
		return nil, fmt.Errorf("%w: missing header %q", ErrBadIndex, indexHeader)
	}
	var out []Entry
	var e Entry // one for every line: keep makes it escape
	for n := 2; sc.Scan(); n++ {
		b := sc.Bytes()
		if len(b) == 0 {
			return nil, fmt.Errorf("%w: line %d: bad fields", ErrBadIndex, n)
		}
		// A view of the scanner's buffer: parsed without copying, and
		// the strings of the entries kept are cloned below.
		var err error
		if e, err = parseEntry(unsafe.String(&b[0], len(b))); err != nil {
			return nil, fmt.Errorf("%w: line %d: %v", ErrBadIndex, n, err)
		}
		if keep(&e) {
			e.Path, e.Digest, e.Xattrs, e.Link = strings.Clone(e.Path), strings.Clone(e.Digest), strings.Clone(e.Xattrs), strings.Clone(e.Link)
			out = append(out, e)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read file index: %w", err)
	}
	return out, nil
}
