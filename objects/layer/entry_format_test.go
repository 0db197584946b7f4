package layer

import (
	"fmt"
	"strconv"
	"testing"
	"time"
)

// fmtEntry is the index line as the format defines it, written with fmt.
func fmtEntry(b []byte, e *Entry) []byte {
	dash := func(s string) string {
		if s == "" {
			return "-"
		}
		return s
	}
	b = append(b, byte(e.Type), ' ')
	b = append(b, fmt.Sprintf("%04o %d %d %d %d.%09d %s %s ", e.Mode, e.UID, e.GID, e.Size,
		e.ModTime.Unix(), e.ModTime.Nanosecond(), dash(e.Digest), dash(e.Xattrs))...)
	if e.Type == TypeChar || e.Type == TypeBlock {
		b = append(b, fmt.Sprintf("%d:%d ", e.Major, e.Minor)...)
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

// appendEntry builds lines with strconv for speed; they must stay the
// lines fmt makes of the format (zero-padded mode and nanoseconds).
func TestAppendEntryMatchesFormat(t *testing.T) {
	for _, mode := range []uint32{0, 1, 7, 8, 0o77, 0o100, 0o644, 0o755, 0o1777, 0o4755, 0o7777} {
		for _, ns := range []int{0, 1, 9, 10, 123456789, 999999999, 100000000, 5000} {
			for _, sec := range []int64{0, 1, 1700000000, -5} {
				e := Entry{Path: "/a b\n", Type: TypeChar, Mode: mode, UID: 1000, GID: -1, Size: 42, ModTime: time.Unix(sec, int64(ns)).UTC(), Digest: "blake3:ab", Major: 4, Minor: 64, Link: "x"}
				for _, ty := range []EntryType{TypeChar, TypeFile} {
					e.Type = ty
					a, b := string(fmtEntry(nil, &e)), string(appendEntry(nil, &e))
					if a != b {
						t.Fatalf("%q != %q", a, b)
					}
				}
			}
		}
	}
}
