package main

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

var (
	docSentence = regexp.MustCompile(`[^.]*(?:\.[0-9a-z)][^.]*)*`)
	docFigure   = regexp.MustCompile(`\b([0-9]+(?:\.[0-9]+)?) ?(?:ms|s|x)\b`)
)

// TestDocsFiguresCitedAreThere: a sentence of the user docs that gives
// docs/benchmarks.md as its source gives only times and ratios that
// docs/benchmarks.md holds, so that a figure cannot stay attributed to
// the benchmarks after make bench rewrote them. (Figures of a dated
// investigation say when and where they were measured instead.)
func TestDocsFiguresCitedAreThere(t *testing.T) {
	bench, err := os.ReadFile(filepath.Join("..", "..", "docs", "benchmarks.md"))
	if err != nil {
		t.Fatal(err)
	}
	cited := 0
	for _, doc := range userDocs {
		b, err := os.ReadFile(filepath.Join("..", "..", doc))
		if err != nil {
			t.Fatal(err)
		}
		for _, para := range strings.Split(string(b), "\n\n") {
			para = strings.Join(strings.Fields(para), " ")
			for _, s := range docSentence.FindAllString(para, -1) {
				if !strings.Contains(s, "benchmarks.md") {
					continue
				}
				cited++
				for _, m := range docFigure.FindAllStringSubmatch(s, -1) {
					if !strings.Contains(string(bench), m[1]) {
						t.Errorf("%s cites docs/benchmarks.md for %q, which it does not hold: %s", doc, m[0], strings.TrimSpace(s))
					}
				}
			}
		}
	}
	if cited < 3 {
		t.Fatalf("only %d sentences cite docs/benchmarks.md: the parser lost them", cited)
	}
}
