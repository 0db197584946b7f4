package tree

import (
	"bytes"
	"math/rand"
	"strings"
	"testing"
)

// TestCountLines: the counts of the streamed line hashes are those of
// the line diff of the texts held whole (LineCounts), written in pieces
// of every size, for texts with and without a last newline.
func TestCountLines(t *testing.T) {
	rng := rand.New(rand.NewSource(1))
	words := []string{"a\n", "b\n", "c\n", "dd\n", "e\n"}
	text := func(n int) []byte {
		var b strings.Builder
		for i := 0; i < n; i++ {
			b.WriteString(words[rng.Intn(len(words))])
		}
		if rng.Intn(2) == 0 {
			b.WriteString("tail")
		}
		return []byte(b.String())
	}
	for i := 0; i < 200; i++ {
		a, b := text(rng.Intn(40)), text(rng.Intn(40))
		wantAdd, wantDel := LineDiff{}.LineCounts(a, b)
		ta, tb := &LineText{}, &LineText{}
		for _, p := range []struct {
			t *LineText
			b []byte
		}{{ta, a}, {tb, b}} {
			step := 1 + rng.Intn(5)
			for rest := p.b; len(rest) > 0; rest = rest[min(step, len(rest)):] {
				p.t.Write(rest[:min(step, len(rest))])
			}
			p.t.Close()
		}
		add, del := CountLines(ta.Lines, tb.Lines)
		if add != wantAdd || del != wantDel {
			t.Fatalf("%q -> %q: CountLines +%d -%d, LineCounts +%d -%d", a, b, add, del, wantAdd, wantDel)
		}
	}
}

// TestLineTextBinary: git's test, a NUL in the first 8,000 bytes, across
// writes; a NUL after them is text.
func TestLineTextBinary(t *testing.T) {
	for _, c := range []struct {
		at     int
		binary bool
	}{{0, true}, {7999, true}, {8000, false}} {
		b := bytes.Repeat([]byte("x"), 9000)
		b[c.at] = 0
		tx := &LineText{}
		tx.Write(b[:5000])
		tx.Write(b[5000:])
		tx.Close()
		if tx.Binary != c.binary {
			t.Errorf("NUL at %d: binary %v, want %v", c.at, tx.Binary, c.binary)
		}
	}
}
