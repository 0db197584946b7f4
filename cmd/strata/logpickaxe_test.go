package main

import (
	"strings"
	"testing"
)

// TestNeedleCounterAcrossWrites: -S counts occurrences as git does,
// without overlaps, whatever pieces the content comes in (a file
// streamed from a layer arrives in pieces that may cut one in two).
func TestNeedleCounterAcrossWrites(t *testing.T) {
	for _, tc := range []struct {
		content, needle string
		fold            bool
		want            int
	}{
		{"abcabcabc", "abc", false, 3},
		{"aaaa", "aa", false, 2}, // not 3: no overlaps
		{"xxABCxxabc", "abc", true, 2},
		{"abab", "abc", false, 0},
	} {
		for size := 1; size <= len(tc.content); size++ {
			n := 0
			c := &needleCounter{needle: []byte(tc.needle), fold: tc.fold, add: func() { n++ }}
			if tc.fold {
				c.needle = []byte(strings.ToLower(tc.needle))
			}
			for i := 0; i < len(tc.content); i += size {
				c.Write([]byte(tc.content[i:min(i+size, len(tc.content))]))
			}
			if n != tc.want {
				t.Errorf("%q in %q, pieces of %d: %d, want %d", tc.needle, tc.content, size, n, tc.want)
			}
		}
	}
}
