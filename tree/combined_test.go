package tree

import (
	"bytes"
	"strings"
	"testing"

	"github.com/strata-sh/strata/objects/layer"
)

// The expected outputs are git 2.39's (git show --format= -U N -c or
// --cc of a merge of the same blobs), without the index line.
func TestWriteCombined(t *testing.T) {
	for _, tc := range []struct {
		name, p1, p2, result string
		context              int
		dense                bool
		want                 string
	}{{
		// A line lost from both parents is one line with two columns;
		// a line new to both is "++".
		name: "lost from both", p1: "one\nsame\ntwo\n", p2: "one\nsame\nthree\n", result: "one\n2\n", context: 3,
		want: "diff --combined f\n--- a/f\n+++ b/f\n@@@ -1,3 -1,3 +1,2 @@@\n  one\n--same\n- two\n -three\n++2\n",
	}, {
		// A line lost from each parent and one new to both.
		name: "both changed", p1: "a\nb\nc\nd\n", p2: "a\nB\nc\nd\n", result: "a\nc\nd\nz\n", context: 3, dense: true,
		want: "diff --cc f\n--- a/f\n+++ b/f\n@@@ -1,4 -1,4 +1,4 @@@\n  a\n- b\n -B\n  c\n  d\n++z\n",
	}, {
		// --cc leaves out the hunk where the result took the second
		// parent's line (9 dev); -c keeps it.
		name: "dense", p1: "1\n2 main\n3\n4\n5\n6\n7\n8\n9\n", p2: "1\n2 dev\n3\n4\n5\n6\n7\n8\n9 dev\n", result: "1\n2 both\n3\n4\n5\n6\n7\n8\n9 dev\n", context: 1, dense: true,
		want: "diff --cc f\n--- a/f\n+++ b/f\n@@@ -1,3 -1,3 +1,3 @@@\n  1\n- 2 main\n -2 dev\n++2 both\n  3\n",
	}, {
		name: "not dense", p1: "1\n2 main\n3\n4\n5\n6\n7\n8\n9\n", p2: "1\n2 dev\n3\n4\n5\n6\n7\n8\n9 dev\n", result: "1\n2 both\n3\n4\n5\n6\n7\n8\n9 dev\n", context: 1,
		want: "diff --combined f\n--- a/f\n+++ b/f\n@@@ -1,3 -1,3 +1,3 @@@\n  1\n- 2 main\n -2 dev\n++2 both\n  3\n@@@ -8,2 -8,2 +8,2 @@@\n  8\n- 9\n+ 9 dev\n",
	}, {
		// The function line, as git's combined diff writes it: the
		// last byte that is no space left out ("f(" of "f()").
		name: "function line", p1: "f()\n1\n2\n3\n4\n5\n6\n7\n8\n", p2: "f()\n1\n2\n3\n4\n5\n6\n7\n8 one\n", result: "f()\n1\n2\n3\n4\n5\n6\n7\n8 two\n", context: 1, dense: true,
		want: "diff --cc f\n--- a/f\n+++ b/f\n@@@ -8,2 -8,2 +8,2 @@@ f(\n  7\n- 8\n -8 one\n++8 two\n",
	}, {
		// -U0 with lines lost at the end: git's count is an unsigned
		// -1.
		name: "U0 at the end", p1: "_1\nx2\nb1\nn4\n_2\nX2\n", p2: "x1\nX0\nn4\nx2\n_2\n", result: "x1\nX0\nn4\n_2\n", context: 0,
		want: "diff --combined f\n--- a/f\n+++ b/f\n@@@ -1,3 -1,2 +1,2 @@@\n- _1\n- x2\n- b1\n+ x1\n+ X0\n@@@ -5,0 -4,0 +4,18446744073709551615 @@@ n\n -x2\n- X2\n",
	}} {
		t.Run(tc.name, func(t *testing.T) {
			e := &layer.Entry{Type: layer.TypeFile, Mode: 0o644}
			var b bytes.Buffer
			err := WriteCombined(&b, "/f", CombinedSide{Entry: e, Content: []byte(tc.result)},
				[]CombinedSide{{Entry: e, Content: []byte(tc.p1), Status: 'M'}, {Entry: e, Content: []byte(tc.p2), Status: 'M'}},
				CombinedOptions{Context: tc.context, Dense: tc.dense})
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, l := range strings.SplitAfter(b.String(), "\n") {
				if !strings.HasPrefix(l, "index ") {
					got = append(got, l)
				}
			}
			if g := strings.Join(got, ""); g != tc.want {
				t.Errorf("got\n%s\nwant\n%s", g, tc.want)
			}
		})
	}
}
